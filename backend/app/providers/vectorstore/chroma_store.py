"""Chroma behind ``VectorStore``: embedded (``PersistentClient``) or server (``HttpClient``).

chromadb's clients are synchronous, so every call runs in a worker thread to free the event loop.
Collections are created without an embedding function (Chroma's default one downloads a model) and
in cosine space, so ``score = 1 - distance`` is the cosine similarity.

One logical collection (``chunks__<model>__<dim>``) is stored as one Chroma collection per owner.
The owner filter every query carries selects that owner's collection: another owner's vectors are
not filtered out, they are simply not in the index searched. This is also what keeps search fast
as users add documents: at 100k chunks over 20 owners a metadata-filtered query took ~57 ms and
the same query on the owner's own collection ~2 ms (bench/search_latency.py, docs/benchmarks.md).
Each physical collection records its logical name and owner in its metadata.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import chromadb
import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from chromadb.errors import ChromaError, InternalError, NotFoundError, RateLimitError

from app.providers.vectorstore.base import VectorHit, VectorRecord, VectorStoreError

T = TypeVar("T")

_COSINE: dict[str, Any] = {"hnsw": {"space": "cosine"}}
# chromadb's HttpClient raises this plain ValueError when the server cannot be reached at creation.
_UNREACHABLE = "Could not connect to a Chroma server"


def _settings() -> Settings:
    # A fresh object per client: HttpClient writes host/port into the Settings it is given.
    return Settings(anonymized_telemetry=False)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _map_error(exc: Exception) -> VectorStoreError:
    """Translate chromadb/httpx failures; connection-level problems are retryable."""
    if isinstance(exc, VectorStoreError):
        return exc
    if isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError):
        return VectorStoreError(f"Chroma unreachable: {exc}", transient=True)
    if isinstance(exc, InternalError | RateLimitError):
        return VectorStoreError(f"Chroma unavailable: {exc}", transient=True)
    if isinstance(exc, ValueError) and _UNREACHABLE in str(exc):
        return VectorStoreError(str(exc), transient=True)
    if isinstance(exc, ChromaError | ValueError | TypeError):
        return VectorStoreError(f"Chroma rejected the request: {exc}", transient=False)
    # chromadb's HTTP client raises a bare Exception(resp.text) for non-JSON errors (a proxy's 502).
    return VectorStoreError(f"Chroma error: {exc}", transient=True)


def _plain(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(metadata) if metadata else {}


_LOGICAL = "citewise_collection"
_OWNER = "citewise_owner"


def shard_name(collection: str, owner_id: str) -> str:
    """The Chroma collection holding ``owner_id``'s vectors of logical ``collection`` (33 chars)."""

    def digest(value: str, n: int) -> str:
        return hashlib.sha256(value.encode()).hexdigest()[:n]

    return f"cw{digest(collection, 10)}-{digest(owner_id, 20)}"


def _owner_clause(clause: Mapping[str, Any]) -> str | None:
    if set(clause) != {"owner_id"}:
        return None
    value = clause["owner_id"]
    if isinstance(value, Mapping) and set(value) == {"$eq"}:
        value = value["$eq"]
    return value if isinstance(value, str) else None


def split_owner(where: Mapping[str, Any] | None) -> tuple[str | None, dict[str, Any] | None]:
    """``(owner, rest of the filter)``: the owner equality of ``where`` (top level or one clause
    of a top-level ``$and``) picks the collection; the rest still filters inside it."""
    if not where:
        return None, None
    owner = _owner_clause(where)
    if owner is not None:
        return owner, None
    clauses = where.get("$and") if set(where) == {"$and"} else None
    if isinstance(clauses, list):
        owners = [o for o in map(_owner_clause, clauses) if o is not None]
        if len(owners) == 1:
            rest = [c for c in clauses if _owner_clause(c) is None]
            return owners[0], (rest[0] if len(rest) == 1 else {"$and": rest} if rest else None)
    return None, dict(where)


class ChromaVectorStore:
    def __init__(self, client_factory: Callable[[], ClientAPI]) -> None:
        # The client is made lazily: HttpClient connects in its constructor, and the app must start
        # (and report "not ready") even while the Chroma server is down.
        self._client_factory = client_factory
        self._client: ClientAPI | None = None
        self._max_batch = 0
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()

    @classmethod
    def embedded(cls, path: Path) -> ChromaVectorStore:
        """One process only: embedded Chroma is not safe with several writing processes."""
        path.mkdir(parents=True, exist_ok=True)
        return cls(lambda: chromadb.PersistentClient(path=str(path), settings=_settings()))

    @classmethod
    def http(cls, url: str) -> ChromaVectorStore:
        """``http(s)://host[:port]``; the port defaults to 8000 (http) or 443 (https)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Chroma URL must look like http://host:port, got {url!r}")
        ssl = parts.scheme == "https"
        port = parts.port or (443 if ssl else 8000)
        host = parts.hostname

        def factory() -> ClientAPI:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_settings())

        return cls(factory)

    @property
    def max_batch_size(self) -> int:
        """The client's upsert batch limit; known after the first call (0 before)."""
        return self._max_batch

    # -- plumbing -------------------------------------------------------------------------------

    def _get_client(self) -> ClientAPI:
        with self._lock:
            if self._client is None:
                client = self._client_factory()
                self._max_batch = client.get_max_batch_size()
                self._client = client
            return self._client

    def _collection(
        self, name: str, *, create: bool, metadata: Mapping[str, Any] | None = None
    ) -> Collection | None:
        cached = self._collections.get(name)
        if cached is not None:
            return cached
        client = self._get_client()
        try:
            if create:
                col = client.get_or_create_collection(
                    name, configuration=cast(Any, _COSINE), embedding_function=None,
                    metadata=dict(metadata) if metadata else None,
                )
            else:
                col = client.get_collection(name, embedding_function=None)
        except NotFoundError:
            return None
        self._collections[name] = col
        return col

    def _shard(self, collection: str, owner_id: str, *, create: bool) -> Collection | None:
        return self._collection(shard_name(collection, owner_id), create=create,
                                metadata={_LOGICAL: collection, _OWNER: owner_id})

    def _shards(self, collection: str) -> list[Collection]:
        """Every owner's collection of ``collection`` (for calls that do not name an owner)."""
        found = [c for c in self._get_client().list_collections()
                 if (c.metadata or {}).get(_LOGICAL) == collection]
        for col in found:
            self._collections.setdefault(col.name, col)
        return [self._collections[c.name] for c in found]

    def _targets(self, collection: str, where: Mapping[str, Any] | None
                 ) -> tuple[list[Collection], dict[str, Any] | None]:
        owner, rest = split_owner(where)
        if owner is None:
            return self._shards(collection), rest
        col = self._shard(collection, owner, create=False)
        return ([] if col is None else [col]), rest

    async def _run(self, name: str | None, fn: Callable[[], T]) -> T:
        """Run ``fn`` in a thread; if a cached collection was dropped elsewhere, refresh once."""

        def call() -> T:
            try:
                return fn()
            except NotFoundError:
                if name is None:
                    raise
                # Forget this logical collection's cached handles (each shard's name differs).
                stale = [n for n, c in self._collections.items()
                         if n == name or (c.metadata or {}).get(_LOGICAL) == name]
                if not stale:
                    raise
                for n in stale:
                    self._collections.pop(n, None)
                return fn()

        try:
            return await asyncio.to_thread(call)
        except Exception as exc:
            raise _map_error(exc) from exc

    def _get_ids(self, col: Collection, where: Mapping[str, Any] | None) -> list[str]:
        # Page through large result sets rather than asking for everything at once.
        out: list[str] = []
        page = self._max_batch or 5000
        while True:
            got = col.get(where=cast(Any, where), include=[], limit=page, offset=len(out))
            out.extend(got["ids"])
            if len(got["ids"]) < page:
                return out

    # -- protocol -------------------------------------------------------------------------------

    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        if not records:
            return

        by_owner: dict[str, list[VectorRecord]] = defaultdict(list)
        for r in records:
            owner = r.metadata.get("owner_id")
            if not isinstance(owner, str) or not owner:
                raise ValueError(f"record {r.id!r} has no owner_id in its metadata")
            by_owner[owner].append(r)

        def run() -> None:
            for owner, owned in by_owner.items():
                col = self._shard(collection, owner, create=True)
                assert col is not None
                for batch in _chunks(owned, self._max_batch):
                    col.upsert(
                        ids=[r.id for r in batch],
                        embeddings=np.asarray([r.embedding for r in batch], dtype=np.float32),
                        metadatas=[dict(r.metadata) for r in batch],
                    )

        await self._run(collection, run)

    async def query(
        self, collection: str, embedding: Sequence[float], *, k: int, where: Mapping[str, Any]
    ) -> list[VectorHit]:
        owner, rest = split_owner(where)
        if owner is None:
            raise ValueError("query needs the owner filter: where={'owner_id': ...}")
        if k <= 0:
            return []

        def run() -> list[VectorHit]:
            col = self._shard(collection, owner, create=False)
            if col is None:
                return []
            res = col.query(
                query_embeddings=np.asarray([embedding], dtype=np.float32),
                n_results=k,
                where=cast(Any, rest),
                include=cast(Any, ["metadatas", "distances"]),
            )
            ids = res["ids"][0]
            distances = (res["distances"] or [[]])[0]
            metadatas = (res["metadatas"] or [[{}] * len(ids)])[0]
            return [
                VectorHit(id=i, score=1.0 - float(d), metadata=_plain(m))
                for i, d, m in zip(ids, distances, metadatas, strict=True)
                if (m or {}).get("owner_id") == owner  # the collection is the owner's; check anyway
            ]

        return await self._run(collection, run)

    async def delete(
        self,
        collection: str,
        *,
        where: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
    ) -> None:
        if not where and ids is None:
            raise ValueError("delete needs where or ids (use drop_collection to remove everything)")
        if ids is not None and not ids:
            return

        def run() -> None:
            cols, rest = self._targets(collection, where)
            for col in cols:
                if ids is None:
                    if rest is None:  # everything of that owner: their whole collection
                        self._collections.pop(col.name, None)
                        self._get_client().delete_collection(col.name)
                    else:
                        col.delete(where=cast(Any, rest))
                    continue
                for batch in _chunks(list(ids), self._max_batch):
                    col.delete(ids=list(batch), where=cast(Any, rest))

        await self._run(collection, run)

    async def count(self, collection: str, *, where: Mapping[str, Any] | None = None) -> int:
        def run() -> int:
            cols, rest = self._targets(collection, where)
            return sum(col.count() if rest is None else len(self._get_ids(col, rest))
                       for col in cols)

        return await self._run(collection, run)

    async def ids(self, collection: str, *, where: Mapping[str, Any]) -> list[str]:
        if not where:
            raise ValueError("ids needs a non-empty where filter")

        def run() -> list[str]:
            cols, rest = self._targets(collection, where)
            return [i for col in cols for i in self._get_ids(col, rest)]

        return await self._run(collection, run)

    async def drop_collection(self, collection: str) -> None:
        def run() -> None:
            client = self._get_client()
            names = [c.name for c in client.list_collections()
                     if c.name == collection or (c.metadata or {}).get(_LOGICAL) == collection]
            for name in names:
                self._collections.pop(name, None)
                try:
                    client.delete_collection(name)
                except NotFoundError:  # dropped by another process meanwhile
                    pass

        await self._run(None, run)

    async def list_collections(self) -> list[str]:
        def run() -> list[str]:
            return sorted({(c.metadata or {}).get(_LOGICAL) or c.name
                           for c in self._get_client().list_collections()})

        return await self._run(None, run)

    async def ping(self) -> None:
        await self._run(None, lambda: self._get_client().heartbeat())
