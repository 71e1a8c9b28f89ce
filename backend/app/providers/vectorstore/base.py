"""The vector-store protocol. Every query carries an owner: isolation is never optional.

Callers say *which* vectors a call is about with typed selectors, never in a backend's filter
syntax (each implementation translates them):

* `VectorScope` — one owner's vectors, optionally narrowed to some documents and, for clean-up,
  to all versions but one. The only selector `query` accepts, and it cannot be built without an
  owner, so an unscoped or empty-filter query does not exist.
* `AllOwners` — every owner's vectors (optionally of some documents): maintenance only (the
  re-index catch-up, checks that a deleted document left nothing behind).

Shared collections: a reader's readable set spans several owners' vectors (their own and the
documents of collections they can read). The access rule (`app.access`) turns it into one
`VectorScope` per owner, each narrowed by `document_ids` (only these) or `exclude_document_ids`
(all of the owner's but these), and retrieval queries each and merges by score. A scope still
always names its owner, and a vector never moves when its document moves between spaces.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from app.providers.scopes import admits

MetadataValue = str | int | float | bool

# The typed fields of a record; its free-form `metadata` must not reuse these names.
RESERVED_METADATA = frozenset({"owner_id", "document_id", "version"})


def _check_id(value: object, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")


def _check_document_ids(value: frozenset[str] | None) -> None:
    if value is None:
        return
    # A frozenset, not any iterable: frozenset("doc-1") would quietly mean five one-letter ids.
    if not isinstance(value, frozenset):
        raise TypeError(f"document_ids must be a frozenset or None, got {type(value).__name__}")
    if not value:
        raise ValueError("document_ids is empty: use None for all of the owner's documents")
    for doc_id in value:
        _check_id(doc_id, "a document id")


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorRecord:
    """One chunk vector. `owner_id`, `document_id` and `version` are what selectors match on;
    `metadata` carries anything else (see `app.documents.vectors.vector_record`)."""

    id: str
    embedding: Sequence[float]
    owner_id: str
    document_id: str
    version: int
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_id(self.id, "a vector id")
        _check_id(self.owner_id, f"the owner_id of record {self.id!r}")
        _check_id(self.document_id, f"the document_id of record {self.id!r}")
        if not isinstance(self.version, int) or isinstance(self.version, bool):
            raise ValueError(f"record {self.id!r}: version must be an int, got {self.version!r}")
        clash = RESERVED_METADATA & set(self.metadata)
        if clash:
            raise ValueError(f"record {self.id!r}: metadata may not set {sorted(clash)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorHit:
    id: str
    score: float  # cosine similarity, i.e. 1 - cosine distance
    owner_id: str
    document_id: str
    version: int
    metadata: Mapping[str, MetadataValue]  # the record's free-form metadata


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorScope:
    """One owner's vectors; `document_ids` narrows them to those documents (None: all of them);
    `exclude_document_ids` leaves those documents out (a reader's scope over an owner whose other
    documents they may not read); `exclude_version` (one document only) leaves that version out —
    the clean-up after a document's new version is indexed."""

    owner_id: str
    document_ids: frozenset[str] | None = None
    exclude_document_ids: frozenset[str] | None = None
    exclude_version: int | None = None
    # About what share of the owner's documents a narrowed scope keeps, when the caller knows
    # (a reader's plan counts them): how a store may search it. Never widens what is returned.
    share: float | None = None

    def __post_init__(self) -> None:
        _check_id(self.owner_id, "a vector scope's owner_id")
        if self.share is not None and not 0.0 <= self.share <= 1.0:
            raise ValueError("a vector scope's share lies between 0 and 1")
        _check_document_ids(self.document_ids)
        _check_document_ids(self.exclude_document_ids)
        if self.document_ids is not None and self.exclude_document_ids is not None:
            raise ValueError("document_ids and exclude_document_ids are exclusive")
        if self.exclude_version is not None and (
            self.document_ids is None or len(self.document_ids) != 1
        ):
            raise ValueError("exclude_version needs exactly one document id (versions are per document)")

    def keeps(self, document_id: str) -> bool:
        """Whether the scope's document conditions admit `document_id` (of this owner; not
        `exclude_version`, which is about versions)."""
        return admits(document_id, self.document_ids, self.exclude_document_ids)

    @classmethod
    def of_document(
        cls, owner_id: str, document_id: str, *, exclude_version: int | None = None
    ) -> VectorScope:
        return cls(owner_id=owner_id, document_ids=frozenset({document_id}),
                   exclude_version=exclude_version)


@dataclass(frozen=True, slots=True, kw_only=True)
class AllOwners:
    """Every owner's vectors, optionally only of `document_ids`. For maintenance, never for a
    reader: `VectorStore.query` refuses it."""

    document_ids: frozenset[str] | None = None

    def __post_init__(self) -> None:
        _check_document_ids(self.document_ids)


ALL_OWNERS = AllOwners()

VectorSelection = VectorScope | AllOwners


class VectorStoreError(Exception):
    """A vector-store call failed; ``transient`` is True if the store was unreachable/overloaded."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@runtime_checkable
class VectorStore(Protocol):
    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None: ...

    async def query(
        self, collection: str, embedding: Sequence[float], *, k: int, scope: VectorScope
    ) -> list[VectorHit]:
        """The nearest ``k`` vectors within ``scope``, best first (never another owner's)."""
        ...

    async def nearest(
        self, collection: str, embedding: Sequence[float], *, k: int, scope: VectorScope
    ) -> list[tuple[str, float]]:
        """`query` without the metadata: (vector id, cosine score) pairs, best first. For a caller
        that re-checks every id in the database (retrieval), where reading each hit's metadata
        was half the cost of a query."""
        ...

    async def nearest_each(
        self, collection: str, embedding: Sequence[float], *, k: int,
        scopes: Sequence[VectorScope], share: float | None = None
    ) -> list[list[tuple[str, float]]]:
        """`nearest` for each of ``scopes`` (one list per scope, in order), the way this store
        runs several searches fastest. ``share``: about what share of the collection's documents
        the scopes hold together, when the caller knows; a store may then search them together,
        and the lists hold the k best of all scopes between them (each alone may be shorter
        than k): for a caller that merges them."""
        ...

    async def delete(
        self, collection: str, *, scope: VectorSelection, ids: Sequence[str] | None = None
    ) -> None:
        """Delete what ``scope`` selects, or only those of ``ids`` if given. ``AllOwners()`` with
        neither documents nor ids would be everything: that is ``drop_collection`` (ValueError)."""
        ...

    async def count(self, collection: str, *, scope: VectorSelection) -> int: ...

    async def ids(self, collection: str, *, scope: VectorSelection) -> list[str]: ...

    async def drop_collection(self, collection: str) -> None: ...

    async def list_collections(self) -> list[str]: ...

    async def aclose(self) -> None:
        """Stop background work (at shut-down)."""
        ...

    async def ping(self) -> None:
        """Raise ``VectorStoreError(transient=True)`` if the store cannot be reached."""
        ...


# Chroma accepts 3-512 chars, but its older validator (S3 bucket rules) stops at 63: stay under.
_MAX_NAME = 63
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")


def collection_name(model_id: str, dimension: int) -> str:
    """``chunks__<model>__<dim>``: vectors of different models never share a collection."""
    if dimension <= 0:
        raise ValueError(f"dimension must be positive, got {dimension}")
    model = _UNSAFE.sub("-", model_id).strip("-_")
    if not model:
        raise ValueError(f"model id {model_id!r} has no usable characters")
    prefix, suffix = "chunks__", f"__{dimension}"
    room = _MAX_NAME - len(prefix) - len(suffix)
    if len(model) > room:
        # Keep names distinct when two long model ids share a prefix.
        digest = hashlib.sha256(model_id.encode()).hexdigest()[:8]
        model = model[: room - 9].rstrip("-_") + "-" + digest
    return f"{prefix}{model}{suffix}"
