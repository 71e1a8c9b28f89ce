"""Task functions shared by the ARQ worker and the in-process runner (never two copies of a workflow)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.documents import repository as repo
from app.documents.models import Document, Job
from app.ingestion.pipeline import Outcome, process_document
from app.platform.container import Container

log = logging.getLogger("citewise.jobs")

# A freshly uploaded document is enqueued right after its commit; give that path time to work
# before the reconciler treats a `queued` row as lost.
QUEUED_GRACE = timedelta(seconds=30)


async def ingest(container: Container, document_id: str, *, worker: str = "",
                 request_id: str | None = None) -> Outcome:
    return await process_document(container, document_id, worker=worker, request_id=request_id)


async def reconcile(container: Container, *, startup: bool = False) -> int:
    """Re-enqueue documents whose job was lost (crash, flushed Redis, expired lease); fail those
    out of attempts. Returns how many were re-enqueued."""
    settings = container.settings
    now = datetime.now(UTC)
    queued_before = now if startup else now - QUEUED_GRACE
    async with container.sessions() as session:
        stale = await repo.stale_documents(session, now=now, queued_before=queued_before)
        to_enqueue: list[tuple[str, int | None]] = []  # (document id, attempt whose worker died)
        for doc in stale:
            if doc.status == "processing":  # lease expired: its worker died mid-attempt
                # Its Job row would otherwise say "running" forever in the admin's job list.
                await session.execute(
                    update(Job).where(Job.document_id == doc.id, Job.status == "running",
                                      Job.attempt <= doc.attempts)
                    .values(status="interrupted", finished_at=now,
                            error="The worker stopped during this attempt."))
            if doc.attempts >= settings.job_max_attempts:
                await session.execute(
                    update(Document).where(Document.id == doc.id, Document.status == doc.status)
                    .values(status="failed", stage=None, lease_expires_at=None, finished_at=now,
                            error="Processing was interrupted repeatedly and has been stopped. "
                                  "Use Retry to try again.", updated_at=now))
                continue
            lost: int | None = None
            if doc.status == "processing":  # lease expired: its worker died
                lost = doc.attempts
                await session.execute(
                    update(Document).where(Document.id == doc.id, Document.status == "processing",
                                           Document.lease_expires_at < now)  # not re-claimed since
                    .values(status="queued", stage=None, lease_expires_at=None, updated_at=now))
            else:
                await session.execute(update(Document).where(Document.id == doc.id)
                                      .values(updated_at=now))
            to_enqueue.append((doc.id, lost))
        await session.commit()
    for doc_id, lost in to_enqueue:
        await container.jobs.enqueue_ingest(doc_id, lost_attempt=lost)
    if stale:
        log.info("reconciled", extra={"requeued": len(to_enqueue), "examined": len(stale)})
    return len(to_enqueue)
