"""The worker's Redis connections wait out an outage instead of raising.

ARQ ends the worker process on the first Redis error. Both ways of running the worker —
`citewise worker` and the spec's `arq app.workers.tasks.WorkerSettings`, which runs ARQ's own
Worker class — get their Redis pool from `WorkerSettings.redis_settings`, and that carries this
retry policy: while the worker runs, a command that cannot reach Redis waits (exponential backoff
up to BACKOFF_MAX) and tries again until Redis answers, so polling pauses, running jobs go on
(they need only the database and the vector store) and even ARQ's own bookkeeping after a job
(deleting its in-progress key) is done late rather than lost. Before the worker has started
(ARQ's `conn_retries` governs connecting, and `arq --check` must answer) and once it is stopping,
a failure raises at once: start-up keeps its limit and shutdown never hangs on a dead Redis.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("citewise.worker")
T = TypeVar("T")

BACKOFF_START = 0.25  # the first pause is twice this
BACKOFF_MAX = 15.0
# What "Redis is unreachable" looks like: redis-py's errors, and the socket's own while connecting.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)


class WaitForRedis(Retry):
    """One instance per worker process, shared by all its connections (see __deepcopy__)."""

    def __init__(self) -> None:
        super().__init__(ExponentialBackoff(cap=BACKOFF_MAX, base=BACKOFF_START), retries=0,
                         supported_errors=(RedisConnectionError, RedisTimeoutError))
        self._worker: asyncio.Task[Any] | None = None
        self._outage = False

    def __deepcopy__(self, memo: dict[int, Any]) -> WaitForRedis:
        # redis-py deep-copies the policy into every connection; the copies must all see the
        # worker's state, so they are this object.
        return self

    def serve(self, worker_task: asyncio.Task[Any] | None) -> None:
        """Wait out outages while `worker_task` (the worker's main loop) runs."""
        self._worker = worker_task

    @property
    def waiting(self) -> bool:
        task = self._worker
        return task is not None and not task.done() and not task.cancelling()

    async def call_with_retry(self, do: Callable[[], Awaitable[T]],
                              fail: Callable[[Any], Any]) -> T:
        failures = 0
        while True:
            try:
                result = await do()
            except UNREACHABLE as error:
                failures += 1
                await fail(error)  # redis-py's clean-up: drop the broken connection
                if not self.waiting:
                    raise
                if not self._outage:
                    self._outage = True
                    log.warning("Redis unreachable; the worker waits and reconnects "
                                "(running jobs go on)", extra={"error": str(error)})
                await asyncio.sleep(self._backoff.compute(failures))
                continue
            if self._outage:
                self._outage = False
                log.info("Redis reachable again; the worker takes jobs")
            return result
