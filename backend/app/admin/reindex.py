"""Re-indexing into a new collection without downtime (the admin's re-index *build* workflow).

`app.platform.index.IndexState` says which collection serves queries; this module fills the one
being built (`building` in that state), catches it up with chunks added or removed meanwhile,
then switches every process over with one UPDATE and drops the old collection. Only one build runs
at a time across processes: a lease in the `vector_index_lock` row (compare-and-set on
`updated_by`/`updated_at`, renewed every batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.documents.models import Chunk, Document
from app.documents.vectors import chunk_document, vector_record
from app.ingestion.embedding_text import embedding_text
from app.platform.index import (
    LOCK_KEY,
    STATE_KEY,
    ActiveIndex,
    IndexConfig,
    IndexState,
    ReindexStatus,
    now,
)
from app.platform.models import AppSetting
from app.providers.vectorstore.base import ALL_OWNERS, VectorStore

log = logging.getLogger("citewise.reindex")

BATCH = 64
LEASE_SECONDS = 300


class ReindexAborted(Exception):
    """The lease was lost (another process took over) or the build was cancelled."""


class Reindexer:
    def __init__(
        self, state: IndexState, sessions: async_sessionmaker[AsyncSession], vectors: VectorStore, *,
        batch_size: int = BATCH, lease_seconds: int = LEASE_SECONDS,
    ) -> None:
        self.state = state
        self._sessions = sessions
        self._vectors = vectors
        self._batch = batch_size
        self._lease_seconds = lease_seconds
        self._task: asyncio.Task[ReindexStatus] | None = None

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
        state = await self.state.ensure_state()
        await self.state.write_state({**state, "requested": True})

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
        if await self.state.needs_reindex():
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

    # ---- the build -------------------------------------------------------------------------------

    async def _prepare(self, *, force: bool) -> str | None:
        await self.state.ensure_state()
        token = str(uuid.uuid4())
        if not await self._acquire(token):
            return None
        try:
            state = await self.state.read_state()
            building = state.get("building") or {}
            self.state.runtime.invalidate()
            values = (await self.state.runtime.current()).embedding
            active = IndexConfig.from_dict(state["active"])
            if building.get("status") == "running":  # resume an interrupted build where it was
                target = IndexConfig.from_dict(building)
            else:
                target = await self.state.config_for(values, rebuild_of=active)
                if target.identity() == active.identity() and not (force or state.get("requested")):
                    await self._release(token)
                    return None
            total = await self._count_ready_chunks()
            new_state = {**state, "requested": False, "last_error": None,
                         "building": {**target.to_dict(), "status": "running", "done": 0,
                                      "total": total, "started_at": now().isoformat(),
                                      "error": None}}
            await self.state.write_state(new_state)
            log.info("re-index started", extra={"collection": target.collection, "chunks": total})
            return token
        except Exception as exc:  # e.g. the new embedding server is unreachable: say so in status
            log.warning("re-index could not start: %s", exc)
            await self.state.write_state({**(await self.state.read_state()),
                                          "last_error": f"{type(exc).__name__}: {exc}"[:500]})
            await self._release(token)
            return None
        except BaseException:
            await self._release(token)
            raise

    async def _build(self, token: str) -> ReindexStatus:
        try:
            state = await self.state.read_state()
            target = IndexConfig.from_dict(state["building"])
            index = await self.state.index_for(target)
            await self._fill(index, token)
            await self._sync(index, token)  # catch up with chunks added or removed meanwhile
            old = await self._switch(token)
            # Other processes cache the state for `ttl` seconds: let them move off the old
            # collection before it disappears.
            await asyncio.sleep(self.state.ttl + 0.5)
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
        self.state.invalidate()
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
        present = set(await self._vectors.ids(index.collection, scope=ALL_OWNERS))
        async with self._sessions() as session:
            expected = set((await session.execute(
                select(Chunk.id).join(Document, Document.id == Chunk.document_id)
                .where(Document.status == "ready"))).scalars())
            extra = present - expected
            # A chunk id names its document (`chunk_document`). Remove vectors of deleted documents
            # and stale versions of ready ones; leave documents still being processed alone.
            doc_ids = {chunk_document(cid) for cid in extra}
            live: dict[str, str] = {}
            if doc_ids:
                rows = await session.execute(
                    select(Document.id, Document.status).where(Document.id.in_(doc_ids)))
                live = {doc_id: status for doc_id, status in rows.all()}
        stale = [cid for cid in extra if live.get(chunk_document(cid), "ready") == "ready"]
        if stale:
            await self._vectors.delete(index.collection, scope=ALL_OWNERS, ids=stale)
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
            vector_record(chunk_id=c.id, owner_id=c.owner_id, document_id=c.document_id,
                          version=c.version, n=c.n, page_start=c.page_start, page_end=c.page_end,
                          embedding=v)
            for c, v in zip(chunks, vectors, strict=True)])

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
                         "switched_at": now().isoformat()}
            await session.commit()
        self.state.invalidate()
        return old

    async def _fail(self, token: str, error: str) -> None:
        state = await self.state.read_state()
        building = state.get("building") or {}
        collection = building.get("collection")
        active = (state.get("active") or {}).get("collection")
        await self.state.write_state({**state, "building": None, "last_error": error[:500]})
        if collection and collection != active:
            with contextlib.suppress(Exception):
                await self._vectors.drop_collection(collection)

    # ---- lease ------------------------------------------------------------------------------------

    async def _acquire(self, token: str) -> bool:
        moment = now()
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
                           AppSetting.updated_at < moment - timedelta(seconds=self._lease_seconds)))
                .values(updated_by=token, updated_at=moment))
            await session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _holds(self, session: AsyncSession, token: str) -> bool:
        result = await session.execute(
            update(AppSetting).where(AppSetting.key == LOCK_KEY, AppSetting.updated_by == token)
            .values(updated_at=now()))
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
                    lock.updated_at >= now() - timedelta(seconds=self._lease_seconds))

    async def _count_ready_chunks(self) -> int:
        async with self._sessions() as session:
            return int((await session.execute(
                select(func.count(Chunk.id)).join(Document, Document.id == Chunk.document_id)
                .where(Document.status == "ready"))).scalar_one())
