"""PostgreSQL's kept BM25 statistics (migration 0017): per owner, the chunk count and length, and
per owner and lexeme, the chunks holding it. They must equal what the postings say after every kind
of chunk write, concurrent ones included, and a search of owners read whole (which ranks with them)
must return exactly what the same search computing every statistic from its postings returns."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from alembic import command
from app.core.migrations import alembic_config
from app.documents.models import Chunk
from app.documents.repository import replace_chunks
from app.providers.keyword import KeywordScope
from app.providers.keyword.postgres_fts import PostgresKeywordIndex
from tests.conftest import migrated_pg_database
from tests.providers.test_keyword_index import (
    VOCABULARY,
    add_doc,
    add_owner,
    chunk_rows,
    random_corpus,
    random_query,
    random_text,
)

KEPT = ("SELECT owner_id, chunks, length FROM keyword_owner_stats WHERE chunks > 0",
        "SELECT owner_id, lexeme, chunks FROM keyword_lexeme_stats WHERE chunks > 0")
FROM_POSTINGS = (
    "SELECT owner_id, sum(chunks), sum(length) FROM keyword_stats GROUP BY owner_id "
    "HAVING sum(chunks) > 0",
    "SELECT owner_id, lexeme, count(*) FROM keyword_postings GROUP BY owner_id, lexeme")


@pytest.fixture
async def sessions(pg_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(pg_database)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def assert_kept_exactly(session: AsyncSession) -> None:
    for kept, recomputed in zip(KEPT, FROM_POSTINGS, strict=True):
        got = sorted(tuple(r) for r in (await session.execute(text(kept))).all())
        want = sorted(tuple(r) for r in (await session.execute(text(recomputed))).all())
        assert got == want
    # No row is left behind at zero (a deleted owner's or lexeme's last chunk removes it).
    zeros = ("SELECT count(*) FROM keyword_owner_stats WHERE chunks <= 0",
             "SELECT count(*) FROM keyword_lexeme_stats WHERE chunks <= 0")
    for statement in zeros:
        assert (await session.execute(text(statement))).scalar() == 0
    await session.commit()


async def assert_same_ranking(session: AsyncSession, owners: list[str], rng: random.Random) -> None:
    index = PostgresKeywordIndex()
    scope_sets = [[KeywordScope(owner_id=owners[0])], [KeywordScope(owner_id=o) for o in owners]]
    for _ in range(15):
        query = random_query(rng)
        for scopes in scope_sets:
            for limit in (1, 5, 40):
                kept = await index.search(session, scopes, query, limit=limit)
                recomputed = await index.search(session, scopes, query, limit=limit,
                                                from_postings=True)
                assert kept == recomputed, (query, limit)  # ids, order and scores, to the bit
    await session.commit()


async def test_kept_statistics_follow_every_chunk_write(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rng = random.Random(3)
    async with sessions() as session:
        corpus = await random_corpus(session, rng, owners=3, docs=5)
        owners = [docs[0].owner for docs in corpus]
        await assert_kept_exactly(session)
        await assert_same_ranking(session, owners, rng)

        # A new version next to the one searched, then the old one replaced (reprocessing).
        doc = corpus[0][0]
        await replace_chunks(session, doc.id, chunk_rows(doc.id, doc.owner, [
            ([], random_text(rng, 5, 30)) for _ in range(3)], 2), keep_version=1)
        await session.commit()
        await assert_kept_exactly(session)
        await replace_chunks(session, doc.id, chunk_rows(doc.id, doc.owner, [
            ([], random_text(rng, 5, 30))], 3))
        await session.commit()
        await assert_kept_exactly(session)

        # A chunk's text rewritten in place (the UPDATE trigger), and a word only it holds.
        await session.execute(update(Chunk).where(Chunk.document_id == corpus[1][0].id)
                              .values(text="zyzzogeton " + random_text(rng, 3, 10)))
        await session.commit()
        await assert_kept_exactly(session)

        # Documents of two owners deleted in one statement (a shared collection's deletion).
        gone = [corpus[1][1].id, corpus[2][1].id, corpus[2][2].id]
        await session.execute(delete(Chunk).where(Chunk.document_id.in_(gone)))
        await session.commit()
        await assert_kept_exactly(session)
        await assert_same_ranking(session, owners, rng)

        # An owner's last chunk gone: their row goes too.
        await session.execute(delete(Chunk).where(Chunk.owner_id == owners[2]))
        await session.commit()
        await assert_kept_exactly(session)
        assert (await session.execute(text(
            "SELECT count(*) FROM keyword_owner_stats WHERE owner_id = :o"), {"o": owners[2]}
        )).scalar() == 0
        await session.commit()


async def test_concurrent_writers_keep_the_statistics_exact(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # Many transactions at once on two owners' statistics (the same common words in every chunk):
    # uploads, reprocessing and deletions. None may deadlock or lose a count.
    async with sessions() as session:
        owners = [await add_owner(session), await add_owner(session)]
        existing = [await add_doc(session, owners[n % 2], [([], " ".join(VOCABULARY[:8]))] * 3)
                    for n in range(6)]
        await session.commit()

    async def upload(n: int) -> None:
        async with sessions() as s:
            await add_doc(s, owners[n % 2], [([], " ".join(VOCABULARY[: 5 + n % 7]))] * (1 + n % 4))

    async def reprocess(n: int) -> None:
        doc = existing[n]
        async with sessions() as s:
            await replace_chunks(s, doc.id, chunk_rows(doc.id, doc.owner, [
                ([], " ".join(VOCABULARY[n: n + 9]))] * 2, 2))
            await s.commit()

    async def remove_both_owners() -> None:
        async with sessions() as s:
            await s.execute(delete(Chunk).where(Chunk.document_id.in_([existing[4].id,
                                                                       existing[5].id])))
            await s.commit()

    await asyncio.wait_for(asyncio.gather(
        *(upload(n) for n in range(12)), *(reprocess(n) for n in range(4)), remove_both_owners()),
        timeout=120)
    async with sessions() as session:
        await assert_kept_exactly(session)


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A database of its own (migrated to head), since this test moves it down and up."""
    with migrated_pg_database("citewise_mig17") as url:
        yield url


async def test_0017_fills_the_statistics_and_the_downgrade_removes_them(fresh_pg_url: str) -> None:
    engine = create_async_engine(fresh_pg_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            config = alembic_config(fresh_pg_url)
            await asyncio.to_thread(command.downgrade, config, "0016")
            owner = await add_owner(session, str(uuid.uuid4()))
            await add_doc(session, owner, [(["Basalt"], "Basalt columns cool slowly."),
                                           ([], "Columns of basalt and tuff.")])
            await session.commit()  # written by 0011's triggers only

            await asyncio.to_thread(command.upgrade, config, "head")
            await assert_kept_exactly(session)
            await add_doc(session, owner, [([], "Tuff is volcanic ash turned to rock.")])
            await assert_kept_exactly(session)

            await asyncio.to_thread(command.downgrade, config, "0016")
            tables = (await session.execute(text(
                "SELECT count(*) FROM pg_class WHERE relname IN "
                "('keyword_owner_stats', 'keyword_lexeme_stats')"))).scalar()
            assert tables == 0
            await add_doc(session, owner, [([], "Obsidian is volcanic glass.")])  # 0011 again
            hits = await PostgresKeywordIndex().search(
                session, KeywordScope(owner_id=owner), "volcanic", limit=5, from_postings=True)
            assert len(hits) == 2
            await session.commit()
            await asyncio.to_thread(command.upgrade, config, "head")
    finally:
        await engine.dispose()
