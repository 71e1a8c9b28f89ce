"""The SQLite driver (`app.core.sqlite_driver`): a statement is one call on aiosqlite's connection
thread, and SQLAlchemy still sees everything a DBAPI cursor reports (rows, description, row counts,
last row id, errors), through the app's own engine on a real database file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_a_statement_is_one_call_on_the_connection_thread(
        engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object, **kw: object) -> object:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kw)

    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection's set-up is behind us
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        rows = (await conn.execute(text("SELECT 1, 2 UNION ALL SELECT 3, 4"))).all()
        # aiosqlite's own cursor made four: open the cursor, execute, fetch, close.
        assert calls == ["_run"]
    assert [tuple(r) for r in rows] == [(1, 2), (3, 4)]


async def test_rows_counts_ids_and_errors_reach_sqlalchemy(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert first.lastrowid == 1
        many = await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
        assert many.rowcount == 2
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        result = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert [tuple(r) for r in result] == [(1, "a"), (2, "b!"), (3, "c!")]
        empty = await conn.execute(text("DELETE FROM t WHERE id = 99"))
        assert empty.rowcount == 0
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    async with engine.connect() as conn:  # the failed transaction was rolled back, nothing else
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 3


async def test_streamed_results_keep_a_cursor_open(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"),
                           [{"n": f"row{i}"} for i in range(50)])
    async with engine.connect() as conn:
        stream = await conn.stream(text("SELECT name FROM t ORDER BY id"))
        names = [row[0] async for row in stream]
    assert names == [f"row{i}" for i in range(50)]
