"""Embedded-profile job runner: asyncio workers inside the API process, bounded concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("citewise.jobs")

Handler = Callable[[str, str | None], Awaitable[float | None]]  # returns a retry delay or None


class InProcessJobQueue:
    def __init__(self, handler: Handler, *, concurrency: int = 2) -> None:
        self._handler = handler
        self._concurrency = concurrency
        self._queue: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()
        self._pending: set[str] = set()  # queued or running: enqueue is idempotent per document
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.Task[None]] = set()

    async def enqueue_ingest(self, document_id: str, *, request_id: str | None = None,
                             lost_attempt: int | None = None) -> None:
        # lost_attempt needs no special case: a lost job here died with this process, queue and all.
        if document_id in self._pending:
            return
        self._pending.add(document_id)
        await self._queue.put((document_id, request_id))

    async def queue_depth(self) -> int:
        return self._queue.qsize()

    async def active_workers(self) -> int:
        return sum(1 for t in self._tasks if not t.done())

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(i), name=f"citewise-job-{i}")
                       for i in range(self._concurrency)]

    async def stop(self) -> None:
        for task in [*self._tasks, *self._timers]:
            task.cancel()
        for task in [*self._tasks, *self._timers]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _work(self, index: int) -> None:
        while True:
            document_id, request_id = await self._queue.get()
            delay: float | None = None
            try:
                delay = await self._handler(document_id, request_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # the runner must outlive any job
                log.exception("job crashed", extra={"document_id": document_id})
            finally:
                self._pending.discard(document_id)
                self._queue.task_done()
            if delay is not None:
                timer = asyncio.create_task(self._retry_later(document_id, request_id, delay))
                self._timers.add(timer)
                timer.add_done_callback(self._timers.discard)

    async def _retry_later(self, document_id: str, request_id: str | None, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.enqueue_ingest(document_id, request_id=request_id)

    async def join(self) -> None:
        """Wait until nothing is queued or running (tests, CLI)."""
        await self._queue.join()
