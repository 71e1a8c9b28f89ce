from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["queued", "processing", "ready", "failed"]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    mime_type: str
    size_bytes: int
    status: Status
    stage: str | None
    progress: int
    error: str | None
    # Failed documents: true when retrying can succeed (a passing problem), false when the file
    # itself is the problem (password, unsupported, damaged, over a limit).
    retryable: bool
    page_count: int | None
    chunk_count: int
    attempts: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    timings: dict[str, float] = Field(default_factory=dict)
    collection_id: str | None = None  # None: the uploader's private space
    collection_name: str | None = None
    # The caller's role over the document: "owner" of their private documents, else their role in
    # its collection (viewer: read; editor and owner: also delete, reprocess, move).
    role: Literal["viewer", "editor", "owner"] = "owner"
    queue_position: int | None = Field(
        default=None, description="1-based place among the documents still to start (all users'; "
        "1 = next); null when the document is not queued")
    queue_estimate_seconds: int | None = Field(
        default=None, description="Rough time until this queued document is ready, from recent "
        "processing times and the number of worker slots; null when unknown or not queued")


class UploadedDocument(DocumentOut):
    duplicate: bool = False


class UploadError(BaseModel):
    filename: str
    error: str
    detail: str


class UploadResult(BaseModel):
    documents: list[UploadedDocument]
    errors: list[UploadError]


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    page: int
    page_size: int


class ChunkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    n: int
    text: str
    page_start: int
    page_end: int
    heading_path: list[str]
    char_start: int
    char_end: int


class ChunkPage(BaseModel):
    items: list[ChunkOut]
    total: int


class DocumentPatch(BaseModel):
    """Move a document: a collection id, or null for its uploader's private space."""

    collection_id: str | None


class BatchDeleteIn(BaseModel):
    ids: list[str] = Field(max_length=1000)


class BatchDeleteOut(BaseModel):
    deleted: int
