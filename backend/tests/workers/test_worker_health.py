"""Operators can tell a worker is alive: `arq --check` and the heartbeat count on /admin/stats."""

from __future__ import annotations

import asyncio
import subprocess

from app.providers.jobs.arq_queue import ArqJobQueue
from tests.workers.conftest import ARQ, BACKEND_DIR, Stack, wait_for


def _arq_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ARQ), "--check", "app.workers.tasks.WorkerSettings"], cwd=BACKEND_DIR,
                          env=env, capture_output=True, text=True, timeout=120)


async def test_check_and_heartbeats_follow_the_worker(stack: Stack) -> None:
    assert stack.settings.redis_url
    queue = ArqJobQueue(stack.settings.redis_url)
    await queue.start()
    try:
        # Nothing runs yet: the health check fails and no heartbeat is counted.
        assert (await asyncio.to_thread(_arq_check, stack.env)).returncode != 0
        assert await queue.active_workers() == 0

        worker = stack.start_worker()

        async def heartbeats() -> int:
            assert worker.alive(), worker.log_tail()
            return await queue.active_workers()

        assert await wait_for(heartbeats, timeout=90, what="the worker's heartbeat",
                              on_timeout=stack.worker_logs) == 1
        check = await asyncio.to_thread(_arq_check, stack.env)
        assert check.returncode == 0, check.stdout + check.stderr

        # A graceful stop removes its heartbeat at once (a killed one expires within 30 s).
        assert worker.stop() == 0, worker.log_tail()
        assert await queue.active_workers() == 0
    finally:
        await queue.stop()
