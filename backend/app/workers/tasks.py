"""ARQ worker: `arq app.workers.tasks.WorkerSettings` (or `citewise worker`).

Thin wrappers over app.workers.registry; the same functions run in the embedded in-process runner.
Both commands wait out a Redis outage instead of exiting: the pool from `redis_settings` waits and
reconnects while the worker runs (app/workers/redis_wait.py); `citewise worker` runs ARQ in
`ResilientWorker` (app/workers/resilient.py), which also waits for Redis at start-up, where the
spec's command gives up after ARQ's `conn_retries` and relies on its supervisor.
On SIGTERM a worker stops taking jobs and gives running ones `worker_shutdown_grace_seconds` to
finish; then it cancels them, and the pipeline hands each document back (`queued` at once) for
another worker. `citewise worker` always ends: a shutdown that overruns the grace period by
`resilient.SHUTDOWN_OVERRUN` dumps every thread's stack and exits with status 1.
Health: ARQ writes `citewise:queue:health-check` every `health_check_interval` seconds
(`arq --check app.workers.tasks.WorkerSettings` exits non-zero when it is stale), and each worker
keeps a `citewise:worker:<host>:<pid>` heartbeat key that /admin/stats counts.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import socket
from dataclasses import replace
from typing import Any, ClassVar

from arq import Retry, cron
from arq.connections import RedisSettings
from arq.worker import func
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.bootstrap import build_container
from app.core.config import get_settings
from app.core.context import request_id_var
from app.core.logging import configure_logging
from app.ingestion.pipeline import TransientFailure
from app.platform.container import Container
from app.providers.jobs.arq_queue import QUEUE_NAME, WORKER_KEY_PREFIX
from app.workers import registry
from app.workers.redis_wait import WaitForRedis

_settings = get_settings()
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
log = logging.getLogger("citewise.worker")
# ARQ's own try limit stays out of the way: the database decides when a document has failed
# (the retry window for transient errors, job_max_attempts for attempts lost with their worker).
ARQ_MAX_TRIES = 10_000
REDIS_WAIT = WaitForRedis()


async def startup(ctx: dict[str, Any]) -> None:
    configure_logging(_settings.log_level, _settings.log_json)
    # ARQ calls this from its main loop: from now until that loop ends, Redis outages are waited out.
    REDIS_WAIT.serve(asyncio.current_task())
    container = build_container(_settings)
    await container.jobs.start()
    ctx["container"] = container
    ctx["heartbeat"] = asyncio.create_task(_heartbeat(ctx))
    try:
        await registry.reconcile(container, startup=True)
    except Exception:  # the database is away: the periodic pass catches up, the worker stays up
        log.warning("startup reconciliation failed", exc_info=True)


async def shutdown(ctx: dict[str, Any]) -> None:
    task = ctx.get("heartbeat")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    container: Container | None = ctx.get("container")
    if container is not None:
        if container.redis is not None:
            with contextlib.suppress(Exception):  # Redis may be the reason we stop
                await container.redis.delete(WORKER_KEY_PREFIX + WORKER_NAME)
        await container.jobs.stop()
        await container.aclose()


async def _heartbeat(ctx: dict[str, Any]) -> None:
    redis = ctx["redis"]
    while True:
        with contextlib.suppress(Exception):  # Redis away: the next beat tries again
            await redis.set(WORKER_KEY_PREFIX + WORKER_NAME, "1", ex=30)
        await asyncio.sleep(10)


async def ingest_document(ctx: dict[str, Any], document_id: str, request_id: str | None = None) -> str:
    token = request_id_var.set(request_id)
    try:
        outcome = await registry.ingest(ctx["container"], document_id, worker=WORKER_NAME,
                                        request_id=request_id)
        return outcome.status
    except TransientFailure as exc:
        raise Retry(defer=exc.delay) from exc
    finally:
        request_id_var.reset(token)


async def reconcile_documents(ctx: dict[str, Any]) -> int:
    return await registry.reconcile(ctx["container"])


def _reconcile_schedule() -> dict[str, set[int]]:
    """ARQ cron fields for `reconcile_interval_seconds` (rounded to what cron can express)."""
    interval = max(1, _settings.reconcile_interval_seconds)
    if interval < 60:
        return {"second": set(range(0, 60, interval))}
    return {"second": {0}, "minute": set(range(0, 60, max(1, interval // 60)))}


class WorkerSettings:
    functions: ClassVar[list[Any]] = [
        func(ingest_document, name="ingest_document", max_tries=ARQ_MAX_TRIES,
             timeout=_settings.job_timeout_seconds),
    ]
    cron_jobs: ClassVar[list[Any]] = [cron(reconcile_documents, **_reconcile_schedule(),  # type: ignore[arg-type]
                                           run_at_startup=False, unique=True, timeout=120)]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = QUEUE_NAME
    redis_settings = replace(RedisSettings.from_dsn(_settings.redis_url or "redis://127.0.0.1:6379/0"),
                             retry=REDIS_WAIT, retry_on_error=[RedisConnectionError, RedisTimeoutError])
    max_jobs = _settings.job_concurrency
    job_timeout = _settings.job_timeout_seconds
    keep_result = 0  # results live in the database; lets a finished job id be enqueued again
    health_check_interval = 30
    handle_signals = True
    # SIGTERM/SIGINT: stop taking jobs, wait this long for running ones, then cancel them.
    job_completion_wait = _settings.worker_shutdown_grace_seconds


def run_worker() -> int:
    from arq.worker import get_kwargs

    from app.workers.resilient import ResilientWorker

    status = 0
    try:
        ResilientWorker(**get_kwargs(WorkerSettings)).run()  # type: ignore[arg-type]
    except BaseException:  # logged; the process still leaves below
        log.exception("the worker stopped on an error")
        status = 1
    # Every job has finished or been handed back, and the shutdown hook has run (or failed).
    # Leave now, whichever: the interpreter would otherwise wait for a worker thread still
    # computing an abandoned embedding batch (seconds to minutes on a busy host) before the
    # process could exit.
    atexit._run_exitfuncs()  # e.g. stop the warm extraction hosts
    logging.shutdown()
    os._exit(status)
