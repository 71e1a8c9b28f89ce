from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin, utcnow
from app.providers.keyword.identifiers import index_terms

STATUSES = ("queued", "processing", "ready", "failed")
STAGES = ("extracting", "ocr", "chunking", "embedding", "indexing")


class Document(IdMixin, TimestampMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("owner_id", "content_hash", name="uq_documents_owner_hash"),
        Index("ix_documents_owner_created", "owner_id", "created_at"),
        Index("ix_documents_status_lease", "status", "lease_expires_at"),
        Index("ix_documents_status_owner", "status", "owner_id"),
        # With the id: a space's documents listed from the index alone (migration 0018).
        Index("ix_documents_owner_collection_id", "owner_id", "collection_id", "id"),
        Index("ix_documents_collection_owner", "collection_id", "owner_id"),
    )

    # The uploader: their private space holds the document while `collection_id` is NULL, and their
    # vector partition holds its vectors wherever it lives (moving never re-embeds or re-upserts).
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    collection_id: Mapped[str | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), default=None)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))
    kind: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    stage: Mapped[str | None] = mapped_column(String(16), default=None)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # A failed document whose retry can succeed (a passing problem, a server fixed by its admin); false
    # for password-protected, unsupported, damaged or over-limit files: the web app offers Retry only
    # when this is true.
    retryable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    page_count: Mapped[int | None] = mapped_column(Integer, default=None)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The version search serves (set when a version becomes ready): a reprocess keeps the previous
    # version searchable until the new one is ready. None: nothing of the document is searchable.
    searchable_version: Mapped[int | None] = mapped_column(Integer, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # A queued document is not picked before this time (the backoff after a transient failure).
    not_before: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    embedding_collection: Mapped[str | None] = mapped_column(String(200), default=None)
    # When this version's current run of transient failures began (see job_retry_window_seconds).
    retry_since: Mapped[datetime | None] = mapped_column(default=None)
    # A failed document whose vectors may still be in the store: the reconciler purges them.
    purge_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


def _index_terms(context: Any) -> str:
    return index_terms(str(context.get_current_parameters().get("text") or ""))


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_document_n", "document_id", "n"),)

    # Deterministic id `{document_id}:{version}:{n}` so a retried job upserts instead of duplicating.
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    page_start: Mapped[int] = mapped_column(Integer)
    page_end: Mapped[int] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    heading_path: Mapped[list[str]] = mapped_column(default=list)
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    # The parts of the text's identifiers ("drawCentredString" → draw, centred, centered, string),
    # indexed by the keyword index after the text (migration 0015). Derived from `text` when the
    # row is written; chunk rows are replaced, never edited.
    index_terms: Mapped[str] = mapped_column(Text, default=_index_terms, server_default="")


class Job(IdMixin, Base):
    """One attempt at processing a document (history for operators; the document row holds state)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_created", "created_at"),)

    document_id: Mapped[str | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32), default="ingest")
    status: Mapped[str] = mapped_column(String(16), default="running")
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    worker: Mapped[str] = mapped_column(String(100), default="")
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    stage_timings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class VectorPurge(IdMixin, Base):
    """A deleted document whose vectors may still be in the vector store (it was unreachable when
    the document was deleted). Written in the deletion's transaction; the row goes once the
    vectors are gone, by the deletion itself or a later reconciler pass (app/documents/purges.py).
    Like `Document.purge_pending` for failed documents, but the document row is gone."""

    __tablename__ = "vector_purges"

    owner_id: Mapped[str] = mapped_column(String(36))  # the uploader: whose partition holds them
    document_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

