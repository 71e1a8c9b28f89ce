"""Which embedder + collection serve queries, and re-indexing into a new one without downtime.

State lives in the `app_settings` row `vector_index` (so every API and worker process agrees):
`active` = the embedding config and collection that answer queries; `building` = the one being
filled during a re-index. New chunks are written to both (`targets()`), queries keep using
`active` until the build is complete and caught up, then one UPDATE switches them over and the old
collection is dropped. Only one build runs at a time across processes: a lease in the
`vector_index_lock` row (compare-and-set on `updated_by`/`updated_at`, renewed every batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.admin.models import AppSetting
from app.admin.runtime import EmbeddingValues, RuntimeSettingsService
from app.core.config import Settings
from app.core.services import ActiveIndex
from app.documents.models import Chunk, Document
from app.ingestion.embedding_text import embedding_text
from app.providers.embeddings.base import Embedder
from app.providers.vectorstore.base import VectorRecord, VectorStore, collection_name

log = logging.getLogger("citewise.reindex")

STATE_KEY = "vector_index"
LOCK_KEY = "vector_index_lock"
BATCH = 64
LEASE_SECONDS = 300
# A filter every chunk vector matches: `ids()` insists on one.
ALL_CHUNKS: dict[str, Any] = {"n": {"$gte": 0}}

EmbedderFactory = Callable[[EmbeddingValues], Embedder]


def build_embedder(values: EmbeddingValues) -> Embedder:
    """The embedder for an embedding config (the one place naming the concrete classes here)."""
    if values.provider == "openai":
        from app.providers.embeddings.openai_compat import OpenAICompatEmbedder

        if not values.base_url:
            raise ValueError("an OpenAI-compatible embedder needs a base URL")
        return OpenAICompatEmbedder(base_url=values.base_url, model=values.model,
                                    api_key=values.api_key, dimension=values.dimension)
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    return LocalOnnxEmbedder(batch_size=values.batch_size, threads=values.threads)


async def embedder_dimension(embedder: Embedder) -> int:
    ensure = getattr(embedder, "ensure_dimension", None)  # remote models learn it from one call
    if ensure is not None:
        return int(await ensure())
    return embedder.dimension


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


class ReindexAborted(Exception):
    """The lease was lost (another process took over) or the build was cancelled."""


def _now() -> datetime:
    return datetime.now(UTC)


class IndexManager:
    def __init__(
        self, settings: Settings, sessions: async_sessionmaker[AsyncSession],
        runtime: RuntimeSettingsService, vectors: VectorStore, *,
        embedder_factory: EmbedderFactory = build_embedder, ttl: float = 2.0, batch_size: int = BATCH,
        lease_seconds: int = LEASE_SECONDS,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._runtime = runtime
        self._vectors = vectors
        self._factory = embedder_factory
        self._ttl = ttl
        self._batch = batch_size
        self._lease_seconds = lease_seconds
        self._state: dict[str, Any] | None = None
        self._loaded_at = 0.0
        self._embedders: dict[str, Embedder] = {}
        self._task: asyncio.Task[ReindexStatus] | None = None
        self._ensure_lock = asyncio.Lock()

    # ---- queries ---------------------------------------------------------------------------------

    async def active(self) -> ActiveIndex:
        state = await self._current_state()
        return await self._index(IndexConfig.from_dict(state["active"]))

    async def targets(self) -> list[ActiveIndex]:
        """Where new chunks go: the active index, plus the one being built during a re-index."""
        state = await self._current_state()
        out = [await self._index(IndexConfig.from_dict(state["active"]))]
        building = state.get("building")
        if building and building.get("status") == "running":
            out.append(await self._index(IndexConfig.from_dict(building)))
        return out

    async def status(self) -> ReindexStatus:
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            lock = await session.get(AppSetting, LOCK_KEY)
        state = dict(row.value) if row else {}
        active = (state.get("active") or {}).get("collection")
        building = state.get("building")
        if building:
            done, total = int(building.get("done", 0)), int(building.get("total", 0))
            progress = 100 if total == 0 else min(99, done * 100 // total)
            status = building.get("status", "running")
            if status == "running" and not self._lock_live(lock):
                status = "interrupted"  # its process died; `reconcile()` resumes it
            return ReindexStatus(status=status, progress=progress if status != "failed" else 0,
                                 collection=building.get("collection"), active_collection=active,
                                 error=building.get("error"), done=done, total=total)
        error = state.get("last_error") or None
        status = "requested" if state.get("requested") else "failed" if error else "idle"
        return ReindexStatus(status=status, progress=0 if status == "requested" else 100,
                             collection=active, active_collection=active, error=error)

    # ---- control ---------------------------------------------------------------------------------

    async def ensure_state(self) -> dict[str, Any]:
        """Pin the active index to the current embedding settings the first time it is needed."""
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            if row is not None and row.value.get("active"):
                return dict(row.value)
        async with self._ensure_lock:
            values = await self._runtime.current()
            config = await self._config_for(values.embedding, rebuild_of=None)
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
            async with self._sessions() as session:
                row = await session.get(AppSetting, STATE_KEY)
                assert row is not None
                return dict(row.value)

    async def needs_reindex(self) -> bool:
        state = await self.ensure_state()
        values = await self._runtime.current()
        return bool(state.get("requested")) or (
            IndexConfig.from_dict(state["active"]).identity()
            != _identity_of(values.embedding, state["active"].get("dimension"))
        )

    async def start(self, *, force: bool = False) -> ReindexStatus:
        """Start a build in this process (background task) unless one runs somewhere already."""
        if self._task is not None and not self._task.done():
            return await self.status()
        token = await self._prepare(force=force)
        if token is None:
            return await self.status()
        self._task = asyncio.create_task(self._build(token), name="citewise-reindex")
        return await self.status()

    async def run(self, *, force: bool = False) -> ReindexStatus:
        """Build to completion in the caller (CLI `--wait`, tests)."""
        if self._task is not None and not self._task.done():
            return await self._task
        token = await self._prepare(force=force)
        if token is None:
            return await self.status()
        return await self._build(token)

    async def wait(self) -> ReindexStatus | None:
        return await self._task if self._task is not None else None

    async def request(self) -> None:
        """Ask whichever process runs `watch()` to rebuild (used by `citewise reindex` without --wait)."""
        await self.ensure_state()
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            assert row is not None
            row.value = {**row.value, "requested": True}
            await session.commit()

    async def reconcile(self) -> ReindexStatus | None:
        """Start a build when settings changed, one was requested, or a build's process died."""
        if self._task is not None and not self._task.done():
            return None
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            lock = await session.get(AppSetting, LOCK_KEY)
        building = (row.value.get("building") if row else None) or {}
        if building.get("status") == "running":
            return await self.start() if not self._lock_live(lock) else None
        if await self.needs_reindex():
            return await self.start()
        return None

    async def watch(self, interval: float = 10.0) -> None:
        """Background loop for the API/worker lifespan: resumes interrupted or requested builds."""
        while True:
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("re-index reconcile failed")
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for embedder in self._embedders.values():
            close = getattr(embedder, "aclose", None)
            if close is not None:
                await close()
        self._embedders.clear()

    def invalidate(self) -> None:
        self._state = None

    # ---- the build -------------------------------------------------------------------------------

    async def _prepare(self, *, force: bool) -> str | None:
        state = await self.ensure_state()
        token = str(uuid.uuid4())
        if not await self._acquire(token):
            return None
        try:
            async with self._sessions() as session:
                row = await session.get(AppSetting, STATE_KEY)
                assert row is not None
                state = dict(row.value)
            building = state.get("building") or {}
            values = (await self._runtime_fresh()).embedding
            active = IndexConfig.from_dict(state["active"])
            if building.get("status") == "running":  # resume an interrupted build where it was
                target = IndexConfig.from_dict(building)
            else:
                target = await self._config_for(values, rebuild_of=active)
                if target.identity() == active.identity() and not (force or state.get("requested")):
                    await self._release(token)
                    return None
            total = await self._count_ready_chunks()
            new_state = {**state, "requested": False, "last_error": None,
                         "building": {**target.to_dict(), "status": "running", "done": 0,
                                      "total": total, "started_at": _now().isoformat(),
                                      "error": None}}
            await self._write_state(new_state)
            log.info("re-index started", extra={"collection": target.collection, "chunks": total})
            return token
        except Exception as exc:  # e.g. the new embedding server is unreachable: say so in status
            log.warning("re-index could not start: %s", exc)
            await self._write_state({**(await self._read_state()),
                                     "last_error": f"{type(exc).__name__}: {exc}"[:500]})
            await self._release(token)
            return None
        except BaseException:
            await self._release(token)
            raise

    async def _build(self, token: str) -> ReindexStatus:
        try:
            state = await self._read_state()
            target = IndexConfig.from_dict(state["building"])
            index = await self._index(target)
            await self._fill(index, token)
            await self._sync(index, token)  # catch up with chunks added or removed meanwhile
            old = await self._switch(token)
            # Other processes cache the state for `ttl` seconds: let them move off the old
            # collection before it disappears.
            await asyncio.sleep(self._ttl + 0.5)
            if old is not None and old.collection != target.collection:
                await self._vectors.drop_collection(old.collection)
            await self._sync(index, token)  # documents that finished during the switch
            log.info("re-index complete", extra={"collection": target.collection})
        except asyncio.CancelledError:
            await self._release(token)
            raise
        except ReindexAborted:
            log.warning("re-index lease lost; another process continues it")
            return await self.status()
        except Exception as exc:
            log.exception("re-index failed")
            await self._fail(token, f"{type(exc).__name__}: {exc}")
        await self._release(token)
        self.invalidate()
        return await self.status()

    async def _fill(self, index: ActiveIndex, token: str) -> None:
        done, after = 0, ""
        while True:
            async with self._sessions() as session:
                stmt = (select(Chunk).join(Document, Document.id == Chunk.document_id)
                        .where(Document.status == "ready", Chunk.id > after)
                        .order_by(Chunk.id).limit(self._batch))
                chunks = list((await session.execute(stmt)).scalars())
            if not chunks:
                return
            await self._embed_upsert(index, chunks)
            done += len(chunks)
            after = chunks[-1].id
            await self._heartbeat(token, done)

    async def _sync(self, index: ActiveIndex, token: str) -> None:
        """Make the collection hold exactly the ready documents' chunks (set difference on ids)."""
        present = set(await self._vectors.ids(index.collection, where=ALL_CHUNKS))
        async with self._sessions() as session:
            expected = set((await session.execute(
                select(Chunk.id).join(Document, Document.id == Chunk.document_id)
                .where(Document.status == "ready"))).scalars())
            extra = present - expected
            # Chunk ids are `{document_id}:{version}:{n}`. Remove vectors of deleted documents and
            # stale versions of ready ones; leave documents still being processed alone.
            doc_ids = {cid.rsplit(":", 2)[0] for cid in extra}
            live: dict[str, str] = {}
            if doc_ids:
                rows = await session.execute(
                    select(Document.id, Document.status).where(Document.id.in_(doc_ids)))
                live = {doc_id: status for doc_id, status in rows.all()}
        stale = [cid for cid in extra if live.get(cid.rsplit(":", 2)[0], "ready") == "ready"]
        if stale:
            await self._vectors.delete(index.collection, ids=stale)
        missing = sorted(expected - present)
        for start in range(0, len(missing), self._batch):
            ids = missing[start:start + self._batch]
            async with self._sessions() as session:
                chunks = list((await session.execute(
                    select(Chunk).where(Chunk.id.in_(ids)).order_by(Chunk.id))).scalars())
            await self._embed_upsert(index, chunks)
            await self._heartbeat(token, None)

    async def _embed_upsert(self, index: ActiveIndex, chunks: Sequence[Chunk]) -> None:
        texts = [embedding_text(c.heading_path or [], c.text) for c in chunks]
        vectors = await index.embedder.embed_documents(texts)
        await self._vectors.upsert(index.collection, [
            VectorRecord(id=c.id, embedding=v, metadata={
                "owner_id": c.owner_id, "document_id": c.document_id, "chunk_id": c.id,
                "version": c.version, "n": c.n, "page_start": c.page_start, "page_end": c.page_end,
            })
            for c, v in zip(chunks, vectors, strict=True)
        ])

    async def _switch(self, token: str) -> IndexConfig | None:
        """One UPDATE moves every process over: `building` becomes `active`."""
        async with self._sessions() as session:
            if not await self._holds(session, token):
                raise ReindexAborted
            row = await session.get(AppSetting, STATE_KEY)
            assert row is not None
            state = dict(row.value)
            old = IndexConfig.from_dict(state["active"]) if state.get("active") else None
            new = IndexConfig.from_dict(state["building"])
            row.value = {**state, "active": new.to_dict(), "building": None,
                         "switched_at": _now().isoformat()}
            await session.commit()
        self.invalidate()
        return old

    async def _fail(self, token: str, error: str) -> None:
        state = await self._read_state()
        building = state.get("building") or {}
        collection = building.get("collection")
        active = (state.get("active") or {}).get("collection")
        await self._write_state({**state, "building": None, "last_error": error[:500]})
        if collection and collection != active:
            with contextlib.suppress(Exception):
                await self._vectors.drop_collection(collection)

    # ---- state and lease -------------------------------------------------------------------------

    async def _current_state(self) -> dict[str, Any]:
        if self._state is not None and time.monotonic() - self._loaded_at < self._ttl:
            return self._state
        state = await self.ensure_state()
        self._state, self._loaded_at = state, time.monotonic()
        return state

    async def _read_state(self) -> dict[str, Any]:
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            return dict(row.value) if row else {}

    async def _write_state(self, state: dict[str, Any]) -> None:
        async with self._sessions() as session:
            row = await session.get(AppSetting, STATE_KEY)
            if row is None:
                session.add(AppSetting(key=STATE_KEY, value=state))
            else:
                row.value = state
            await session.commit()
        self.invalidate()

    async def _acquire(self, token: str) -> bool:
        now = _now()
        async with self._sessions() as session:
            if await session.get(AppSetting, LOCK_KEY) is None:
                session.add(AppSetting(key=LOCK_KEY, value={}, updated_by=None))
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
            result = await session.execute(
                update(AppSetting)
                .where(AppSetting.key == LOCK_KEY,
                       or_(AppSetting.updated_by.is_(None),
                           AppSetting.updated_at < now - timedelta(seconds=self._lease_seconds)))
                .values(updated_by=token, updated_at=now))
            await session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _holds(self, session: AsyncSession, token: str) -> bool:
        result = await session.execute(
            update(AppSetting).where(AppSetting.key == LOCK_KEY, AppSetting.updated_by == token)
            .values(updated_at=_now()))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _heartbeat(self, token: str, done: int | None) -> None:
        async with self._sessions() as session:
            if not await self._holds(session, token):
                raise ReindexAborted
            if done is not None:
                row = await session.get(AppSetting, STATE_KEY)
                if row is not None and row.value.get("building"):
                    row.value = {**row.value, "building": {**row.value["building"], "done": done}}
            await session.commit()

    async def _release(self, token: str) -> None:
        async with self._sessions() as session:
            await session.execute(
                update(AppSetting).where(AppSetting.key == LOCK_KEY, AppSetting.updated_by == token)
                .values(updated_by=None))
            await session.commit()

    def _lock_live(self, lock: AppSetting | None) -> bool:
        return bool(lock is not None and lock.updated_by and
                    lock.updated_at >= _now() - timedelta(seconds=self._lease_seconds))

    # ---- embedders ---------------------------------------------------------------------------------

    async def _runtime_fresh(self) -> Any:
        self._runtime.invalidate()
        return await self._runtime.current()

    async def _values_for(self, config: IndexConfig) -> EmbeddingValues:
        current = (await self._runtime.current()).embedding
        # The API key is not part of the index identity: use the configured one for this provider.
        return replace(current, provider=config.provider,  # type: ignore[arg-type]
                       model=config.model, base_url=config.base_url, dimension=config.dimension,
                       api_key=current.api_key if current.provider == config.provider else None)

    async def _index(self, config: IndexConfig) -> ActiveIndex:
        values = await self._values_for(config)
        key = _embedder_key(config, values.api_key)  # a new API key gets a new client
        embedder = self._embedders.get(key)
        if embedder is None:
            embedder = self._factory(values)
            self._embedders[key] = embedder
        return ActiveIndex(embedder=embedder, collection=config.collection)

    async def _config_for(self, values: EmbeddingValues, *, rebuild_of: IndexConfig | None) -> IndexConfig:
        embedder = self._factory(values)
        dimension = await embedder_dimension(embedder)
        name = collection_name(embedder.model_id, dimension)
        if rebuild_of is not None and name == rebuild_of.collection:
            # Same model: build beside the live collection, never into it.
            suffix = f"__r{secrets.token_hex(2)}"
            name = name[: 63 - len(suffix)] + suffix
        config = IndexConfig(provider=values.provider, model=values.model,
                             base_url=values.base_url, dimension=dimension, collection=name)
        key = _embedder_key(config, values.api_key)
        self._embedders.setdefault(key, embedder)
        return config

    async def _count_ready_chunks(self) -> int:
        async with self._sessions() as session:
            return int((await session.execute(
                select(func.count(Chunk.id)).join(Document, Document.id == Chunk.document_id)
                .where(Document.status == "ready"))).scalar_one())


def _identity_of(values: EmbeddingValues, pinned_dimension: int | None) -> dict[str, Any]:
    identity = values.identity()
    if identity["dimension"] is None:  # "whatever the model gives": compare on the pinned one
        identity["dimension"] = pinned_dimension
    return identity


def _embedder_key(config: IndexConfig, api_key: str | None) -> str:
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:12]
    return json.dumps(config.identity(), sort_keys=True) + digest
