"""The vector-store protocol. Every query carries an owner filter: isolation is never optional."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

MetadataValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class VectorRecord:
    id: str
    embedding: Sequence[float]
    metadata: Mapping[str, MetadataValue]


@dataclass(frozen=True, slots=True)
class VectorHit:
    id: str
    score: float  # cosine similarity, i.e. 1 - cosine distance
    metadata: Mapping[str, MetadataValue]


class VectorStoreError(Exception):
    """A vector-store call failed; ``transient`` is True if the store was unreachable/overloaded."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@runtime_checkable
class VectorStore(Protocol):
    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None: ...

    async def query(
        self, collection: str, embedding: Sequence[float], *, k: int, where: Mapping[str, Any]
    ) -> list[VectorHit]:
        """Nearest ``k`` records matching ``where`` (required, non-empty), best first."""
        ...

    async def delete(
        self,
        collection: str,
        *,
        where: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
    ) -> None: ...

    async def count(self, collection: str, *, where: Mapping[str, Any] | None = None) -> int: ...

    async def ids(self, collection: str, *, where: Mapping[str, Any]) -> list[str]: ...

    async def drop_collection(self, collection: str) -> None: ...

    async def list_collections(self) -> list[str]: ...

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
