"""ARQ job ids of ingestion jobs against a real Redis and ARQ's real Worker loop: a job that no
worker will start (left "in progress" by a worker that never finished it) must not keep a
document's next job out of the queue."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix
from arq.worker import Worker, func

from app.providers.jobs.arq_queue import QUEUE_NAME, ArqJobQueue, ingest_job_id
from tests.conftest import require_redis
from tests.workers.conftest import WORKER_REDIS_URL

# What ARQ sets when a worker starts a job: job_timeout + 10 s (the default job timeout is an hour).
IN_PROGRESS_MS = 3_610_000


@pytest.fixture
async def queue() -> AsyncIterator[ArqJobQueue]:
    require_redis(WORKER_REDIS_URL, "TEST_WORKER_REDIS_URL")
    jobs = ArqJobQueue(WORKER_REDIS_URL)
    await jobs.start()
    await jobs.pool.flushdb()
    yield jobs
    await jobs.pool.flushdb()
    await jobs.stop()


async def started_by_a_worker(queue: ArqJobQueue) -> list[str]:
    """Run ARQ's Worker loop on the queue until it has started a job; the documents started."""
    seen: list[str] = []

    async def ingest_document(ctx: dict[str, Any], document_id: str, request_id: str | None = None) -> None:
        seen.append(document_id)

    worker = Worker(functions=[func(ingest_document, name="ingest_document")], queue_name=QUEUE_NAME,
                    redis_pool=queue.pool, handle_signals=False, poll_delay=0.05, keep_result=0)
    loop = asyncio.create_task(worker.main())
    try:
        # Bounded: a job no worker can start would keep the loop polling forever.
        async with asyncio.timeout(30):
            while not seen:
                assert not loop.done(), loop
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything else it would start
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    return seen


async def test_a_job_left_in_progress_does_not_block_the_documents_next_job(queue: ArqJobQueue) -> None:
    doc = str(uuid.uuid4())
    await queue.enqueue_ingest(doc)
    # A worker started it, then never finished it: killed, or its completion write failed while
    # Redis was away. Its job, queue entry and in-progress key stay behind for an hour.
    await queue.pool.psetex(in_progress_key_prefix + ingest_job_id(doc), IN_PROGRESS_MS, b"1")
    assert await queue.queue_depth() == 0  # nothing a worker will start

    await queue.enqueue_ingest(doc)  # the document is reprocessed, or the reconciler requeues it
    assert await queue.queue_depth() == 1
    assert await started_by_a_worker(queue) == [doc]


async def test_a_waiting_job_is_not_enqueued_twice(queue: ArqJobQueue) -> None:
    doc = str(uuid.uuid4())
    await queue.enqueue_ingest(doc)
    await queue.enqueue_ingest(doc)
    assert await queue.pool.zcard(QUEUE_NAME) == 1
    assert await started_by_a_worker(queue) == [doc]
