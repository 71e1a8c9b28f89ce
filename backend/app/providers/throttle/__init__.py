"""Fixed-window failure counters for login throttling: Redis in production, memory when embedded."""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


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
