"""The active vector index: which embedder + Chroma collection every ingest and query uses.

State lives in the `app_settings` row `vector_index` (so every API and worker process agrees):
`active` = the embedding config and collection that answer queries; `building` = the one being
filled during a re-index (see `app.admin.reindex`). New chunks are written to both (`targets()`);
queries use `active` until one UPDATE switches it. Embedders are cached here, one per config.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.platform.models import AppSetting
from app.platform.runtime import EmbeddingValues, RuntimeSettingsService
from app.providers.embeddings.base import Embedder
from app.providers.vectorstore.base import collection_name

STATE_KEY = "vector_index"
LOCK_KEY = "vector_index_lock"
CACHE_TTL_SECONDS = 2.0

IndexStateDict = dict[str, Any]  # the JSON row: {"active": {...}, "building": {...} | None, ...}
EmbedderFactory = Callable[[EmbeddingValues], Embedder]


@runtime_checkable
class SizedByCall(Protocol):
    """Remote embedders learn their dimension from one call."""

    async def ensure_dimension(self) -> int: ...


@runtime_checkable
class AsyncClosable(Protocol):
    async def aclose(self) -> None: ...


async def embedder_dimension(embedder: Embedder) -> int:
    if isinstance(embedder, SizedByCall):
        return int(await embedder.ensure_dimension())
    return embedder.dimension


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ActiveIndex:
    """Which embedder + Chroma collection answers queries (and where new chunks are written)."""

    embedder: Embedder
    collection: str


@dataclass(frozen=True, slots=True)
class IndexConfig:
    provider: str
    model: str
    base_url: str | None
    dimension: int
    collection: str

    def identity(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model,
                "base_url": self.base_url if self.provider == "openai" else None,
                "dimension": self.dimension}

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "base_url": self.base_url,
                "dimension": self.dimension, "collection": self.collection}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IndexConfig:
        return cls(provider=d["provider"], model=d["model"], base_url=d.get("base_url"),
                   dimension=int(d["dimension"]), collection=d["collection"])


@dataclass(frozen=True, slots=True)
class ReindexStatus:
    status: str  # idle | requested | running | interrupted | failed (the last build; old index kept)
    progress: int  # 0-100
    collection: str | None  # the collection being built, else the active one
    active_collection: str | None = None
    error: str | None = None
    done: int = 0
    total: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "progress": self.progress, "collection": self.collection,
                "active_collection": self.active_collection, "error": self.error,
                "done": self.done, "total": self.total}


class IndexState:
    """Reads (cached for `ttl` seconds) and writes the index state; owns the embedder cache."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], runtime: RuntimeSettingsService,
                 embedder_factory: EmbedderFactory, *, ttl: float = CACHE_TTL_SECONDS) -> None:
        self._sessions = sessions
        self.runtime = runtime
        self._factory = embedder_factory
        self.ttl = ttl
        self._state: IndexStateDict | None = None
        self._loaded_at = 0.0
        self._embedders: dict[str, Embedder] = {}
        self._ensure_lock = asyncio.Lock()

    async def active(self) -> ActiveIndex:
        state = await self._current()
        return await self.index_for(IndexConfig.from_dict(state["active"]))

    async def targets(self) -> list[ActiveIndex]:
        """Where new chunks go: the active index, plus the one being built during a re-index."""
        state = await self._current()
        out = [await self.index_for(IndexConfig.from_dict(state["active"]))]
        building = state.get("building")
        if building and building.get("status") == "running":
            out.append(await self.index_for(IndexConfig.from_dict(building)))
        return out

    def invalidate(self) -> None:
        self._state = None

    async def ensure_state(self) -> IndexStateDict:
        """Pin the active index to the current embedding settings the first time it is needed."""
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            if row is not None and row.value.get("active"):
                return dict(row.value)
        async with self._ensure_lock:
            values = await self.runtime.current()
            config = await self.config_for(values.embedding, rebuild_of=None)
            async with self._sessions() as session:
                row = await session.get(AppSetting, STATE_KEY)
                if row is not None and row.value.get("active"):
                    return dict(row.value)
                if row is None:
                    session.add(AppSetting(key=STATE_KEY, value={"active": config.to_dict()}))
                else:
                    row.value = {**row.value, "active": config.to_dict()}
                try:
                    await session.commit()
                except IntegrityError:  # another process pinned it first: use theirs
                    await session.rollback()
            return await self.read_state()

    async def read_state(self) -> IndexStateDict:
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            return dict(row.value) if row else {}

    async def write_state(self, state: IndexStateDict) -> None:
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            if row is None:
                session.add(AppSetting(key=STATE_KEY, value=state))
            else:
                row.value = state
            await session.commit()
        self.invalidate()

    async def needs_reindex(self) -> bool:
        """True when a rebuild was requested or the embedding settings no longer match `active`."""
        state = await self.ensure_state()
        values = await self.runtime.current()
        return bool(state.get("requested")) or (
            IndexConfig.from_dict(state["active"]).identity()
            != _identity_of(values.embedding, state["active"].get("dimension"))
        )

    async def index_for(self, config: IndexConfig) -> ActiveIndex:
        values = await self._values_for(config)
        key = _embedder_key(config, values.api_key)  # a new API key gets a new client
        embedder = self._embedders.get(key)
        if embedder is None:
            embedder = self._factory(values)
            self._embedders[key] = embedder
        return ActiveIndex(embedder=embedder, collection=config.collection)

    async def config_for(self, values: EmbeddingValues, *, rebuild_of: IndexConfig | None) -> IndexConfig:
        """The config (and collection name) for embedding settings; beside `rebuild_of` if it is
        the same model, so a rebuild never writes into the live collection."""
        embedder = self._factory(values)
        dimension = await embedder_dimension(embedder)
        name = collection_name(embedder.model_id, dimension)
        if rebuild_of is not None and name == rebuild_of.collection:
            suffix = f"__r{secrets.token_hex(2)}"
            name = name[: 63 - len(suffix)] + suffix
        config = IndexConfig(provider=values.provider, model=values.model,
                             base_url=values.base_url, dimension=dimension, collection=name)
        self._embedders.setdefault(_embedder_key(config, values.api_key), embedder)
        return config

    async def aclose(self) -> None:
        for embedder in self._embedders.values():
            if isinstance(embedder, AsyncClosable):  # remote embedders hold an HTTP client
                await embedder.aclose()
        self._embedders.clear()

    async def _current(self) -> IndexStateDict:
        if self._state is not None and time.monotonic() - self._loaded_at < self.ttl:
            return self._state
        state = await self.ensure_state()
        self._state, self._loaded_at = state, time.monotonic()
        return state

    async def _values_for(self, config: IndexConfig) -> EmbeddingValues:
        current = (await self.runtime.current()).embedding
        # The API key is not part of the index identity: use the configured one for this provider.
        provider: Literal["local", "openai"] = "openai" if config.provider == "openai" else "local"
        return replace(current, provider=provider, model=config.model, base_url=config.base_url,
                       dimension=config.dimension,
                       api_key=current.api_key if current.provider == config.provider else None)


def _identity_of(values: EmbeddingValues, pinned_dimension: int | None) -> dict[str, Any]:
    identity = values.identity()
    if identity["dimension"] is None:  # "whatever the model gives": compare on the pinned one
        identity["dimension"] = pinned_dimension
    return identity


def _embedder_key(config: IndexConfig, api_key: str | None) -> str:
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:12]
    return json.dumps(config.identity(), sort_keys=True) + digest
