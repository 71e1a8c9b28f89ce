"""One Chroma collection holding every owner's vectors of a logical collection: the union index.

Vectors are stored per owner (`chroma_store`), so a reader of ten other owners' shared collections
needs eleven searches, and each Chroma search has a fixed cost (1.4 ms on a fast machine, 3-6 ms on
slower ones; eleven took more than the whole unshared search, docs/benchmarks.md §5b). The union
index answers such a reader with one search: the nearest `depth` of all owners' vectors, of which
only those the reader's scopes admit are kept (owner read off the id, document by the scope's own
conditions), and the database re-checks every kept id as before. It is used only when the scopes
together hold a large share of the collection (so that `depth` stays small) and only when it is
complete; otherwise, and whenever the depth did not hold k admitted vectors, the owners' shards
are searched as before. The shards stay the store of record: the union is a copy, rebuilt from
them when missing.

Ids in the union are ``<owner>/<vector id>``: the owner of a hit needs no metadata read, and the
same vector id of two owners never collides. Its state is in its Chroma metadata: ``building``
(with the time the build started) or ``complete``; a build that has not finished within
`STALE_AFTER` (its process died) is taken over by the next process that looks.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.errors import NotFoundError

from app.providers.vectorstore.base import VectorScope

log = logging.getLogger(__name__)

# Metadata of the union collection (besides the logical collection's name).
STATE = "citewise_union"
SINCE = "citewise_union_since"
BUILDING, COMPLETE = "building", "complete"
# A build that started longer ago than this and is not complete is taken over.
STALE_AFTER = 900.0
# How often a process looks again at a union that is not complete (another process builds it).
RECHECK_AFTER = 30.0
# Scopes searched through the union: at least this many owners, holding at least this share of
# the collection's documents together; the union is searched `DEPTH / share` times deeper than k.
MIN_SCOPES = 3
MIN_SHARE = 0.2
DEPTH = 2.0
_PAGE = 1000


def union_id(owner_id: str, vector_id: str) -> str:
    return f"{owner_id}/{vector_id}"


def split_union_id(stored: str) -> tuple[str, str]:
    owner, _, vector_id = stored.partition("/")
    return owner, vector_id


def check_owner(owner_id: str) -> None:
    # The owner is what precedes the first "/" of a union id (owner ids are UUIDs).
    if "/" in owner_id:
        raise ValueError(f"an owner id may not contain '/': {owner_id!r}")


def usable_for(scopes: Sequence[VectorScope], share: float | None) -> bool:
    """Whether a search of `scopes` (holding about `share` of the collection) should try the union."""
    return (len({s.owner_id for s in scopes}) >= MIN_SCOPES and share is not None
            and share >= MIN_SHARE and all(s.exclude_version is None for s in scopes))


class UnionIndex:
    """The union collection of each logical collection: its state, its build, and its search.
    Writes and deletes are mirrored by `ChromaVectorStore` through `handle`."""

    def __init__(self, client: Callable[[], ClientAPI], name: Callable[[str], str],
                 logical_key: str, shards: Callable[[str], list[Collection]],
                 owner_of_shard: Callable[[Collection], str], configuration: dict[str, Any]
                 ) -> None:
        self._client = client
        self._name = name
        self._logical_key = logical_key
        self._shards = shards
        self._owner_of_shard = owner_of_shard
        self._configuration = configuration
        self._lock = threading.Lock()
        # collection -> (handle or None, complete, when last looked at)
        self._known: dict[str, tuple[Collection | None, bool, float]] = {}
        self._building: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def close(self, timeout: float = 10.0) -> None:
        """Stop builds in progress (they stay "building", taken over later) and wait for them."""
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout)

    def forget(self, collection: str | None = None) -> None:
        with self._lock:
            if collection is None:
                self._known.clear()
            else:
                self._known.pop(collection, None)

    def handle(self, collection: str) -> Collection | None:
        """The union collection if it exists (building or complete): writes go to it too. Looked
        up afresh while unknown, so that a write racing a build's start is never left out (the
        build lists the shards only after creating the union)."""
        with self._lock:
            known = self._known.get(collection)
        if known is not None and known[0] is not None:
            return known[0]
        return self._look(collection)[0]

    def searchable(self, collection: str) -> Collection | None:
        """The union collection when it is complete; otherwise None, and a build is started when
        there is none (or the last one stalled)."""
        with self._lock:
            known = self._known.get(collection)
            building_here = collection in self._building
        if known is not None:
            col, complete, checked = known
            if complete:
                return col
            # Building here, or (another process) lately: look again later. Missing: look now,
            # whatever a write looked up lately (writes must never put a build off).
            if building_here or (col is not None and time.monotonic() - checked < RECHECK_AFTER):
                return None
        col, complete, stalled = self._look(collection)
        if complete:
            return col
        if col is None or stalled:
            self.start_build(collection)
        return None

    def _look(self, collection: str) -> tuple[Collection | None, bool, bool]:
        try:
            col = self._client().get_collection(self._name(collection), embedding_function=None)
        except NotFoundError:
            col = None
        meta = dict(col.metadata or {}) if col is not None else {}
        complete = meta.get(STATE) == COMPLETE
        since = meta.get(SINCE)
        stalled = (col is not None and not complete
                   and (not isinstance(since, int | float) or time.time() - since > STALE_AFTER))
        with self._lock:
            self._known[collection] = (col, complete, time.monotonic())
        return col, complete, stalled

    def start_build(self, collection: str) -> None:
        with self._lock:
            if collection in self._building or self._stop.is_set():
                return
            self._building.add(collection)
            self._threads = [t for t in self._threads if t.is_alive()]
            thread = threading.Thread(target=self._build_logged, args=(collection,), daemon=True,
                                      name=f"union-build-{collection}")
            self._threads.append(thread)
        thread.start()

    def _build_logged(self, collection: str) -> None:
        try:
            self.build(collection)
        except Exception:  # a failed build leaves the union "building": taken over later
            log.exception("building the union index of %s failed", collection)
        finally:
            with self._lock:
                self._building.discard(collection)

    def build(self, collection: str) -> int:
        """Copy every shard of `collection` into its union (created first, so that every write
        from then on goes to both), make it hold exactly the shards' ids, then mark it complete.
        Idempotent. Returns the number of vectors copied. A collection without shards gets no
        union (a search of a collection dropped by a re-index must not leave one behind)."""
        started = time.perf_counter()
        if not self._shards(collection):  # nothing to copy, e.g. a collection dropped meanwhile
            return 0
        client = self._client()
        col = client.get_or_create_collection(
            self._name(collection), configuration=cast(Any, self._configuration),
            embedding_function=None,
            metadata={self._logical_key: collection, STATE: BUILDING, SINCE: time.time()})
        if (col.metadata or {}).get(STATE) == COMPLETE:
            return 0
        shards = self._shards(collection)
        if not shards:  # dropped between the two looks: leave nothing behind
            client.delete_collection(col.name)
            return 0
        copied = 0
        for shard in shards:
            # Ids first, then the vectors by id: paging by offset could skip rows that a delete
            # moves, whereas a deleted id is simply not returned.
            copied += self._copy(col, collection, shard, shard.get(include=[])["ids"])
            if self._stop.is_set():
                log.info("building the union index of %s stopped (shut-down)", collection)
                return copied
        copied += self._reconcile(col, collection)
        col.modify(metadata={self._logical_key: collection, STATE: COMPLETE})
        with self._lock:
            self._known[collection] = (col, True, time.monotonic())
        log.info("union index of %s built: %d vectors in %.1f s", collection, copied,
                 time.perf_counter() - started)
        return copied

    def _copy(self, col: Collection, collection: str, shard: Collection, ids: Sequence[str]
              ) -> int:
        owner, copied = self._owner_of_shard(shard), 0
        for start in range(0, len(ids), _PAGE):
            if self._stop.is_set():
                return copied
            got = shard.get(ids=list(ids[start:start + _PAGE]),
                            include=cast(Any, ["embeddings", "metadatas"]))
            if got["ids"]:
                col.upsert(ids=[union_id(owner, i) for i in got["ids"]],
                           embeddings=cast(Any, got["embeddings"]),
                           metadatas=cast(Any, got["metadatas"]))
                copied += len(got["ids"])
            # Still alive: a build is taken over only when it stops making progress.
            col.modify(metadata={self._logical_key: collection, STATE: BUILDING,
                                 SINCE: time.time()})
        return copied

    def _reconcile(self, col: Collection, collection: str) -> int:
        """Make the union hold exactly the shards' ids: a page copied just before a delete
        reached both would otherwise bring deleted vectors back, and a write by a process that
        does not mirror would be missing. The union's ids are read before the shards' (a write
        reaches the shard first), so a vector written meanwhile is never taken for an extra."""
        held = set(col.get(include=[])["ids"])
        expected: dict[str, tuple[Collection, str]] = {}
        for shard in self._shards(collection):
            owner = self._owner_of_shard(shard)
            for vector_id in shard.get(include=[])["ids"]:
                expected[union_id(owner, vector_id)] = (shard, vector_id)
        extra = sorted(held - expected.keys())
        for start in range(0, len(extra), _PAGE):
            col.delete(ids=extra[start:start + _PAGE])
        missing: dict[str, tuple[Collection, list[str]]] = {}
        for stored in expected.keys() - held:
            shard, vector_id = expected[stored]
            missing.setdefault(shard.name, (shard, []))[1].append(vector_id)
        if extra:
            log.info("union index of %s: %d vectors no shard holds removed", collection,
                     len(extra))
        return sum(self._copy(col, collection, shard, ids) for shard, ids in missing.values())

    def nearest(self, col: Collection, query: np.ndarray, k: int, scopes: Sequence[VectorScope],
                share: float, document_of: Callable[[str], str] | None
                ) -> list[list[tuple[str, float]]] | None:
        """One list per scope of the hits it admits among the union's nearest `DEPTH / share * k`,
        or None when those held fewer than k admitted vectors (the caller searches the shards).
        Together the lists hold the k best of all scopes; each alone may be shorter than k."""
        depth = math.ceil(k * DEPTH / share)
        include = ["distances"] if document_of else ["distances", "metadatas"]
        res = col.query(query_embeddings=query, n_results=depth, include=cast(Any, include))
        stored, distances = res["ids"][0], (res["distances"] or [[]])[0]
        metas = (res["metadatas"] or [[]])[0] if document_of is None else [None] * len(stored)
        by_owner: dict[str, list[int]] = {}
        for i, scope in enumerate(scopes):
            by_owner.setdefault(scope.owner_id, []).append(i)
        out: list[list[tuple[str, float]]] = [[] for _ in scopes]
        admitted: set[str] = set()
        for sid, distance, meta in zip(stored, distances, metas, strict=True):
            owner, vector_id = split_union_id(sid)
            for i in by_owner.get(owner, ()):
                doc = (document_of(vector_id) if document_of is not None
                       else str((meta or {}).get("document_id")))
                if scopes[i].keeps(doc):
                    out[i].append((vector_id, 1.0 - float(distance)))
                    admitted.add(sid)
        if len(admitted) >= k or len(stored) < depth:  # k found, or every vector was seen
            return out
        return None

