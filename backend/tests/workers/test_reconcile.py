"""Lost jobs come back: a flushed Redis, a worker that died holding a lease, and a document that
has used up its attempts (which fails with a readable message instead of looping). The same
worker shows the health signals operators use: `arq --check` and heartbeat keys."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from app.documents.models import Document, Job
from app.platform.container import Container
from app.providers.jobs.arq_queue import QUEUE_NAME, ArqJobQueue
from app.workers import registry
from tests import docgen as testdocs
from tests.workers.conftest import (
    ARQ,
    BACKEND_DIR,
    Stack,
    add_document,
    add_user,
    documents,
    jobs_of,
    start_container,
    wait_for,
)

HEALTH_KEY = QUEUE_NAME + ":health-check"  # what `arq --check` reads
GAVE_UP = "Processing was interrupted repeatedly and has been stopped. Use Retry to try again."


async def _orphan(container: Container, doc_id: str, attempts: int) -> None:
    """Make a document look like its worker died mid-attempt: processing, lease long gone."""
    past = datetime.now(UTC) - timedelta(minutes=5)
    async with container.sessions() as session:
        await session.execute(update(Document).where(Document.id == doc_id).values(
            status="processing", stage="embedding", progress=50, attempts=attempts,
            lease_expires_at=past, started_at=past))
        session.add(Job(document_id=doc_id, attempt=attempts, status="running", worker="dead:1"))
        await session.commit()


async def test_flushed_redis_and_dead_leases_are_reconciled(stack: Stack, tmp_path: Path) -> None:
    container = await start_container(stack.settings)
    try:
        jobs = container.jobs
        assert isinstance(jobs, ArqJobQueue)
        await jobs.start()
        owner = await add_user(container)
        flushed = [await add_document(container, owner, path)
                   for path in (testdocs.notes_docx(tmp_path / "notes.docx"),
                                testdocs.markdown_table(tmp_path / "table.md"))]
        lost = await add_document(container, owner, testdocs.simple_rtf(tmp_path / "letter.rtf"))
        spent = await add_document(container, owner, testdocs.simple_odt(tmp_path / "guide.odt"))
        for doc_id in flushed:
            await jobs.enqueue_ingest(doc_id)
        assert await jobs.queue_depth() == 2
        await jobs.pool.flushdb()  # Redis lost everything while no worker ran
        assert await jobs.queue_depth() == 0
        await _orphan(container, lost, attempts=1)
        await _orphan(container, spent, attempts=stack.settings.job_max_attempts)

        # The periodic pass: dead leases are handled at once, fresh `queued` rows get a grace period.
        assert await registry.reconcile(container) == 1
        assert await jobs.queue_depth() == 1
        by_id = {d.id: d for d in await documents(container)}
        assert by_id[lost].status == "queued" and by_id[lost].lease_expires_at is None
        assert by_id[spent].status == "failed" and by_id[spent].error == GAVE_UP
        assert [by_id[i].status for i in flushed] == ["queued", "queued"]
        assert [j.status for j in await jobs_of(container, spent)] == ["interrupted"]

        # No worker has run against this (flushed) Redis DB: no health record, no heartbeat.
        assert not await jobs.pool.exists(HEALTH_KEY)
        assert await jobs.active_workers() == 0

        # A worker's start-up pass re-enqueues the flushed ones without waiting for the grace.
        worker = stack.start_worker()

        async def settled() -> bool:
            assert worker.alive(), worker.log_tail()
            return all(d.status in ("ready", "failed") for d in await documents(container))

        await wait_for(settled, timeout=150, interval=0.5, what="reconciled documents to finish",
                       on_timeout=stack.worker_logs)
        by_id = {d.id: d for d in await documents(container)}
        for doc_id in [*flushed, lost]:
            assert by_id[doc_id].status == "ready", (by_id[doc_id].error, stack.worker_logs())
            assert by_id[doc_id].chunk_count > 0
        assert by_id[lost].attempts == 2
        assert [j.status for j in await jobs_of(container, lost)] == ["interrupted", "succeeded"]
        assert [by_id[i].attempts for i in flushed] == [1, 1]
        assert by_id[spent].status == "failed" and by_id[spent].error == GAVE_UP

        assert await jobs.active_workers() == 1
        check = await asyncio.to_thread(
            subprocess.run, [str(ARQ), "--check", "app.workers.tasks.WorkerSettings"],
            cwd=BACKEND_DIR, env=stack.env, capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
        # A graceful stop removes the heartbeat at once (a killed worker's expires within 30 s).
        assert worker.stop() == 0, worker.log_tail()
        assert await jobs.active_workers() == 0
    finally:
        await container.aclose()
