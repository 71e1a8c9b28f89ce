"""Throttle counters: Redis-backed, and falling back to memory while Redis cannot be reached."""

from __future__ import annotations

import logging
import os

import pytest
from redis.asyncio import Redis

from app.providers.throttle import FallbackThrottle, MemoryThrottle, RedisThrottle
from tests.conftest import require_redis
from tests.providers.conftest import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def test_fallback_uses_redis_while_it_answers() -> None:
    require_redis(REDIS_URL, "TEST_REDIS_URL")
    redis = Redis.from_url(REDIS_URL)
    memory = MemoryThrottle()
    throttle = FallbackThrottle(RedisThrottle(redis, prefix="citewise:test-throttle:"), memory)
    try:
        await throttle.reset("k")
        for _ in range(2):
            await throttle.fail("k", 60)
        assert await throttle.retry_after("k", 2) is not None
        assert await memory.retry_after("k", 1) is None  # counted in Redis, not in memory
        await throttle.reset("k")
        assert await throttle.retry_after("k", 2) is None
    finally:
        await redis.delete("citewise:test-throttle:k")
        await redis.aclose()


async def test_fallback_counts_in_memory_while_redis_is_down(caplog: pytest.LogCaptureFixture) -> None:
    # A real connection to a loopback port nobody listens on: refused at once.
    down = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    throttle = FallbackThrottle(RedisThrottle(down), MemoryThrottle())
    try:
        with caplog.at_level(logging.WARNING, logger="citewise.throttle"):
            assert await throttle.retry_after("ip:1", 3) is None
            for _ in range(3):
                await throttle.fail("ip:1", 60)
            wait = await throttle.retry_after("ip:1", 3)
        assert wait is not None and 0 < wait <= 61  # the limit still holds, in this process
        warnings = [r for r in caplog.records if r.name == "citewise.throttle"]
        assert len(warnings) == 1 and "memory" in warnings[0].getMessage()  # once per outage
        await throttle.reset("ip:1")
        assert await throttle.retry_after("ip:1", 3) is None
    finally:
        await down.aclose()
