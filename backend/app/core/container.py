"""The process-wide object graph, built once in the app lifespan (or by a worker at start-up)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.throttle import MemoryThrottle, RedisThrottle, Throttle
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker

AfterCommit = Callable[[], Awaitable[Any]]


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis | None
    throttle: Throttle
    # Filled by providers.factory.build_services (ingestion, retrieval, generation, jobs).
    services: Any = None
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def build_core(settings: Settings) -> Container:
    engine = create_engine(settings.effective_database_url)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    throttle: Throttle = RedisThrottle(redis) if redis is not None else MemoryThrottle()
    return Container(
        settings=settings, engine=engine, sessions=create_sessionmaker(engine), redis=redis,
        throttle=throttle,
    )


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run `action` once the request's transaction has committed (e.g. enqueue a job)."""
    session.info.setdefault("after_commit", []).append(action)


async def run_after_commit(session: AsyncSession) -> None:
    actions: list[AfterCommit] = session.info.pop("after_commit", [])
    for action in actions:
        await action()
