"""The worker's Redis retry policy (app/workers/redis_wait.py) against a real redis-server that
is stopped and started again: commands wait while the worker runs, and fail at once before it
starts and once it stops (so `arq --check`, start-up and shutdown never hang)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.exceptions import ConnectionError as RedisConnectionError

from app.workers.redis_wait import WaitForRedis
from tests.faults.conftest import RedisServer


@pytest.fixture
async def pool(redis_server: RedisServer) -> AsyncIterator[tuple[ArqRedis, WaitForRedis]]:
    wait = WaitForRedis()
    # What app.workers.tasks.WorkerSettings.redis_settings carries.
    settings = replace(RedisSettings.from_dsn(redis_server.url), retry=wait,
                       retry_on_error=[RedisConnectionError], conn_retries=0)
    arq_pool = await create_pool(settings)
    yield arq_pool, wait
    wait.serve(None)
    await arq_pool.aclose()


async def test_a_running_worker_waits_for_redis(redis_server: RedisServer,
                                                pool: tuple[ArqRedis, WaitForRedis]) -> None:
    redis, wait = pool
    stop = asyncio.Event()

    async def worker_loop() -> None:  # stands for ARQ's main loop
        await stop.wait()

    main = asyncio.create_task(worker_loop())
    wait.serve(main)
    await redis.set("before", "1")
    redis_server.stop()
    pending = asyncio.create_task(redis.set("during", "1"))
    await asyncio.sleep(3)
    assert not pending.done()  # waiting, not failed
    redis_server.start()  # empty: nothing persisted
    assert await asyncio.wait_for(pending, timeout=30) is True
    assert await redis.get("during") == b"1"
    stop.set()
    await main


async def test_commands_fail_at_once_before_start_and_once_stopping(
        redis_server: RedisServer, pool: tuple[ArqRedis, WaitForRedis]) -> None:
    redis, wait = pool
    redis_server.stop()
    with pytest.raises(RedisConnectionError):  # not started: ARQ's conn_retries decide
        await asyncio.wait_for(redis.get("x"), timeout=10)

    async def worker_loop() -> None:
        await asyncio.sleep(3600)

    main = asyncio.create_task(worker_loop())
    wait.serve(main)
    main.cancel()  # what ARQ does on SIGTERM once running jobs had their grace period
    with pytest.raises(asyncio.CancelledError):
        await main
    with pytest.raises(RedisConnectionError):  # stopping: the shutdown does not hang
        await asyncio.wait_for(redis.get("x"), timeout=10)
    redis_server.start()
