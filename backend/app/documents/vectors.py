"""The one place that decides what a chunk's vector carries besides the embedding."""

from __future__ import annotations

from collections.abc import Sequence

from app.providers.vectorstore.base import VectorRecord


def chunk_id(document_id: str, version: int, n: int) -> str:
    """A chunk's id, deterministic so that a retried job upserts instead of duplicating; its
    vector has the same id. Document ids are UUIDs, so the document is what precedes the first
    colon (`chunk_document`)."""
    return f"{document_id}:{version}:{n}"


def chunk_document(chunk_or_vector_id: str) -> str:
    """The document a chunk (or its vector) belongs to, read off its id (`chunk_id`)."""
    return chunk_or_vector_id.split(":", 1)[0]


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
