"""The document lifecycle: every status transition, each one compare-and-set UPDATE.

    (upload) → queued ──claim──▶ processing ──mark_ready──▶ ready
                 ▲                 │  │ ├──mark_failed──▶ failed ──purged──▶ failed (no vectors)
                 │    retry_later ─┤  │ └─(lease expires)─▶ requeue_lost ─▶ queued
                 │        release ─┘  └──────────────────▶ fail_exhausted ▶ failed
                 ├──── reset_for_reprocess (any status; a new version) ◀── ready / failed / …
                 └──── cancel (queued or processing; a new version) ──────▶ failed

Which queued document a worker claims next is decided in app/documents/scheduling.py (fair across
owners); the claim itself is still this module's compare-and-set.

A transition names the state it expects (status, and where it matters the version, the attempt
that holds the lease, or an expired lease) in its WHERE clause and reports whether it applied.
A worker that lost its lease, a stale reconciler pass or a second admin click then changes nothing.

`attempts` counts the attempts that ended without a verdict (the worker died, its lease expired):
the guard against a document that kills every worker that takes it. An attempt that ends with a
transient failure (`retry_later`) or is handed back at shutdown (`release`) gives its number back,
so outages and rolling restarts never use up that budget; the retry window bounds transient
failures instead (`retry_since`). Both are the attempt's last write, so the number is not reused
while the attempt can still act. A document that becomes `failed` loses its chunk rows in the same
transaction and is marked `purge_pending` until its vectors are gone too.

Each function only executes statements on the caller's session; the caller commits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update

from app.core.db import utcnow
from app.documents.models import STATUSES, Chunk, Document, Job

JobStatus = Literal["running", "succeeded", "failed", "retrying", "skipped", "interrupted"]

CANCELED_ERROR = "Processing was canceled. Use Retry to process this document again."
EXHAUSTED_ERROR = ("Processing was interrupted repeatedly and has been stopped. "
                   "Use Retry to try again.")
INTERRUPTED_ERROR = "The worker stopped during this attempt."
RELEASED_ERROR = "The worker shut down during this attempt and handed the document back."


@dataclass(frozen=True, slots=True)
class Lease:
    """Which attempt holds a `processing` document: transitions out of processing require it."""

    document_id: str
    version: int
    attempt: int

    @classmethod
    def of(cls, doc: Document) -> Lease:
        return cls(document_id=doc.id, version=doc.version, attempt=doc.attempts)


@dataclass(frozen=True, slots=True)
class Claimed:
    document: Document  # the row as claimed (status processing, attempts counted)
    lease: Lease
    job_id: str  # the `jobs` row recording this attempt


async def _applied(session: AsyncSession, stmt: Update) -> bool:
    row = (await session.execute(stmt.returning(Document.id))).first()
    return row is not None


def _held(lease: Lease) -> list[ColumnElement[bool]]:
    return [Document.id == lease.document_id, Document.status == "processing",
            Document.version == lease.version, Document.attempts == lease.attempt]


# ---- the worker's transitions ---------------------------------------------------------------

async def claim(session: AsyncSession, document_id: str, *, max_attempts: int, lease_for: timedelta,
                worker: str = "", request_id: str | None = None,
                now: datetime | None = None) -> Claimed | None:
    """queued (past its `not_before`) or processing whose lease expired → processing, one more
    attempt, a fresh lease; and a `running` job row for the attempt. None when another worker has
    it, it is finished, deleted, backing off after a failure, or out of attempts."""
    now = now or utcnow()
    stmt = (
        update(Document)
        .where(
            Document.id == document_id,
            Document.attempts < max_attempts,
            or_(and_(Document.status == "queued",
                     or_(Document.not_before.is_(None), Document.not_before <= now)),
                and_(Document.status == "processing", Document.lease_expires_at < now)),
        )
        .values(status="processing", stage="extracting", progress=0, error=None, retryable=False,
                attempts=Document.attempts + 1, lease_expires_at=now + lease_for,
                not_before=None, started_at=now, finished_at=None, updated_at=now)
    )
    if not await _applied(session, stmt):
        return None
    doc = await session.get(Document, document_id, populate_existing=True)
    if doc is None:  # deleted between the update and the read (only without row locks)
        return None
    job = Job(document_id=doc.id, attempt=doc.attempts, worker=worker, request_id=request_id)
    session.add(job)
    await session.flush()
    return Claimed(document=doc, lease=Lease.of(doc), job_id=job.id)


async def report_progress(session: AsyncSession, lease: Lease, *, stage: str, progress: int,
                          lease_for: timedelta, now: datetime | None = None) -> bool:
    """processing (this attempt) → processing at `stage`/`progress`, lease renewed."""
    now = now or utcnow()
    return await _applied(session, update(Document).where(*_held(lease)).values(
        stage=stage, progress=max(0, min(progress, 100)), lease_expires_at=now + lease_for,
        updated_at=now))


async def renew_lease(session: AsyncSession, lease: Lease, *, lease_for: timedelta,
                      now: datetime | None = None) -> bool:
    """processing (this attempt) → processing, lease renewed (the attempt is alive, just slow)."""
    now = now or utcnow()
    return await _applied(session, update(Document).where(*_held(lease)).values(
        lease_expires_at=now + lease_for))


async def mark_ready(session: AsyncSession, lease: Lease, *, chunk_count: int, page_count: int | None,
                     embedding_collection: str, timings: Mapping[str, float],
                     now: datetime | None = None) -> bool:
    """processing (this attempt) → ready."""
    now = now or utcnow()
    return await _applied(session, update(Document).where(*_held(lease)).values(
        status="ready", searchable_version=lease.version, stage=None, progress=100, error=None,
        chunk_count=chunk_count,
        page_count=page_count, finished_at=now, lease_expires_at=None, retry_since=None,
        embedding_collection=embedding_collection, timings=dict(timings), updated_at=now))


async def retry_later(session: AsyncSession, lease: Lease, *, error: str,
                      delay: timedelta = timedelta(0), now: datetime | None = None) -> bool:
    """processing (this attempt) → queued after a failure that may pass, not to be claimed again
    before `delay` has passed; the job queue retries. The attempt is given back, and
    `retry_since` keeps when this run of failures began."""
    now = now or utcnow()
    return await _applied(session, update(Document).where(*_held(lease)).values(
        status="queued", stage=None, progress=0, error=error, lease_expires_at=None,
        not_before=now + delay if delay else None, attempts=Document.attempts - 1,
        retry_since=func.coalesce(Document.retry_since, now), updated_at=now))


async def release(session: AsyncSession, lease: Lease, *, now: datetime | None = None) -> bool:
    """processing (this attempt) → queued at once: the worker is shutting down and hands the
    document back for another worker. The attempt is given back (it did not fail)."""
    now = now or utcnow()
    return await _applied(session, update(Document).where(*_held(lease)).values(
        status="queued", stage=None, progress=0, lease_expires_at=None, not_before=None,
        attempts=Document.attempts - 1, updated_at=now))


async def mark_failed(session: AsyncSession, lease: Lease, *, error: str, retryable: bool = False,
                      now: datetime | None = None) -> bool:
    """processing (this attempt) → failed (and not searchable); `retryable` when a later retry
    can succeed. Its chunk rows are deleted and its vectors marked for the purge."""
    now = now or utcnow()
    applied = await _applied(session, update(Document).where(*_held(lease)).values(
        status="failed", searchable_version=None, stage=None, error=error, retryable=retryable,
        finished_at=now, lease_expires_at=None, retry_since=None, purge_pending=True,
        chunk_count=0, updated_at=now))
    if applied:
        await _drop_chunks(session, lease.document_id)
    return applied


async def _drop_chunks(session: AsyncSession, document_id: str) -> None:
    await session.execute(delete(Chunk).where(Chunk.document_id == document_id))


async def finish_job(session: AsyncSession, job_id: str, *, status: JobStatus, error: str | None,
                     duration_ms: int, stage_timings: Mapping[str, float],
                     now: datetime | None = None) -> bool:
    """Record how an attempt ended on its `jobs` row."""
    now = now or utcnow()
    result = await session.execute(
        update(Job).where(Job.id == job_id)
        .values(status=status, error=error, finished_at=now, duration_ms=duration_ms,
                stage_timings=dict(stage_timings))
        .returning(Job.id))
    return result.first() is not None


async def current_version(session: AsyncSession, document_id: str) -> int | None:
    """The document's version now; None once it is deleted."""
    stmt = select(Document.version).where(Document.id == document_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# ---- the reconciler's transitions ---------------------------------------------------------------

async def find_stale(session: AsyncSession, *, now: datetime, queued_before: datetime,
                     limit: int = 500) -> list[Document]:
    """Documents whose job may be lost: queued since before `queued_before`, or processing with an
    expired lease."""
    stmt = select(Document).where(or_(
        and_(Document.status == "queued", Document.updated_at < queued_before),
        and_(Document.status == "processing", Document.lease_expires_at < now),
    )).order_by(Document.updated_at, Document.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def count_queued(session: AsyncSession, *, max_attempts: int) -> int:
    """Queued documents with attempts left: each needs a job in the queue."""
    stmt = select(func.count(Document.id)).where(Document.status == "queued",
                                                 Document.attempts < max_attempts)
    return int((await session.execute(stmt)).scalar_one())


async def interrupt_attempts(session: AsyncSession, document_id: str, *, through_attempt: int,
                             now: datetime | None = None) -> int:
    """`running` job rows of attempts up to `through_attempt` → interrupted (their worker died).
    Returns how many changed."""
    now = now or utcnow()
    result = await session.execute(
        update(Job).where(Job.document_id == document_id, Job.status == "running",
                          Job.attempt <= through_attempt)
        .values(status="interrupted", finished_at=now, error=INTERRUPTED_ERROR)
        .returning(Job.id))
    return len(result.all())


async def requeue_lost(session: AsyncSession, lease: Lease, *, now: datetime | None = None) -> bool:
    """processing (this attempt) whose lease expired → queued: its worker died."""
    now = now or utcnow()
    return await _applied(session, update(Document)
                          .where(*_held(lease), Document.lease_expires_at < now)
                          .values(status="queued", stage=None, lease_expires_at=None, updated_at=now))


async def requeue(session: AsyncSession, document_id: str, *, version: int,
                  now: datetime | None = None) -> bool:
    """queued → queued, enqueued again: restarts the grace period before the next reconciler pass."""
    now = now or utcnow()
    return await _applied(session, update(Document)
                          .where(Document.id == document_id, Document.status == "queued",
                                 Document.version == version)
                          .values(updated_at=now))


async def fail_exhausted(session: AsyncSession, document_id: str, *, status: str, version: int,
                         max_attempts: int, now: datetime | None = None) -> bool:
    """queued, or processing with an expired lease, and out of attempts → failed."""
    now = now or utcnow()
    conds = [Document.id == document_id, Document.status == status, Document.version == version,
             Document.attempts >= max_attempts]
    if status == "processing":
        conds.append(Document.lease_expires_at < now)
    elif status != "queued":
        return False
    applied = await _applied(session, update(Document).where(*conds).values(
        status="failed", searchable_version=None, stage=None, lease_expires_at=None, finished_at=now,
        error=EXHAUSTED_ERROR, retryable=True, retry_since=None, purge_pending=True, chunk_count=0,
        updated_at=now))
    if applied:
        await _drop_chunks(session, document_id)
    return applied


async def find_purge_pending(session: AsyncSession, *, limit: int = 100) -> list[Document]:
    """Failed documents whose vectors may still be in the vector store."""
    stmt = select(Document).where(Document.status == "failed",
                                  Document.purge_pending.is_(True)).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def purged(session: AsyncSession, document_id: str, *, version: int) -> bool:
    """failed (purge pending, at `version`) → failed with no vectors left behind."""
    return await _applied(session, update(Document)
                          .where(Document.id == document_id, Document.status == "failed",
                                 Document.version == version, Document.purge_pending.is_(True))
                          .values(purge_pending=False))


# ---- the user's and the admin's transitions ------------------------------------------------------

async def reset_for_reprocess(session: AsyncSession, document_id: str, *, version: int,
                              from_statuses: Collection[str] = STATUSES,
                              now: datetime | None = None) -> bool:
    """Any of `from_statuses` (at `version`) → queued as a new version, attempts from zero.

    The new version gives new chunk ids; `searchable_version` stays, so search keeps serving the
    old version until this one is ready (its chunks and vectors are removed then), and a worker
    still busy with the old version loses its lease. Used by the owner's
    reprocess and the admin's retry of failed documents."""
    now = now or utcnow()
    return await _applied(session, update(Document)
                          .where(Document.id == document_id, Document.version == version,
                                 Document.status.in_(list(from_statuses)))
                          .values(version=Document.version + 1, status="queued", stage=None,
                                  progress=0, error=None, retryable=False, attempts=0,
                                  lease_expires_at=None, not_before=None, retry_since=None,
                                  purge_pending=False, finished_at=None,
                                  updated_at=now))


async def cancel(session: AsyncSession, document_id: str, *, version: int,
                 now: datetime | None = None) -> bool:
    """queued or processing (at `version`) → failed as a new version, "canceled".

    The new version takes the lease from a running attempt: its next progress write or lease
    renewal matches no row, and it stops and removes the vectors it wrote (see the pipeline's
    DocumentGone). The caller deletes the chunk rows in the same transaction; the vectors are
    deleted after the commit, or by the reconciler's purge if the vector store is down then."""
    now = now or utcnow()
    return await _applied(session, update(Document)
                          .where(Document.id == document_id, Document.version == version,
                                 Document.status.in_(["queued", "processing"]))
                          .values(version=Document.version + 1, status="failed",
                                  searchable_version=None, stage=None,
                                  progress=0, error=CANCELED_ERROR, retryable=True, chunk_count=0,
                                  lease_expires_at=None, not_before=None, finished_at=now,
                                  purge_pending=True, updated_at=now))
