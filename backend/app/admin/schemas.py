"""Admin API shapes (see docs/api.md, section Admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.auth.schemas import UserOut
from app.core.text import DisplayText
from app.documents.lifecycle import JobStatus
from app.platform.runtime import EmbeddingPatch, LLMPatch

Role = Literal["user", "admin"]


class AdminUserOut(UserOut):
    last_login_at: datetime | None
    document_count: int


class AdminUserList(BaseModel):
    items: list[AdminUserOut]
    total: int


class AdminUserCreate(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    role: Role = "user"
    display_name: DisplayText = Field(default="", max_length=200)
    must_change_password: bool = False


class AdminUserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None


class ResetPasswordIn(BaseModel):
    new_password: str = Field(min_length=1, max_length=1024)


class DocumentsByStatus(BaseModel):
    queued: int = 0
    processing: int = 0
    ready: int = 0
    failed: int = 0


class StatsOut(BaseModel):
    users: int
    documents_by_status: DocumentsByStatus
    documents: int
    chunks: int
    storage_bytes: int
    # None, with queue_available false, while Redis (the queue, the workers' heartbeats) is away.
    queue_depth: int | None
    workers: int | None
    queue_available: bool = True
    failures_24h: int


class JobOut(BaseModel):
    """One processing attempt of a document (a `jobs` row). Queued documents have no job yet."""

    id: str
    document_id: str | None
    filename: str | None
    owner_email: str | None
    status: JobStatus
    stage: str | None  # the document's stage while this attempt runs
    attempts: int  # this attempt's number (1 = first try)
    worker: str  # host:pid of the worker process that ran it
    document_status: str | None  # the document now (a failed attempt may have been retried since)
    error: str | None  # for failed and retrying attempts: the owner's message, then the cause
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None


class JobList(BaseModel):
    items: list[JobOut]
    total: int


class RetryIn(BaseModel):
    document_ids: list[str] | None = Field(default=None, max_length=10_000)
    all_failed: bool = False


class RetryOut(BaseModel):
    retried: int


class ReindexOut(BaseModel):
    status: str
    collection: str | None


class LLMSettingsOut(BaseModel):
    base_url: str | None
    model: str
    api_key_set: bool
    temperature: float
    max_tokens: int
    context_size: int


class EmbeddingSettingsOut(BaseModel):
    provider: Literal["local", "openai"]
    model: str
    base_url: str | None
    api_key_set: bool
    dimension: int | None


class RetrievalSettingsOut(BaseModel):
    top_k: int
    hybrid_weight: float
    relevance_floor: float


class UploadSettingsOut(BaseModel):
    max_upload_mb: int
    max_pages: int
    quota_mb: int


class ReindexStatusOut(BaseModel):
    status: str
    progress: int
    collection: str | None
    error: str | None = None


class RegistrationSettingsOut(BaseModel):
    mode: Literal["open", "invite", "domains", "closed"]
    allowed_domains: list[str]


class RuntimeSettingsOut(BaseModel):
    llm: LLMSettingsOut
    embedding: EmbeddingSettingsOut
    retrieval: RetrievalSettingsOut
    uploads: UploadSettingsOut
    registration: RegistrationSettingsOut
    registration_open: bool = Field(description="Read-only: whether anyone may try to register "
                                                 "without an invite (mode open or domains).")
    password_login: bool = Field(description="The stored choice; password sign-in stays on while "
                                             "single sign-on is not configured.")
    password_login_enabled: bool = Field(description="Read-only: whether password sign-in works now.")
    sso_enabled: bool = Field(description="Read-only: single sign-on is configured (environment).")
    reindex: ReindexStatusOut


class SettingsTestIn(BaseModel):
    target: Literal["llm", "embedding"]
    # The values typed in the form, not saved: fields given replace the saved ones for this test only.
    # A blank or absent api_key means the saved key, which is only sent to the saved base URL.
    llm: LLMPatch | None = None
    embedding: EmbeddingPatch | None = None


class SettingsTestOut(BaseModel):
    ok: bool
    detail: str
    latency_ms: int


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    actor_email: str | None
    event: str
    target: str | None
    ip: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditEntryOut]
    total: int


class InviteIn(BaseModel):
    email: EmailStr | None = Field(default=None, description="Only this address may use it")
    expires_in_days: int = Field(default=7, ge=1, le=90)


class InviteOut(BaseModel):
    id: str
    email: str | None
    created_at: datetime
    expires_at: datetime
    status: Literal["pending", "used", "expired", "revoked"]
    used_at: datetime | None


class InviteCreated(InviteOut):
    token: str = Field(description="Shown once: the link is /register?invite=<token>")
    path: str = Field(description="The registration link's path in the web app")


class InviteList(BaseModel):
    items: list[InviteOut]
