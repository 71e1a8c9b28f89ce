"""Keyword side of retrieval on both backends, on schemas built by the real migrations (0003: the
heading path is its own, weighted, field): headings are searchable, a heading match outranks the
same word in body text, non-ASCII headings tokenize as words, and the index follows updates and
deletes. Owner isolation holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.auth.models import User
from app.documents.models import Chunk, Document
from app.rag.retrieval import keyword_search


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_database".replace("postgresql", "pg")))


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            yield s
    finally:
        await engine.dispose()


async def _owner_with_chunks(session: AsyncSession, chunks: list[tuple[list[str], str]]
                             ) -> tuple[str, list[str]]:
    owner = str(uuid.uuid4())
    session.add(User(id=owner, email=f"{owner}@example.com", password_hash="x"))
    doc = str(uuid.uuid4())
    session.add(Document(id=doc, owner_id=owner, filename="f.txt", mime_type="text/plain",
                         kind="text", size_bytes=1, content_hash="h", storage_key=doc,
                         status="ready"))
    await session.flush()
    ids = []
    for n, (heading, body) in enumerate(chunks):
        cid = f"{doc}:1:{n}"
        session.add(Chunk(id=cid, document_id=doc, owner_id=owner, version=1, n=n, text=body,
                          page_start=1, page_end=1, char_start=0, char_end=len(body),
                          heading_path=heading))
        ids.append(cid)
    await session.commit()
    return owner, ids


async def test_heading_match_is_found_and_outranks_body_match(session: AsyncSession) -> None:
    filler = "The committee reviewed several unrelated budget items during the meeting."
    # The short body chunk would win if heading and text were one field (0002's index).
    owner, ids = await _owner_with_chunks(session, [
        ([], "Glaciers retreat quickly now."),
        (["Glaciers"], filler),
        (["Café résumé"], filler),
        *[(["Minutes"], filler)] * 5,
    ])
    hits = [cid for cid, _ in await keyword_search(session, owner, "glaciers", None, limit=10)]
    assert hits == [ids[1], ids[0]]  # heading field weighted above body text
    cafe = [cid for cid, _ in await keyword_search(session, owner, "cafe resume", None, limit=10)]
    café = [cid for cid, _ in await keyword_search(session, owner, "café", None, limit=10)]
    assert ids[2] in café
    if session.bind.dialect.name == "sqlite":  # unicode61 folds diacritics; PostgreSQL keeps them
        assert ids[2] in cafe
    other = str(uuid.uuid4())
    assert await keyword_search(session, other, "glaciers", None, limit=10) == []


async def test_index_follows_updates_and_deletes(session: AsyncSession) -> None:
    owner, ids = await _owner_with_chunks(session, [(["Volcanoes"], "Lava flows slowly.")])
    await session.execute(update(Chunk).where(Chunk.id == ids[0])
                          .values(heading_path=["Earthquakes"], text="Faults slip."))
    await session.commit()
    assert await keyword_search(session, owner, "volcanoes lava", None, limit=10) == []
    assert [c for c, _ in await keyword_search(session, owner, "earthquakes", None, limit=10)] == ids
    await session.execute(delete(Chunk).where(Chunk.id == ids[0]))
    await session.commit()
    assert await keyword_search(session, owner, "earthquakes faults", None, limit=10) == []
