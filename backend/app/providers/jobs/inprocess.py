"""Embedded-profile job runner: asyncio workers inside the API process, bounded concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("citewise.jobs")

Handler = Callable[[str, str | None], Awaitable[float | None]]  # returns a retry delay or None
Upkeep = Callable[[], Awaitable[bool]]  # one bounded step; True when nothing is left to do
# At most this many upkeep steps per idle time: a step that never finishes its work cannot keep
# the runner busy for ever.
UPKEEP_STEPS = 1000


class InProcessJobQueue:
    def __init__(self, handler: Handler, *, concurrency: int = 2,
                 on_idle: Upkeep | None = None) -> None:
        self._handler = handler
        self._concurrency = concurrency
        self._on_idle = on_idle
        self._upkeep_running = False
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
            await self._upkeep()

    async def _upkeep(self) -> None:
        """`on_idle`'s steps once nothing is queued or running, until it has nothing left to do
        or a job arrives (which waits at most for the step in progress). One worker at a time;
        a failed step is logged and tried again at the next idle time."""
        if self._on_idle is None or self._upkeep_running:
            return
        self._upkeep_running = True
        try:
            for _ in range(UPKEEP_STEPS):
                if self._pending or await self._on_idle():
                    break
        except Exception:  # (cancellation is no Exception: it goes through)
            log.exception("idle upkeep failed")
        finally:
            self._upkeep_running = False

    async def _retry_later(self, document_id: str, request_id: str | None, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.enqueue_ingest(document_id, request_id=request_id)

    async def join(self) -> None:
        """Wait until nothing is queued or running (tests, CLI)."""
        await self._queue.join()
