"""Every SQLite connection of the app's engine is set up the same way (`app.core.db`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.db import MMAP_BYTES, create_engine


async def pragma(conn: AsyncConnection, name: str) -> object:
    return (await conn.execute(text(f"PRAGMA {name}"))).scalar()


async def test_every_connection_gets_the_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert await pragma(conn, "journal_mode") == "wal"  # readers beside writers
                assert await pragma(conn, "foreign_keys") == 1
                assert await pragma(conn, "synchronous") == 1  # NORMAL
                assert await pragma(conn, "busy_timeout") == 30000
                assert await pragma(conn, "mmap_size") == MMAP_BYTES > 0  # memory-mapped reads
    finally:
        await engine.dispose()
