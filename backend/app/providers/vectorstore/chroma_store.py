"""Chroma behind ``VectorStore``: embedded (``PersistentClient``) or server (``HttpClient``).

chromadb's clients are synchronous, so every call runs in a worker thread to free the event loop.
Collections are created without an embedding function (Chroma's default one downloads a model) and
in cosine space, so ``score = 1 - distance`` is the cosine similarity.

One logical collection (``chunks__<model>__<dim>``) is stored as one Chroma collection per owner.
The owner every `VectorScope` names selects that owner's collection: another owner's vectors are
not filtered out, they are simply not in the index searched. This is also what keeps search fast
as users add documents: at 100k chunks over 20 owners a metadata-filtered query took ~57 ms and
the same query on the owner's own collection ~2 ms (bench/search_latency.py, docs/benchmarks.md).
Each physical collection records its logical name and owner in its metadata. One more, the
union index (`chroma_union`), holds a copy of every owner's vectors for readers of many owners.

This module is the only place that speaks Chroma's filter dialect (``$and``/``$in``/``$ne``): the
typed selectors of `app.providers.vectorstore.base` are translated by `_plan`. A record's typed
fields are stored as the metadata keys ``owner_id``, ``document_id`` and ``version`` (the names
vectors have always carried, so existing collections stay valid).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
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
from chromadb.base_types import (
    InclusionExclusionOperator,
    LiteralValue,
    LogicalOperator,
    Metadata,
    Where,
    WhereOperator,
)
from chromadb.config import Settings
from chromadb.errors import ChromaError, InternalError, NotFoundError, RateLimitError

from app.providers.vectorstore import chroma_union
from app.providers.vectorstore.base import (
    AllOwners,
    MetadataValue,
    VectorHit,
    VectorRecord,
    VectorScope,
    VectorSelection,
    VectorStoreError,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

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


_LOGICAL = "citewise_collection"
_OWNER = "citewise_owner"


def _digest(value: str, n: int) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:n]


def shard_name(collection: str, owner_id: str) -> str:
    """The Chroma collection holding ``owner_id``'s vectors of logical ``collection`` (33 chars)."""
    return f"cw{_digest(collection, 10)}-{_digest(owner_id, 20)}"


def union_name(collection: str) -> str:
    """The Chroma collection holding every owner's vectors of ``collection`` (`chroma_union`)."""
    return f"cw{_digest(collection, 10)}-all"


# Metadata keys of a record's typed fields (VectorRecord.owner_id, .document_id, .version).
_OWNER_ID = "owner_id"
_DOCUMENT_ID = "document_id"
_VERSION = "version"


def _filter(document_ids: frozenset[str] | None, exclude_version: int | None,
            exclude_document_ids: frozenset[str] | None = None) -> Where | None:
    """Chroma's ``where`` for a selector's conditions within one owner's collection."""
    clauses: list[Where] = []
    if document_ids is not None:
        ids: list[LiteralValue] = sorted(document_ids)
        member: dict[InclusionExclusionOperator, list[LiteralValue]] = {"$in": ids}
        clauses.append({_DOCUMENT_ID: ids[0]} if len(ids) == 1 else {_DOCUMENT_ID: member})
    if exclude_document_ids is not None:
        out: list[LiteralValue] = sorted(exclude_document_ids)
        outside: dict[InclusionExclusionOperator, list[LiteralValue]] = {"$nin": out}
        clauses.append({_DOCUMENT_ID: outside})
    if exclude_version is not None:
        other: dict[WhereOperator | LogicalOperator, LiteralValue] = {"$ne": exclude_version}
        clauses.append({_VERSION: other})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _owner_where(owner_id: str, where: Where | None) -> Where:
    """`where` within one owner's vectors (of the union index, which holds every owner's)."""
    mine: Where = {_OWNER_ID: owner_id}
    if where is None:
        return mine
    inner = cast(list[Where], where["$and"]) if "$and" in where else [where]
    return {"$and": [mine, *inner]}


# A scope that keeps at least this share of an owner's documents is searched without Chroma's
# metadata filter, which costs with every row it admits (a 5,183-vector collection: 0.9 ms
# unfiltered, 26-44 ms with `document_id $in` half of its 50 documents, docs/benchmarks.md §5b):
# the nearest POST_FILTER_DEPTH / share * k of all the owner's vectors, and those of the scope's
# documents kept. Fewer than k kept and more vectors left: the filtered search after all.
POST_FILTER_SHARE = 0.2
POST_FILTER_DEPTH = 2.0


def _post_filtered(col: Collection, query: np.ndarray, k: int, scope: VectorScope,
                   document_of: Callable[[str], str] | None = None
                   ) -> list[tuple[str, float]] | None:
    """`scope`'s nearest k from an unfiltered search of its owner's collection, or None when the
    search's depth did not hold k of them. With `document_of` (a vector id's document, read off
    the id) the search returns ids and distances only: reading the hits' metadata for their
    document cost 4x the search itself (docs/benchmarks.md §5b)."""
    depth = math.ceil(k * POST_FILTER_DEPTH / (scope.share or 1.0))
    include = ["distances"] if document_of else ["distances", "metadatas"]
    res = col.query(query_embeddings=query, n_results=depth, include=cast(Any, include))
    ids, distances = res["ids"][0], (res["distances"] or [[]])[0]
    if document_of is not None:
        documents = [document_of(i) for i in ids]
    else:
        documents = [None if m is None else str(m.get(_DOCUMENT_ID))
                     for m in (res["metadatas"] or [[]])[0]]
    hits = [(i, 1.0 - float(d)) for i, d, doc in zip(ids, distances, documents, strict=True)
            if doc is not None and scope.keeps(doc)]
    if len(hits) >= k or len(ids) < depth:  # k found, or every vector of the owner was seen
        return hits[:k]
    return None


def _metadata(record: VectorRecord) -> dict[str, MetadataValue]:
    return {**record.metadata, _OWNER_ID: record.owner_id, _DOCUMENT_ID: record.document_id,
            _VERSION: record.version}


def _hit(vector_id: str, distance: float, metadata: Metadata | None) -> VectorHit:
    # Only scalars are ever written (VectorRecord.metadata); Chroma's type allows more.
    extra: dict[str, MetadataValue] = {k: v for k, v in (metadata or {}).items()
                                       if isinstance(v, str | int | float | bool)}
    owner, document, version = (extra.pop(_OWNER_ID, None), extra.pop(_DOCUMENT_ID, None),
                                extra.pop(_VERSION, None))
    if not isinstance(owner, str) or not isinstance(document, str) or not isinstance(version, int):
        raise VectorStoreError(f"vector {vector_id!r} lacks owner_id/document_id/version metadata")
    return VectorHit(id=vector_id, score=1.0 - float(distance), owner_id=owner, document_id=document,
                     version=version, metadata=extra)


def _require_owner(scope: object, call: str) -> None:
    # The types say so already; this also stops a caller that ignores them.
    if not isinstance(scope, VectorScope):
        raise TypeError(f"{call} needs a VectorScope (an owner), got {type(scope).__name__}")


class ChromaVectorStore:
    def __init__(self, client_factory: Callable[[], ClientAPI], *, in_process: bool = False,
                 document_of: Callable[[str], str] | None = None, union: bool = True) -> None:
        # The client is made lazily: HttpClient connects in its constructor, and the app must start
        # (and report "not ready") even while the Chroma server is down.
        self._client_factory = client_factory
        self._in_process = in_process  # embedded: searches run on this process's cores
        # How to read a vector's document off its id, when its ids say (the app's do:
        # `app.documents.vectors.chunk_id`); otherwise a search that must know reads metadata.
        self._document_of = document_of
        self._client: ClientAPI | None = None
        self._max_batch = 0
        self._collections: dict[str, Collection] = {}
        self._lock = threading.Lock()
        # A reader of many owners' vectors is searched in one Chroma collection (`chroma_union`).
        self._union = chroma_union.UnionIndex(
            self._get_client, union_name, _LOGICAL, self._shards,
            lambda shard: str((shard.metadata or {})[_OWNER]), _COSINE) if union else None

    @classmethod
    def embedded(cls, path: Path, *, document_of: Callable[[str], str] | None = None,
                 union: bool = True) -> ChromaVectorStore:
        """One process only: embedded Chroma is not safe with several writing processes."""
        path.mkdir(parents=True, exist_ok=True)
        return cls(lambda: chromadb.PersistentClient(path=str(path), settings=_settings()),
                   in_process=True, document_of=document_of, union=union)

    @classmethod
    def http(cls, url: str, *, document_of: Callable[[str], str] | None = None,
             union: bool = True) -> ChromaVectorStore:
        """``http(s)://host[:port]``; the port defaults to 8000 (http) or 443 (https)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Chroma URL must look like http://host:port, got {url!r}")
        ssl = parts.scheme == "https"
        port = parts.port or (443 if ssl else 8000)
        host = parts.hostname

        def factory() -> ClientAPI:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_settings())

        return cls(factory, document_of=document_of, union=union)

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
                 if (c.metadata or {}).get(_LOGICAL) == collection and _OWNER in (c.metadata or {})]
        for col in found:
            self._collections.setdefault(col.name, col)
        return [self._collections[c.name] for c in found]

    def _plan(self, collection: str, selection: VectorSelection
              ) -> list[tuple[Collection, Where | None]]:
        """The Chroma collections a selector touches, each with the filter to apply inside it
        (None: all of that collection). A scope never reaches beyond its owner's collection."""
        if isinstance(selection, VectorScope):
            col = self._shard(collection, selection.owner_id, create=False)
            where = _filter(selection.document_ids, selection.exclude_version,
                            selection.exclude_document_ids)
            return [] if col is None else [(col, where)]
        if isinstance(selection, AllOwners):
            where = _filter(selection.document_ids, None)
            return [(col, where) for col in self._shards(collection)]
        raise TypeError(f"expected a VectorScope or AllOwners, got {type(selection).__name__}")

    async def _run(self, name: str | None, fn: Callable[[], T]) -> T:
        """Run ``fn`` in a thread; if a cached collection was dropped elsewhere, refresh once."""

        def call() -> T:
            try:
                return fn()
            except NotFoundError:
                if name is None:
                    raise
                # Forget this logical collection's cached handles (each shard's name differs).
                stale = [n for n, c in list(self._collections.items())
                         if n == name or (c.metadata or {}).get(_LOGICAL) == name]
                if not stale:
                    raise
                for n in stale:
                    self._collections.pop(n, None)
                if self._union is not None:
                    self._union.forget()
                return fn()

        try:
            return await asyncio.to_thread(call)
        except Exception as exc:
            raise _map_error(exc) from exc

    def _get_ids(self, col: Collection, where: Where | None) -> list[str]:
        # Page through large result sets rather than asking for everything at once.
        out: list[str] = []
        page = self._max_batch or 5000
        while True:
            got = col.get(where=where, include=[], limit=page, offset=len(out))
            out.extend(got["ids"])
            if len(got["ids"]) < page:
                return out

    # -- protocol -------------------------------------------------------------------------------

    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        if not records:
            return

        by_owner: dict[str, list[VectorRecord]] = defaultdict(list)
        for r in records:
            by_owner[r.owner_id].append(r)  # VectorRecord refuses an empty owner
            if self._union is not None:
                chroma_union.check_owner(r.owner_id)

        def run() -> None:
            for owner, owned in by_owner.items():
                col = self._shard(collection, owner, create=True)
                assert col is not None
                for batch in _chunks(owned, self._max_batch):
                    col.upsert(
                        ids=[r.id for r in batch],
                        embeddings=np.asarray([r.embedding for r in batch], dtype=np.float32),
                        metadatas=[_metadata(r) for r in batch],
                    )
            # After the shards: a union whose build starts meanwhile lists them after it exists.
            union = self._union_for_writes(collection)
            if union is not None:
                for batch in _chunks(list(records), self._max_batch):
                    union.upsert(
                        ids=[chroma_union.union_id(r.owner_id, r.id) for r in batch],
                        embeddings=np.asarray([r.embedding for r in batch], dtype=np.float32),
                        metadatas=[_metadata(r) for r in batch],
                    )

        await self._run(collection, run)

    async def query(
        self, collection: str, embedding: Sequence[float], *, k: int, scope: VectorScope
    ) -> list[VectorHit]:
        _require_owner(scope, "query")
        if k <= 0:
            return []
        owner = scope.owner_id

        def run() -> list[VectorHit]:
            plan = self._plan(collection, scope)
            if not plan:
                return []
            [(col, where)] = plan
            res = col.query(
                query_embeddings=np.asarray([embedding], dtype=np.float32),
                n_results=k,
                where=where,
                include=cast(Any, ["metadatas", "distances"]),
            )
            ids = res["ids"][0]
            distances = (res["distances"] or [[]])[0]
            metadatas = (res["metadatas"] or [[{}] * len(ids)])[0]
            return [
                _hit(i, d, m)
                for i, d, m in zip(ids, distances, metadatas, strict=True)
                if (m or {}).get(_OWNER_ID) == owner  # the collection is the owner's; check anyway
            ]

        return await self._run(collection, run)

    async def nearest(
        self, collection: str, embedding: Sequence[float], *, k: int, scope: VectorScope
    ) -> list[tuple[str, float]]:
        # Scoped like `query`: the owner selects the only Chroma collection searched. Only
        # distances are read (the metadata read from Chroma's SQLite was ~60 % of a query).
        return (await self.nearest_each(collection, embedding, k=k, scopes=[scope]))[0]

    async def nearest_each(
        self, collection: str, embedding: Sequence[float], *, k: int,
        scopes: Sequence[VectorScope], share: float | None = None
    ) -> list[list[tuple[str, float]]]:
        for scope in scopes:
            _require_owner(scope, "nearest")
        if k <= 0:
            return [[] for _ in scopes]
        query = np.asarray([embedding], dtype=np.float32)
        if self._union is not None and chroma_union.usable_for(scopes, share):
            union = self._union
            assert share is not None

            def together() -> list[list[tuple[str, float]]] | None:
                col = union.searchable(collection)
                if col is None:
                    return None
                try:
                    return union.nearest(col, query, k, scopes, share, self._document_of)
                except Exception:  # e.g. dropped by another process: the shards answer
                    log.warning("the union index of %s failed; searching the shards",
                                collection, exc_info=True)
                    union.forget(collection)
                    return None

            found = await self._run(collection, together)
            if found is not None:
                return found
        # Embedded, the searches are CPU work in this process: one thread runs them one after
        # the other. One thread per scope (11 for a reader of 10 collections) contended for the
        # GIL with the keyword search and cost more than it overlapped (docs/benchmarks.md §5b).
        # A server's searches are network waits: those run side by side.
        if self._in_process:
            return await self._run(
                collection, lambda: [self._nearest(collection, query, k, s) for s in scopes])
        return list(await asyncio.gather(*(
            self._run(collection, functools.partial(self._nearest, collection, query, k, scope))
            for scope in scopes)))

    def _nearest(self, collection: str, query: np.ndarray, k: int, scope: VectorScope
                 ) -> list[tuple[str, float]]:
        plan = self._plan(collection, scope)
        if not plan:
            return []
        [(col, where)] = plan
        if where is not None and scope.exclude_version is None and \
                (scope.share or 0.0) >= POST_FILTER_SHARE:
            found = _post_filtered(col, query, k, scope, self._document_of)
            if found is not None:
                return found
        res = col.query(query_embeddings=query, n_results=k, where=where,
                        include=cast(Any, ["distances"]))
        distances = (res["distances"] or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], distances, strict=True)]

    async def delete(
        self, collection: str, *, scope: VectorSelection, ids: Sequence[str] | None = None
    ) -> None:
        if isinstance(scope, AllOwners) and scope.document_ids is None and ids is None:
            raise ValueError("delete of every owner's vectors: use drop_collection")
        if ids is not None and not ids:
            return

        def run() -> None:
            owners: list[str] = []
            for col, where in self._plan(collection, scope):
                owners.append(str((col.metadata or {}).get(_OWNER)))
                if ids is None:
                    if where is None:  # everything of that owner: their whole collection
                        self._collections.pop(col.name, None)
                        self._get_client().delete_collection(col.name)
                    else:
                        col.delete(where=where)
                    continue
                for batch in _chunks(list(ids), self._max_batch):
                    col.delete(ids=list(batch), where=where)
            union = self._union_for_writes(collection)
            if union is not None:
                self._delete_in_union(union, scope, ids, owners)

        await self._run(collection, run)

    def _union_for_writes(self, collection: str) -> Collection | None:
        """The union collection that writes must reach. With the union off, one left from when it
        was on is dropped instead: it would miss this write, and must not be searched again."""
        if self._union is not None:
            return self._union.handle(collection)
        try:
            self._get_client().delete_collection(union_name(collection))
        except (NotFoundError, ValueError):  # none (older chromadb raise ValueError)
            pass
        return None

    def _delete_in_union(self, union: Collection, scope: VectorSelection,
                         ids: Sequence[str] | None, owners: Sequence[str]) -> None:
        """The same deletion in the union index (whose ids are `<owner>/<id>`)."""
        if isinstance(scope, VectorScope):
            where = _filter(scope.document_ids, scope.exclude_version, scope.exclude_document_ids)
            owners, where = [scope.owner_id], _owner_where(scope.owner_id, where)
        else:
            where = _filter(scope.document_ids, None)
        if ids is None:
            union.delete(where=where)  # never None: a whole-store delete is drop_collection
            return
        stored = [chroma_union.union_id(o, i) for o in owners for i in ids]
        for batch in _chunks(stored, self._max_batch):
            union.delete(ids=list(batch), where=where)

    async def count(self, collection: str, *, scope: VectorSelection) -> int:
        def run() -> int:
            return sum(col.count() if where is None else len(self._get_ids(col, where))
                       for col, where in self._plan(collection, scope))

        return await self._run(collection, run)

    async def ids(self, collection: str, *, scope: VectorSelection) -> list[str]:
        def run() -> list[str]:
            return [i for col, where in self._plan(collection, scope)
                    for i in self._get_ids(col, where)]

        return await self._run(collection, run)

    async def drop_collection(self, collection: str) -> None:
        def run() -> None:
            client = self._get_client()
            names = [c.name for c in client.list_collections()
                     if c.name == collection or (c.metadata or {}).get(_LOGICAL) == collection]
            if self._union is not None:
                self._union.forget(collection)
            for name in names:
                self._collections.pop(name, None)
                try:
                    client.delete_collection(name)
                except NotFoundError:  # dropped by another process meanwhile
                    pass

        await self._run(None, run)

    async def build_union(self, collection: str) -> int:
        """Build `collection`'s union index now (a search starts it in the background when it
        is missing): the vectors copied. For start-up and benchmarks."""
        union = self._union
        if union is None:
            return 0
        return await self._run(collection, lambda: union.build(collection))

    async def aclose(self) -> None:
        if self._union is not None:
            await asyncio.to_thread(self._union.close)

    async def list_collections(self) -> list[str]:
        def run() -> list[str]:
            return sorted({(c.metadata or {}).get(_LOGICAL) or c.name
                           for c in self._get_client().list_collections()})

        return await self._run(None, run)

    async def ping(self) -> None:
        await self._run(None, lambda: self._get_client().heartbeat())
