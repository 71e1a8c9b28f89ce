"""The PostgreSQL driver (`app.core.pg_driver`): the pool's check of a connection it hands out is
one round trip, and still replaces a connection the server has closed; on the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine


@pytest.fixture
async def engine(pg_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_database)
    yield engine
    await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_checking_a_pooled_connection_is_one_round_trip(
        engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await backend_pid(engine)  # the connection is in the pool now
    calls: list[str] = []

    def counted(name: str) -> None:
        original = getattr(asyncpg.Connection, name)

        async def call(self: asyncpg.Connection, query: str, *args: object, **kw: object) -> object:
            calls.append(f"{name} {query}")
            return await original(self, query, *args, **kw)

        monkeypatch.setattr(asyncpg.Connection, name, call)

    transaction = asyncpg.Connection.transaction

    def counted_transaction(self: asyncpg.Connection, **kw: object) -> object:
        calls.append("transaction")
        return transaction(self, **kw)

    counted("execute")
    counted("fetchrow")
    monkeypatch.setattr(asyncpg.Connection, "transaction", counted_transaction)
    async with engine.connect() as conn:
        # The check, one simple query (no prepared statement), and nothing else before any
        # statement: no transaction around it.
        assert calls == ["execute SELECT 1"]
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert pid == first  # the pooled connection was handed out again


async def test_a_connection_the_server_closed_is_replaced_not_failed(
        engine: AsyncEngine, pg_database: str) -> None:
    first = await backend_pid(engine)
    admin = await asyncpg.connect(pg_database.replace("+asyncpg", ""))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    second = await backend_pid(engine)  # no error: the check found it dead and reconnected
    assert second != first
