"""Migration 0015 on both databases: existing chunks get their identifiers' parts indexed, and the
downgrade gives the index back without them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from alembic import command
from app.bootstrap import build_keyword_index
from app.core.migrations import alembic_config, upgrade
from tests.conftest import migrated_pg_database
from tests.providers.test_keyword_index import FILLER, add_doc, add_owner, ids, scope


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own (migrated to head), since this test moves it down and up."""
    if request.param == "postgresql":
        with migrated_pg_database("citewise_mig") as url:
            yield url
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'citewise.db'}"
        upgrade(url)
        yield url


@pytest.fixture
async def session(fresh_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(fresh_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            yield s
    finally:
        await engine.dispose()


async def test_0015_indexes_the_parts_of_existing_chunks(fresh_url: str, session: AsyncSession
                                                          ) -> None:
    index = build_keyword_index(session.get_bind().dialect.name)
    owner = await add_owner(session, str(uuid.uuid4()))
    doc = await add_doc(session, owner, [([], "canvas.drawCentredString(x, y, text)"), ([], FILLER)])
    await session.commit()
    config = alembic_config(fresh_url)

    await asyncio.to_thread(command.downgrade, config, "0014")  # the chunk written before 0015
    assert await ids(index, session, scope(owner), "centered string") == []
    assert await ids(index, session, scope(owner), "drawcentredstring") == doc.chunks[:1]
    await session.commit()

    await asyncio.to_thread(command.upgrade, config, "head")  # the backfill and the rebuild
    terms = (await session.execute(text("SELECT index_terms FROM chunks ORDER BY id"))).scalars()
    assert sorted(terms) == ["", "draw centred centered string"]
    assert await ids(index, session, scope(owner), "centered") == doc.chunks[:1]
    assert await ids(index, session, scope(owner), "drawcentredstring") == doc.chunks[:1]
    assert await ids(index, session, scope(owner), "committee") == doc.chunks[1:]
