"""SQL for the admin area: user listing, statistics, job history, audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.documents.models import STATUSES, Chunk, Document, Job
from app.platform.models import AuditEntry


def _like(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_users(
    session: AsyncSession, *, q: str | None, offset: int, limit: int
) -> tuple[list[tuple[User, int]], int]:
    doc_counts = (select(Document.owner_id, func.count(Document.id).label("n"))
                  .group_by(Document.owner_id).subquery())
    where = []
    if q:
        pattern = _like(q.strip())
        where.append(or_(func.lower(User.email).like(pattern, escape="\\"),
                         func.lower(User.display_name).like(pattern, escape="\\")))
    total = int((await session.execute(select(func.count(User.id)).where(*where))).scalar_one())
    stmt = (select(User, func.coalesce(doc_counts.c.n, 0))
            .outerjoin(doc_counts, doc_counts.c.owner_id == User.id)
            .where(*where).order_by(User.created_at, User.email).offset(offset).limit(limit))
    rows = [(user, int(n)) for user, n in (await session.execute(stmt)).all()]
    return rows, total


async def document_count(session: AsyncSession, user_id: str) -> int:
    stmt = select(func.count(Document.id)).where(Document.owner_id == user_id)
    return int((await session.execute(stmt)).scalar_one())


async def lock_active_admins(session: AsyncSession) -> list[str]:
    """Ids of active admins, row-locked on PostgreSQL so two concurrent demotions serialize."""
    stmt = (select(User.id).where(User.role == "admin", User.is_active.is_(True))
            .order_by(User.id).with_for_update())
    return list((await session.execute(stmt)).scalars())


async def stats(session: AsyncSession, since: datetime) -> dict[str, Any]:
    by_status = {s: 0 for s in STATUSES}
    for status, n in (await session.execute(
            select(Document.status, func.count(Document.id)).group_by(Document.status))).all():
        by_status[status] = int(n)
    users = (await session.execute(select(func.count(User.id)))).scalar_one()
    storage = (await session.execute(select(func.coalesce(func.sum(Document.size_bytes), 0)))).scalar_one()
    chunks = (await session.execute(select(func.count(Chunk.id)))).scalar_one()
    failures = (await session.execute(select(func.count(Job.id)).where(
        Job.status == "failed", Job.created_at >= since))).scalar_one()
    return {"users": int(users), "documents_by_status": by_status,
            "documents": sum(by_status.values()), "chunks": int(chunks),
            "storage_bytes": int(storage), "failures_24h": int(failures)}


async def list_jobs(
    session: AsyncSession, *, status: str | None, offset: int, limit: int
) -> tuple[list[tuple[Job, Document | None, str | None]], int]:
    where = [Job.status == status] if status else []
    total = int((await session.execute(select(func.count(Job.id)).where(*where))).scalar_one())
    stmt = (select(Job, Document, User.email)
            .outerjoin(Document, Document.id == Job.document_id)
            .outerjoin(User, User.id == Document.owner_id)
            .where(*where).order_by(Job.created_at.desc(), Job.id).offset(offset).limit(limit))
    return list((await session.execute(stmt)).all()), total


async def failed_documents(session: AsyncSession, ids: Sequence[str] | None) -> list[Document]:
    stmt = select(Document).where(Document.status == "failed")
    if ids is not None:
        stmt = stmt.where(Document.id.in_(list(ids)))
    return list((await session.execute(stmt.order_by(Document.created_at))).scalars())


async def list_audit(
    session: AsyncSession, *, event: str | None, offset: int, limit: int
) -> tuple[list[AuditEntry], int]:
    where = []
    if event:
        # "user." matches every user event; a full name matches exactly.
        where.append(AuditEntry.event.startswith(event) if event.endswith(".")
                     else AuditEntry.event == event)
    total = int((await session.execute(select(func.count(AuditEntry.id)).where(*where))).scalar_one())
    stmt = (select(AuditEntry).where(*where)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id).offset(offset).limit(limit))
    return list((await session.execute(stmt)).scalars()), total
