"""SQLite: a request that reads inside an explicit transaction (`begin_nested`, as
`documents.service._admit` and the collection/group services do) and then writes must not fail with
"database is locked" because a background write (the job runner) committed in between.

The race is reproduced for real: two connections of the app's own engine to one WAL database file.
Before the fix, the SAVEPOINT opened a DEFERRED transaction whose read pinned a snapshot; the other
connection committed; the first one's write then failed at once with SQLITE_BUSY_SNAPSHOT.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import upgrade_async
from app.platform.models import AuditEntry


async def _background_write(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        s.add(AuditEntry(event="job.progress", actor_email="worker"))
        await s.commit()


async def test_read_then_write_in_a_savepoint_survives_a_concurrent_commit(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'citewise.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as request:
            async with request.begin_nested():
                # Read inside the explicit transaction, as _admit's duplicate check would.
                before = (await request.execute(select(func.count()).select_from(AuditEntry))).scalar()
                writer = asyncio.create_task(_background_write(sessions))
                # Give the background write every chance to commit before we write (without the fix
                # it does, and our INSERT below then fails); with the fix it waits for our commit.
                await asyncio.wait({writer}, timeout=3)
                request.add(AuditEntry(event="document.uploaded", actor_email="user"))
            # Releasing the savepoint did not commit the request half-way: nobody else sees it yet.
            async with engine.connect() as other:
                seen = (await other.execute(text(
                    "SELECT count(*) FROM audit_log WHERE event = 'document.uploaded'"))).scalar()
            assert seen == 0
            await request.commit()
        await writer
        async with sessions() as check:
            events = sorted((await check.execute(select(AuditEntry.event))).scalars())
        assert before == 0
        assert events == ["document.uploaded", "job.progress"]
    finally:
        await engine.dispose()
