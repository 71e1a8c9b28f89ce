"""Fixed-window failure counters for login throttling: Redis in production, memory when embedded.

In production the Redis counters fall back to this process's memory while Redis is unreachable
(`FallbackThrottle`): limits then hold per API process instead of across all of them, and the
API keeps answering."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("citewise.throttle")
T = TypeVar("T")


class Throttle(Protocol):
    async def retry_after(self, key: str, limit: int) -> int | None:
        """Seconds until `key` may try again, or None when it is under `limit`."""
        ...

    async def fail(self, key: str, window: int) -> None: ...

    async def reset(self, key: str) -> None: ...


class MemoryThrottle:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def retry_after(self, key: str, limit: int) -> int | None:
        expires, count = self._windows.get(key, (0.0, 0))
        now = time.monotonic()
        if expires <= now:
            self._windows.pop(key, None)
            return None
        return int(expires - now) + 1 if count >= limit else None

    async def fail(self, key: str, window: int) -> None:
        now = time.monotonic()
        expires, count = self._windows.get(key, (0.0, 0))
        if expires <= now:
            expires, count = now + window, 0
        self._windows[key] = (expires, count + 1)
        if len(self._windows) > 100_000:  # bound memory under a credential-stuffing flood
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)


class RedisThrottle:
    def __init__(self, redis: Redis, prefix: str = "citewise:throttle:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def retry_after(self, key: str, limit: int) -> int | None:
        k = self._prefix + key
        count = await self._redis.get(k)
        if count is None or int(count) < limit:
            return None
        ttl = await self._redis.ttl(k)
        return max(int(ttl), 1)

    async def fail(self, key: str, window: int) -> None:
        k = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(k)
            pipe.expire(k, window, nx=True)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class FallbackThrottle:
    """`primary` (Redis) while it answers; `fallback` (memory) while it is unreachable."""

    WARN_EVERY_SECONDS = 30.0

    def __init__(self, primary: Throttle, fallback: Throttle) -> None:
        self._primary = primary
        self._fallback = fallback
        self._last_warning = float("-inf")

    async def _call(self, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        try:
            return await primary()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            now = time.monotonic()
            if now - self._last_warning >= self.WARN_EVERY_SECONDS:  # one line per outage, not per request
                self._last_warning = now
                log.warning("Redis unreachable: rate limits and login throttles use this process's "
                            "memory until it is back", extra={"error": str(exc)})
            return await fallback()

    async def retry_after(self, key: str, limit: int) -> int | None:
        return await self._call(lambda: self._primary.retry_after(key, limit),
                                lambda: self._fallback.retry_after(key, limit))

    async def fail(self, key: str, window: int) -> None:
        await self._call(lambda: self._primary.fail(key, window),
                         lambda: self._fallback.fail(key, window))

    async def reset(self, key: str) -> None:
        await self._fallback.reset(key)  # both: a success must clear a count kept during an outage
        await self._call(lambda: self._primary.reset(key), lambda: self._fallback.reset(key))
