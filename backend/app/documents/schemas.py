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
