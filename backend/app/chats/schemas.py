from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.core.text import DisplayText


class CitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int
    document_id: str | None
    filename: str
    page: int
    chunk_id: str
    snippet: str
    score: float
    # The collection the document lives in (None: the reader's private space).
    collection_id: str | None = None
    collection_name: str | None = None
    # Where the passage is: "p. 12", "slide 3", or its section where the format has no pages.
    location: str | None = None
    # False once the reader can no longer read the document (deleted, moved, access revoked):
    # filename and snippet are then empty ("source no longer available").
    available: bool = True


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    role: Literal["user", "assistant"]
    content: str
    status: Literal["complete", "error", "stopped"]
    error: str | None
    model: str | None = Field(default=None, description=(
        "What wrote an assistant message: the configured model's name, or \"extractive\" "
        "(sentences picked from the sources, no model); null for the user's messages."))
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
    title: DisplayText | None = Field(default=None, max_length=200)


class ConversationPatch(BaseModel):
    title: DisplayText = Field(min_length=1, max_length=200)


class AskIn(BaseModel):
    content: str = Field(min_length=1, max_length=8000)
    document_ids: list[str] | None = Field(default=None, max_length=500)
    collection_ids: list[str] | None = Field(default=None, max_length=100)


class SearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=10, ge=1, le=100)
    document_ids: list[str] | None = Field(default=None, max_length=500)
    collection_ids: list[str] | None = Field(default=None, max_length=100)


class SearchHit(BaseModel):
    chunk_id: str
    document_id: str
    filename: str
    page: int
    snippet: str
    text: str
    score: float
    collection_id: str | None = None  # None: the caller's private space
    collection_name: str | None = None
    location: str | None = None  # "p. 12", "slide 3", or the section (formats without pages)


class SearchOut(BaseModel):
    results: list[SearchHit]


# ---- the chat stream (`POST /conversations/{id}/messages`, text/event-stream) -----------------
# Each SSE frame is `event: <name>` + `data: <JSON of the event's data model>`. The union below is
# published in the OpenAPI schema (components `ChatStreamEvent`), so the web app's types for these
# events are generated like every other payload; the router validates each frame against it.

class SourcesData(BaseModel):
    sources: list[CitationOut]


class TokenData(BaseModel):
    text: str


class CitationsData(BaseModel):
    content: str
    citations: list[CitationOut]
    unsupported: list[str] = Field(default_factory=list, description=(
        "Sentences of a generated answer that no retrieved source supports; in `content` each "
        "is followed by the mark \"[not found in your documents]\"."))


class AnswerTimings(BaseModel):
    retrieval_ms: float | None = None
    overview_ms: float | None = None  # a whole-document request reads its documents instead
    first_token_ms: float | None = None
    grounding_ms: float | None = None
    total_ms: float | None = None


class DoneData(BaseModel):
    message_id: str
    user_message_id: str
    conversation_id: str
    timings: AnswerTimings


class ErrorData(BaseModel):
    error: str
    detail: str
    message_id: str | None = None
    user_message_id: str | None = None


class SourcesEvent(BaseModel):
    event: Literal["sources"]
    data: SourcesData


class TokenEvent(BaseModel):
    event: Literal["token"]
    data: TokenData


class CitationsEvent(BaseModel):
    event: Literal["citations"]
    data: CitationsData


class DoneEvent(BaseModel):
    event: Literal["done"]
    data: DoneData


class ErrorEvent(BaseModel):
    event: Literal["error"]
    data: ErrorData


ChatStreamEvent = Annotated[SourcesEvent | TokenEvent | CitationsEvent | DoneEvent | ErrorEvent,
                            Field(discriminator="event")]
CHAT_STREAM = TypeAdapter[SourcesEvent | TokenEvent | CitationsEvent | DoneEvent | ErrorEvent](
    ChatStreamEvent)


def sse_frame(event: str, data: Mapping[str, object]) -> str:
    """One validated SSE frame; a payload that drifted from the published schema raises here."""
    checked = CHAT_STREAM.validate_python({"event": event, "data": data})
    return f"event: {checked.event}\ndata: {checked.data.model_dump_json()}\n\n"


def chat_stream_schemas() -> dict[str, dict[str, object]]:
    """JSON schemas of the stream's events, for the OpenAPI components (`ChatStreamEvent` + parts)."""
    schema = CHAT_STREAM.json_schema(ref_template="#/components/schemas/{model}")
    defs: dict[str, dict[str, object]] = schema.pop("$defs")
    defs["ChatStreamEvent"] = schema
    return defs
