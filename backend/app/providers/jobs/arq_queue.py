"""Production job queue: ARQ on Redis, consumed by `arq app.workers.tasks.WorkerSettings` processes."""

from __future__ import annotations

import uuid

from arq import ArqRedis
from arq.constants import in_progress_key_prefix
from redis.asyncio import ConnectionPool

QUEUE_NAME = "citewise:queue"
WORKER_KEY_PREFIX = "citewise:worker:"


def ingest_job_id(document_id: str, lost_attempt: int | None = None) -> str:
    # Deterministic: a second enqueue while the job waits is a no-op in ARQ. When a worker
    # dies mid-job, ARQ keeps that id "in progress" for job_timeout + 10 s (an hour by default), so
    # a requeue after the lost attempt's lease expired needs an id of its own.
    if lost_attempt is None:
        return f"ingest:{document_id}"
    return f"ingest:{document_id}:after-{lost_attempt}"


class ArqJobQueue:
    def __init__(self, redis_url: str, *, socket_connect_timeout: float | None = None,
                 socket_timeout: float | None = None) -> None:
        self._url = redis_url
        self._timeouts = (socket_connect_timeout, socket_timeout)
        self._pool: ArqRedis | None = None

    async def start(self) -> None:
        # No ping: the API starts (and serves) while Redis is away; each call connects on demand
        # and raises redis ConnectionError until Redis is back.
        self._pool = ArqRedis(ConnectionPool.from_url(
            self._url, socket_connect_timeout=self._timeouts[0], socket_timeout=self._timeouts[1]),
                              default_queue_name=QUEUE_NAME)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose(close_connection_pool=True)
            self._pool = None

    @property
    def pool(self) -> ArqRedis:
        if self._pool is None:
            raise RuntimeError("ArqJobQueue.start() was not awaited")
        return self._pool

    async def enqueue_ingest(self, document_id: str, *, request_id: str | None = None,
                             lost_attempt: int | None = None) -> None:
        job_id = ingest_job_id(document_id, lost_attempt)
        if await self._enqueue(job_id, document_id, request_id) or await self._waiting(job_id):
            return
        # The id is taken by a job no worker will start soon: one running now, or one whose
        # worker took it and never finished it (killed, or its completion write failed while
        # Redis was away) — ARQ keeps such a job "in progress" for job_timeout + 10 s, an hour
        # by default, and a persistent Redis keeps it across restarts. A job claims whichever
        # document is next in line, so a job of a new id costs nothing and nothing waits for it.
        await self._enqueue(f"{job_id}:{uuid.uuid4().hex[:12]}", document_id, request_id)

    async def _enqueue(self, job_id: str, document_id: str, request_id: str | None) -> bool:
        job = await self.pool.enqueue_job("ingest_document", document_id, request_id,
                                          _job_id=job_id, _queue_name=QUEUE_NAME)
        return job is not None

    async def _waiting(self, job_id: str) -> bool:
        """The job is in the queue and no worker holds it: a worker will start it."""
        if await self.pool.zscore(QUEUE_NAME, job_id) is None:
            return False
        return not await self.pool.exists(in_progress_key_prefix + job_id)

    async def queue_depth(self) -> int:
        """Jobs waiting (deferred retries included); ARQ keeps running jobs in the queue too."""
        job_ids = await self.pool.zrange(QUEUE_NAME, 0, -1)
        if not job_ids:
            return 0
        running = await self.pool.exists(*(in_progress_key_prefix + j.decode() for j in job_ids))
        return len(job_ids) - int(running)

    async def active_workers(self) -> int:
        count = 0
        async for _ in self.pool.scan_iter(match=WORKER_KEY_PREFIX + "*", count=100):
            count += 1
        return count
