"""PostgreSQL's kept BM25 statistics: per owner (migration 0017) and per owner and space (0019),
the chunk count and length, and per lexeme the chunks holding it. They must equal what the postings
say after every kind of chunk write and every move of a document between spaces, concurrent ones
included, and a search of owners read whole or of scopes of spaces (which rank with them) must
return exactly what the same search computing every statistic from its postings returns."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from alembic import command
from app.collections.models import Collection
from app.core.migrations import alembic_config
from app.documents.models import Chunk, Document
from app.documents.repository import replace_chunks
from app.providers.keyword import KeywordScope
from app.providers.keyword.postgres_fts import (
    HEADING_WEIGHT,
    K1,
    B,
    PostgresKeywordIndex,
    Ready,
    _statement,
)
from tests.conftest import migrated_pg_database
from tests.providers.test_keyword_index import (
    VOCABULARY,
    add_doc,
    add_owner,
    chunk_rows,
    random_corpus,
    random_query,
    random_text,
    statements,
)

KEPT = ("SELECT owner_id, chunks, length FROM keyword_owner_stats WHERE chunks > 0",
        "SELECT owner_id, lexeme, chunks FROM keyword_lexeme_stats WHERE chunks > 0")
FROM_POSTINGS = (
    "SELECT owner_id, sum(chunks), sum(length) FROM keyword_stats GROUP BY owner_id "
    "HAVING sum(chunks) > 0",
    "SELECT owner_id, lexeme, count(*) FROM keyword_postings GROUP BY owner_id, lexeme")
# Per space (0019), against the documents' spaces now: every row, none at zero.
KEPT_PER_SPACE = (
    "SELECT owner_id, space, chunks, length FROM keyword_space_stats",
    "SELECT owner_id, space, lexeme, chunks FROM keyword_space_lexemes",
    "SELECT document_id, space FROM keyword_stats")
FROM_DOCUMENTS = (
    "SELECT c.owner_id, coalesce(d.collection_id, ''), count(*), sum(keyword_token_count(c.tsv)) "
    "FROM chunks c JOIN documents d ON d.id = c.document_id GROUP BY 1, 2",
    "SELECT p.owner_id, coalesce(d.collection_id, ''), p.lexeme, count(*) FROM keyword_postings p "
    "JOIN documents d ON d.id = split_part(p.chunk_id, ':', 1) GROUP BY 1, 2, 3",
    "SELECT DISTINCT c.document_id, coalesce(d.collection_id, '') FROM chunks c "
    "JOIN documents d ON d.id = c.document_id")


@pytest.fixture
async def sessions(pg_database: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(pg_database)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def assert_kept_exactly(session: AsyncSession) -> None:
    for kept, recomputed in (*zip(KEPT, FROM_POSTINGS, strict=True),
                             *zip(KEPT_PER_SPACE, FROM_DOCUMENTS, strict=True)):
        got = sorted(tuple(r) for r in (await session.execute(text(kept))).all())
        want = sorted(tuple(r) for r in (await session.execute(text(recomputed))).all())
        assert got == want
    # No row is left behind at zero (a deleted owner's or lexeme's last chunk removes it).
    zeros = ("SELECT count(*) FROM keyword_owner_stats WHERE chunks <= 0",
             "SELECT count(*) FROM keyword_lexeme_stats WHERE chunks <= 0",
             "SELECT count(*) FROM keyword_space_stats WHERE chunks <= 0",
             "SELECT count(*) FROM keyword_space_lexemes WHERE chunks <= 0")
    for statement in zeros:
        assert (await session.execute(text(statement))).scalar() == 0
    await session.commit()


async def space_scopes(session: AsyncSession, owner: str) -> list[KeywordScope]:
    """Every scope of some but not all of `owner`'s spaces, as the access rule builds them: the
    documents of those spaces ("only these"), or all but the others' ("all but these")."""
    by_space: dict[str, set[str]] = {}
    for doc_id, space in (await session.execute(text(
            "SELECT id, coalesce(collection_id, '') FROM documents WHERE owner_id = :o"),
            {"o": owner})).all():
        by_space.setdefault(space, set()).add(doc_id)
    names = sorted(by_space)
    scopes: list[KeywordScope] = []
    for mask in range(1, 2 ** len(names) - 1):
        chosen = frozenset(n for b, n in enumerate(names) if mask >> b & 1)
        wanted = frozenset(d for n in chosen for d in by_space[n])
        others = frozenset(d for n in names if n not in chosen for d in by_space[n])
        scopes += [KeywordScope(owner_id=owner, document_ids=wanted, spaces=chosen),
                   KeywordScope(owner_id=owner, exclude_document_ids=others, spaces=chosen)]
    return scopes


async def assert_same_ranking(session: AsyncSession, owners: list[str], rng: random.Random) -> None:
    index = PostgresKeywordIndex()
    scope_sets = [[KeywordScope(owner_id=owners[0])], [KeywordScope(owner_id=o) for o in owners]]
    # Scopes of spaces: alone, and beside owners read whole (a reader's partitions).
    for narrowed in await space_scopes(session, owners[0]):
        scope_sets += [[narrowed], [narrowed, *(KeywordScope(owner_id=o) for o in owners[1:])]]
    for _ in range(15):
        query = random_query(rng)
        for scopes in scope_sets:
            for limit in (1, 5, 40):
                with statements(session) as sent:
                    kept = await index.search(session, scopes, query, limit=limit)
                # The kept statistics were read, no statistic computed from the postings.
                assert not kept or any("weights AS MATERIALIZED" in sql and "hits AS" not in sql
                                       for sql, _ in sent), sent
                recomputed = await index.search(session, scopes, query, limit=limit,
                                                from_postings=True)
                assert kept == recomputed, (query, limit)  # ids, order and scores, to the bit
    await session.commit()


async def add_collection(session: AsyncSession) -> str:
    collection = Collection(name=f"c-{uuid.uuid4().hex[:6]}")
    session.add(collection)
    await session.flush()
    return collection.id


async def move(session: AsyncSession, doc_ids: list[str], collection_id: str | None) -> None:
    """One UPDATE statement, as the app's moves and a collection's deletion (FK SET NULL) are."""
    await session.execute(update(Document).where(Document.id.in_(doc_ids))
                          .values(collection_id=collection_id))
    await session.commit()


async def test_kept_statistics_follow_every_chunk_write(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rng = random.Random(3)
    async with sessions() as session:
        corpus = await random_corpus(session, rng, owners=3, docs=5)
        owners = [docs[0].owner for docs in corpus]
        await assert_kept_exactly(session)
        await assert_same_ranking(session, owners, rng)

        # Documents moved between spaces: one alone, several in one statement, and back.
        one, two = await add_collection(session), await add_collection(session)
        await move(session, [corpus[0][0].id], one)
        await assert_kept_exactly(session)
        await move(session, [corpus[0][1].id, corpus[0][2].id, corpus[1][0].id], two)
        await assert_kept_exactly(session)
        await assert_same_ranking(session, owners, rng)  # owner 0: private, one, two
        await move(session, [corpus[0][2].id], one)
        await move(session, [corpus[1][0].id], None)
        await assert_kept_exactly(session)
        # A document with no chunks yet moves; its chunks then arrive in its new space.
        empty = Document(id=str(uuid.uuid4()), owner_id=owners[1], filename="e.txt",
                         mime_type="text/plain", kind="text", size_bytes=1, content_hash="e",
                         storage_key="e", status="processing")
        session.add(empty)
        await session.commit()
        await move(session, [empty.id], one)
        await replace_chunks(session, empty.id, chunk_rows(empty.id, owners[1], [
            ([], random_text(rng, 5, 30)) for _ in range(2)], 1))
        await session.commit()
        await assert_kept_exactly(session)

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

        # A collection deleted: its documents return to their uploaders' private spaces.
        await session.execute(delete(Collection).where(Collection.id == two))
        await session.commit()
        await assert_kept_exactly(session)
        await assert_same_ranking(session, owners, rng)
        # Documents deleted (their chunks cascade after the documents' rows are gone).
        await session.execute(delete(Document).where(Document.id.in_(
            [corpus[0][2].id, empty.id])))
        await session.commit()
        await assert_kept_exactly(session)

        # An owner's last chunk gone: their row goes too.
        await session.execute(delete(Chunk).where(Chunk.owner_id == owners[2]))
        await session.commit()
        await assert_kept_exactly(session)
        assert (await session.execute(text(
            "SELECT count(*) FROM keyword_owner_stats WHERE owner_id = :o"), {"o": owners[2]}
        )).scalar() == 0
        await session.commit()


def postings_paths(plan: dict[str, Any], above: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """For each scan of keyword_postings in an EXPLAIN (FORMAT JSON) plan, the node types above it."""
    if plan.get("Relation Name") == "keyword_postings":
        yield above
    for child in plan.get("Plans", []):
        yield from postings_paths(child, (*above, plan["Node Type"]))


async def test_the_kept_ranking_reads_each_scope_and_terms_postings_by_key(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Ranking with the kept statistics, each weight row (a scope's term) finds its own postings
    under a nested loop; the postings are never all hashed against the weights, with which the
    statement took 36 % longer for a reader of 11 owners (docs/benchmarks.md §5b, 2026-12-06)."""
    rng = random.Random(11)
    async with sessions() as session:
        corpus = await random_corpus(session, rng, owners=3, docs=5)
        owners = [docs[0].owner for docs in corpus]
        await move(session, [corpus[0][0].id], await add_collection(session))
        narrowed = await space_scopes(session, owners[0])
        whole = [KeywordScope(owner_id=o) for o in owners[1:]]
        index = PostgresKeywordIndex()
        query = " ".join(VOCABULARY[:8])
        for scopes in (whole, [narrowed[0], *whole], [narrowed[1], *whole]):
            ready = await index.prepare(session, query)  # the ranking's planner settings
            assert isinstance(ready, Ready) and ready.lexemes
            stmt, params = _statement(scopes)
            params |= {"lexemes": ready.lexemes, "limit": 10, "k1": K1, "b": B,
                       "heading_weight": HEADING_WEIGHT}
            plan = (await session.execute(text("EXPLAIN (FORMAT JSON) " + stmt.text),
                                          params)).scalar_one()
            paths = list(postings_paths(plan[0]["Plan"]))
            assert len(paths) == (2 if scopes is not whole else 1), plan
            assert all("Nested Loop" in above and "Hash Join" not in above for above in paths), plan
            await session.rollback()  # the settings end with the transaction, as a search's do


async def test_concurrent_writers_keep_the_statistics_exact(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # Many transactions at once on two owners' statistics (the same common words in every chunk):
    # uploads, reprocessing and deletions. None may deadlock or lose a count.
    async with sessions() as session:
        owners = [await add_owner(session), await add_owner(session)]
        existing = [await add_doc(session, owners[n % 2], [([], " ".join(VOCABULARY[:8]))] * 3)
                    for n in range(6)]
        collection = await add_collection(session)
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

    async def move_back_and_forth(n: int) -> None:
        # Documents being reprocessed and deleted, moved at the same time: a move takes the
        # document's row, then the owner's statistics; a chunk write the other way round would
        # deadlock (PostgreSQL would abort one of them, and this test fail).
        for dest in (collection, None, collection):
            async with sessions() as s:
                await s.execute(update(Document).where(Document.id == existing[n].id)
                                .values(collection_id=dest))
                await s.commit()

    async def remove_both_owners() -> None:
        async with sessions() as s:
            await s.execute(delete(Chunk).where(Chunk.document_id.in_([existing[4].id,
                                                                       existing[5].id])))
            await s.commit()

    await asyncio.wait_for(asyncio.gather(
        *(upload(n) for n in range(12)), *(reprocess(n) for n in range(4)),
        *(move_back_and_forth(n) for n in (0, 1, 3, 5)), remove_both_owners()),
        timeout=120)
    async with sessions() as session:
        await assert_kept_exactly(session)


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A database of its own (migrated to head), since these tests move it down and up."""
    with migrated_pg_database("citewise_migstats") as url:
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


async def test_0019_fills_the_space_statistics_and_the_downgrade_removes_them(
        fresh_pg_url: str) -> None:
    engine = create_async_engine(fresh_pg_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            config = alembic_config(fresh_pg_url)
            await asyncio.to_thread(command.downgrade, config, "0018")
            owner = await add_owner(session, str(uuid.uuid4()))
            shared = await add_collection(session)
            private = await add_doc(session, owner, [([], "Basalt columns cool slowly.")])
            moved = await add_doc(session, owner, [(["Tuff"], "Tuff is volcanic ash."),
                                                   ([], "Volcanic glass: obsidian.")])
            await move(session, [moved.id], shared)  # no space statistics to move yet

            await asyncio.to_thread(command.upgrade, config, "head")
            await assert_kept_exactly(session)
            scope = KeywordScope(owner_id=owner, exclude_document_ids=frozenset({private.id}),
                                 spaces=frozenset({shared}))
            kept = await PostgresKeywordIndex().search(session, [scope], "volcanic", limit=5)
            assert [cid for cid, _ in kept] and kept == await PostgresKeywordIndex().search(
                session, [scope], "volcanic", limit=5, from_postings=True)
            await session.commit()

            await asyncio.to_thread(command.downgrade, config, "0018")
            gone = (await session.execute(text(
                "SELECT (SELECT count(*) FROM pg_class WHERE relname IN "
                "('keyword_space_stats', 'keyword_space_lexemes')), "
                "(SELECT count(*) FROM information_schema.columns "
                " WHERE table_name = 'keyword_stats' AND column_name = 'space'), "
                "(SELECT count(*) FROM pg_trigger WHERE tgname = 'keyword_space_move')"))).one()
            assert tuple(gone) == (0, 0, 0)
            await session.commit()
            await add_doc(session, owner, [([], "Pumice floats.")])  # 0017's triggers again
            await move(session, [private.id], shared)
            for kept_sql, recomputed in zip(KEPT, FROM_POSTINGS, strict=True):
                assert sorted(tuple(r) for r in (await session.execute(text(kept_sql))).all()) \
                    == sorted(tuple(r) for r in (await session.execute(text(recomputed))).all())
            await session.commit()
            await asyncio.to_thread(command.upgrade, config, "head")
            await assert_kept_exactly(session)
    finally:
        await engine.dispose()
