"""SQLAlchemy's asyncpg driver, whose check of a pooled connection is one round trip.

The pool checks every connection it hands out (`pool_pre_ping`), so that one left dead by a
PostgreSQL restart is replaced instead of failing the request. SQLAlchemy's asyncpg adapter wraps
that check in a transaction of its own (BEGIN, the empty statement, ROLLBACK), three round trips
before each session's first statement: its statement is a prepared one, which behind PgBouncer's
transaction mode must not outlive a transaction. A reader's search checks out three connections
(its request, and the two keyword statements side by side), and each round trip waits for a core
that the query's embedding and the keyword ranking keep busy (docs/benchmarks.md §5b,
2026-12-06). Here the check is one simple-protocol query (no prepared statement, so no
transaction is needed around it): one round trip, failing the same way on a dead connection.
"""

from __future__ import annotations

from typing import Any, cast

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_dbapi,
)
from sqlalchemy.util import await_


class OneTripPingConnection(AsyncAdapt_asyncpg_connection):
    __slots__ = ()

    async def _async_ping(self) -> None:
        # SQLAlchemy types the driver connection as the few methods it calls; it is asyncpg's.
        connection = cast(asyncpg.Connection, self._connection)
        await connection.execute("SELECT 1")  # no arguments: the simple query protocol


class OneTripPingDBAPI(AsyncAdapt_asyncpg_dbapi):
    """The DBAPI module for `create_async_engine(..., module=...)` on `postgresql+asyncpg` URLs."""

    def __init__(self) -> None:
        super().__init__(asyncpg)

    def connect(self, *arg: Any, **kw: Any) -> OneTripPingConnection:
        # The keyword arguments SQLAlchemy's own `connect` takes off before asyncpg sees the rest.
        connect = kw.pop("async_creator_fn", asyncpg.connect)
        options = {name: kw.pop(name) for name in
                   ("prepared_statement_cache_size", "prepared_statement_name_func") if name in kw}
        connection: OneTripPingConnection = await_(
            OneTripPingConnection.create(self, connect(*arg, **kw), **options))
        return connection
