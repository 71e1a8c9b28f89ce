"""Database engine, sessions and the declarative base shared by every domain module."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData, String, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.core.pg_driver import OneTripPingDBAPI
from app.core.sqlite_driver import OneHopDBAPI

# Explicit names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both backends (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON(),
    }


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def ensure_private_sqlite(url: str) -> None:
    """Create a SQLite database file owner-only (0600) before SQLite creates it with the umask:
    it holds every chunk's text. SQLite gives its -wal and -shm files the same mode."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return
    path = Path(url[len(prefix):])
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    os.chmod(path, 0o600)


# SQLite's memory-mapped reads (`PRAGMA mmap_size`), per connection.
MMAP_BYTES = 1 << 30


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # Writers serialise on SQLite's lock anyway; a roomy pool keeps concurrent readers from
        # queueing on connections instead.
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=20, max_overflow=40,
                                     pool_timeout=60, module=OneHopDBAPI())
        _configure_sqlite(engine.sync_engine)
        return engine
    # Every connection handed out is checked first (one round trip: `app.core.pg_driver`), so
    # one left dead by a PostgreSQL restart is replaced instead of failing a request.
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                               module=OneTripPingDBAPI())


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        # WAL lets the job runner write while requests read; FKs are off by default in SQLite.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        # Reads through a memory map instead of copying pages into SQLite's cache: a keyword
        # window statement −4.5 % (docs/benchmarks.md §5b, 2026-12-06). Only the first GiB of
        # the file is mapped; writes still go through the WAL.
        cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        cur.close()

    @event.listens_for(engine, "savepoint")
    def _write_lock_first(conn: Connection, _name: str) -> None:
        # The driver starts a transaction only at the first INSERT/UPDATE/DELETE, so plain reads run
        # outside one. A SAVEPOINT with no transaction open starts a DEFERRED one instead: its reads
        # pin a snapshot, and its first write then fails at once with "database is locked"
        # (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out) whenever another connection
        # committed in between; releasing it would also commit the request half-way. Savepoints
        # are taken only to write (`begin_nested`), so take the write lock up front: BEGIN IMMEDIATE
        # waits its turn (busy_timeout) and everything after it reads the latest data.
        driver = conn.connection.driver_connection  # the aiosqlite connection
        if driver is not None and not driver.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

