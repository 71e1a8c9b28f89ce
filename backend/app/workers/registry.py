"""Task functions shared by the ARQ worker and the in-process runner (never two copies of a workflow)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from app.core.outages import database_outage
from app.documents import lifecycle, purges
from app.ingestion.pipeline import Outcome, TransientFailure, process_document, purge_failed_vectors
from app.platform.container import Container

log = logging.getLogger("citewise.jobs")

# A freshly uploaded document is enqueued right after its commit; give that path time to work
# before the reconciler treats a `queued` row as lost.
QUEUED_GRACE = timedelta(seconds=30)


async def ingest(container: Container, document_id: str, *, worker: str = "",
                 request_id: str | None = None) -> Outcome:
    try:
        return await process_document(container, document_id, worker=worker, request_id=request_id)
    except Exception as exc:
        if not database_outage(exc):
            raise
        # The attempt could not record its claim or its outcome. Try again once a lease it may
        # hold has expired: the claim then takes the document over, whatever state it is in.
        log.warning("database unavailable during ingestion; retrying later",
                    extra={"document_id": document_id, "error": type(exc).__name__})
        raise TransientFailure("The database is unavailable.",
                               delay=float(container.settings.job_lease_seconds + 1)) from exc


async def reconcile(container: Container, *, startup: bool = False) -> int:
    """Re-enqueue documents whose job was lost (crash, flushed Redis, expired lease); fail those
    out of attempts. Returns how many were re-enqueued.

    A queued document merely waiting its turn is left alone: jobs are not tied to one document
    (each claims the next in line, see app/documents/scheduling.py), so a job was lost only when
    the queue holds fewer jobs than there are queued documents, and only that many are enqueued."""
    settings = container.settings
    now = datetime.now(UTC)
    queued_before = now if startup else now - QUEUED_GRACE
    waiting_jobs = await container.jobs.queue_depth()
    async with container.sessions() as session:
        stale = await lifecycle.find_stale(session, now=now, queued_before=queued_before)
        missing = await lifecycle.count_queued(session, max_attempts=settings.job_max_attempts) - waiting_jobs
        to_enqueue: list[tuple[str, int | None]] = []  # (document id, attempt whose worker died)
        for doc in stale:
            lost = doc.attempts if doc.status == "processing" else None  # its lease expired
            if lost is not None:
                # Its Job row would otherwise say "running" forever in the admin's job list.
                await lifecycle.interrupt_attempts(session, doc.id, through_attempt=lost, now=now)
            if doc.attempts >= settings.job_max_attempts:
                await lifecycle.fail_exhausted(session, doc.id, status=doc.status, version=doc.version,
                                               max_attempts=settings.job_max_attempts, now=now)
                continue
            if lost is not None:
                requeued = await lifecycle.requeue_lost(session, lifecycle.Lease.of(doc), now=now)
            elif missing > 0:
                requeued = await lifecycle.requeue(session, doc.id, version=doc.version, now=now)
                missing -= requeued
            else:
                continue  # waiting its turn: enough jobs are queued to reach it
            if requeued:  # otherwise a worker took it, or it was reset or deleted, meanwhile
                to_enqueue.append((doc.id, lost))
        await session.commit()
    for doc_id, lost in to_enqueue:
        await container.jobs.enqueue_ingest(doc_id, lost_attempt=lost)
    if to_enqueue:
        log.info("reconciled", extra={"requeued": len(to_enqueue), "examined": len(stale)})
    await purge_failed(container)
    await purges.run_pending(container)
    return len(to_enqueue)


async def purge_failed(container: Container) -> int:
    """Delete the vectors that failed documents may have left (their vector store was down when
    they failed). Returns how many documents are clean now."""
    async with container.sessions() as session:
        pending = await lifecycle.find_purge_pending(session)
    done = 0
    for doc in pending:
        if not await purge_failed_vectors(container, doc):
            break  # the vector store is still away; the next pass tries again
        done += 1
    if pending:
        log.info("purged vectors of failed documents", extra={"purged": done, "pending": len(pending)})
    return done
