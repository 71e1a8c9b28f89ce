"""The process-wide services object: built in one step by `app.bootstrap.build_container` for the
API lifespan, the ARQ worker, the CLI and tests, then never changed (frozen).

Domains depend on this type and on the provider protocols it holds, never on concrete classes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.platform.chat_models import ChatModelCache
from app.platform.index import EmbedderFactory, IndexState, ReindexStatus
from app.platform.runtime import RuntimeSettingsService
from app.providers.files.base import FileStore
from app.providers.jobs.base import JobQueue
from app.providers.keyword.base import KeywordIndex
from app.providers.oidc.base import IdentityProvider
from app.providers.throttle import Throttle
from app.providers.vectorstore.base import VectorStore

log = logging.getLogger("citewise")

Closer = Callable[[], Awaitable[None]]


class ReindexControl(Protocol):
    """The re-index build workflow (`app.admin.reindex.Reindexer`), as the API and CLI use it."""

    async def status(self) -> ReindexStatus: ...

    async def start(self, *, force: bool = False) -> ReindexStatus:
        """Start a build in the background of this process unless one runs somewhere already."""
        ...

    async def run(self, *, force: bool = False) -> ReindexStatus:
        """Build to completion in the caller."""
        ...

    async def request(self) -> None:
        """Record a request that whichever process runs `watch()` picks up."""
        ...

    async def reconcile(self) -> ReindexStatus | None:
        """Start a build if settings changed, one was requested, or a build's process died."""
        ...

    async def watch(self, interval: float = 10.0) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis | None
    throttle: Throttle
    files: FileStore
    vectors: VectorStore
    keywords: KeywordIndex  # full-text search for the database's dialect
    jobs: JobQueue
    runtime: RuntimeSettingsService
    index: IndexState
    reindex: ReindexControl
    embedders: EmbedderFactory  # builds an embedder for settings not saved yet (test connection)
    chat_models: ChatModelCache
    identity: IdentityProvider | None = None  # the OpenID Connect provider when SSO is configured
    # Shut-down steps, run in reverse order by `aclose` (background tasks register theirs here).
    closers: list[Closer] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()
        await self.reindex.aclose()
        await self.chat_models.aclose()
        if self.identity is not None:
            await self.identity.aclose()
        await self.index.aclose()
        await self.vectors.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


AfterCommit = Callable[[], Awaitable[object]]


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run `action` once the request's transaction has committed (e.g. enqueue a job)."""
    session.info.setdefault("after_commit", []).append(action)


async def run_after_commit(session: AsyncSession) -> None:
    """The transaction is committed, so the request succeeded whatever happens here: an action
    that fails (Redis or Chroma away) is logged, and the reconciler makes up for it (a `queued`
    document is enqueued again once Redis is back)."""
    actions: list[AfterCommit] = session.info.pop("after_commit", [])
    for action in actions:
        try:
            await action()
        except Exception:
            log.warning("an action after the commit failed; the reconciler will catch up",
                        exc_info=True)
