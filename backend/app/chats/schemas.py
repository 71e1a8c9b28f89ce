from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int
    document_id: str | None
    filename: str
    page: int
    chunk_id: str
    snippet: str
    score: float


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    role: Literal["user", "assistant"]
    content: str
    status: Literal["complete", "error", "stopped"]
    error: str | None
    created_at: datetime
    citations: list[CitationOut] = Field(default_factory=list)


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class ConversationList(BaseModel):
    items: list[ConversationOut]


class ConversationIn(BaseModel):
    title: str | None = Field(default=None, max_length=200)


class ConversationPatch(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class AskIn(BaseModel):
    content: str = Field(min_length=1, max_length=8000)
    document_ids: list[str] | None = Field(default=None, max_length=500)


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=100)
    document_ids: list[str] | None = Field(default=None, max_length=500)


class SearchHit(BaseModel):
    chunk_id: str
    document_id: str
    filename: str
    page: int
    snippet: str
    text: str
    score: float


class SearchOut(BaseModel):
    results: list[SearchHit]
