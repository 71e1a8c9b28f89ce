"""Production job queue: ARQ on Redis, consumed by `arq app.workers.tasks.WorkerSettings` processes."""

from __future__ import annotations

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

QUEUE_NAME = "citewise:queue"
WORKER_KEY_PREFIX = "citewise:worker:"


def ingest_job_id(document_id: str) -> str:
    # Deterministic: a second enqueue while the job waits or runs is a no-op in ARQ.
    return f"ingest:{document_id}"


class ArqJobQueue:
    def __init__(self, redis_url: str) -> None:
        self._settings = RedisSettings.from_dsn(redis_url)
        self._pool: ArqRedis | None = None

    async def start(self) -> None:
        self._pool = await create_pool(self._settings, default_queue_name=QUEUE_NAME)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    @property
    def pool(self) -> ArqRedis:
        if self._pool is None:
            raise RuntimeError("ArqJobQueue.start() was not awaited")
        return self._pool

    async def enqueue_ingest(self, document_id: str, *, request_id: str | None = None) -> None:
        await self.pool.enqueue_job("ingest_document", document_id, request_id,
                                    _job_id=ingest_job_id(document_id), _queue_name=QUEUE_NAME)

    async def queue_depth(self) -> int:
        return int(await self.pool.zcard(QUEUE_NAME))

    async def active_workers(self) -> int:
        count = 0
        async for _ in self.pool.scan_iter(match=WORKER_KEY_PREFIX + "*", count=100):
            count += 1
        return count
