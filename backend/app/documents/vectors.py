"""The one place that decides what a chunk's vector carries besides the embedding."""

from __future__ import annotations

from collections.abc import Sequence

from app.providers.vectorstore.base import VectorRecord


def vector_record(
    *, chunk_id: str, owner_id: str, document_id: str, version: int, n: int,
    page_start: int, page_end: int, embedding: Sequence[float],
) -> VectorRecord:
    """A chunk's vector; `owner_id` is what per-user isolation (`VectorScope`) selects on."""
    return VectorRecord(
        id=chunk_id, embedding=embedding, owner_id=owner_id, document_id=document_id,
        version=version,
        metadata={"chunk_id": chunk_id, "n": n, "page_start": page_start, "page_end": page_end},
    )
