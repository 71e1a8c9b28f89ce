"""Keyword migrations on both databases. 0015: existing chunks get their identifiers' parts indexed,
and the downgrade gives the index back without them. 0016: PostgreSQL's keyword tables get their
autovacuum storage parameters, and the downgrade removes them (a no-op on SQLite)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from alembic import command
from app.bootstrap import build_keyword_index
from app.core.migrations import alembic_config, upgrade
from tests.conftest import migrated_pg_database
from tests.providers.test_keyword_index import FILLER, add_doc, add_owner, ids, open_session, scope


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
    async with open_session(fresh_url) as s:
        yield s


async def test_0015_indexes_the_parts_of_existing_chunks(fresh_url: str, session: AsyncSession
                                                          ) -> None:
    index = build_keyword_index(session.get_bind().dialect.name)
    owner = await add_owner(session, str(uuid.uuid4()))
    doc = await add_doc(session, owner, [([], "canvas.drawCentredString(x, y, text)"), ([], FILLER)])
    await session.commit()
    config = alembic_config(fresh_url)

    await asyncio.to_thread(command.downgrade, config, "0014")  # the chunk written before 0015
    # (Scoped to the document: PostgreSQL then takes no statistic from 0017's tables.)
    assert await ids(index, session, scope(owner, doc.id), "centered string") == []
    assert await ids(index, session, scope(owner, doc.id), "drawcentredstring") == doc.chunks[:1]
    await session.commit()

    await asyncio.to_thread(command.upgrade, config, "head")  # the backfill and the rebuild
    terms = (await session.execute(text("SELECT index_terms FROM chunks ORDER BY id"))).scalars()
    assert sorted(terms) == ["", "draw centred centered string"]
    assert await ids(index, session, scope(owner), "centered") == doc.chunks[:1]
    assert await ids(index, session, scope(owner), "drawcentredstring") == doc.chunks[:1]
    assert await ids(index, session, scope(owner), "committee") == doc.chunks[1:]


_AUTOVACUUM = {  # 0016's storage parameters (docs/benchmarks.md §5b): table -> reloptions
    "keyword_postings": ["autovacuum_vacuum_insert_scale_factor=0.01",
                         "autovacuum_vacuum_insert_threshold=5000",
                         "autovacuum_vacuum_scale_factor=0.02", "autovacuum_vacuum_threshold=5000",
                         "autovacuum_analyze_scale_factor=0.02", "autovacuum_analyze_threshold=5000"],
    "keyword_stats": ["autovacuum_vacuum_insert_scale_factor=0.01",
                      "autovacuum_vacuum_insert_threshold=100",
                      "autovacuum_vacuum_scale_factor=0.02", "autovacuum_vacuum_threshold=100",
                      "autovacuum_analyze_scale_factor=0.02", "autovacuum_analyze_threshold=100"],
}


async def _reloptions(session: AsyncSession) -> dict[str, list[str]]:
    rows = await session.execute(text(
        "SELECT relname, coalesce(reloptions, '{}') FROM pg_class "
        "WHERE relname IN ('keyword_postings', 'keyword_stats')"))
    await session.commit()  # no snapshot held across the migrations below
    return {name: sorted(options) for name, options in rows.all()}


async def test_0016_sets_and_removes_keyword_autovacuum_parameters(fresh_url: str,
                                                                   session: AsyncSession) -> None:
    config = alembic_config(fresh_url)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        assert await _reloptions(session) == {t: sorted(o) for t, o in _AUTOVACUUM.items()}

    await asyncio.to_thread(command.downgrade, config, "0015")
    if postgres:
        assert await _reloptions(session) == {"keyword_postings": [], "keyword_stats": []}
    version = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert version == "0015"
    await session.commit()

    await asyncio.to_thread(command.upgrade, config, "head")  # and back: no-op on SQLite
    if postgres:
        assert await _reloptions(session) == {t: sorted(o) for t, o in _AUTOVACUUM.items()}
