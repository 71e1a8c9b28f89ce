"""The chat-model protocol the RAG pipeline talks to, and its value types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationParams:
    max_tokens: int = 512
    temperature: float = 0.1


class LLMError(Exception):
    """A generation failure whose message is safe to show to the user.

    `transient` says a later retry may succeed (overload, outage, timeout); `status` is the
    upstream HTTP status when there was one.
    """

    def __init__(self, message: str, *, transient: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status = status


@runtime_checkable
class ChatModel(Protocol):
    @property
    def model_id(self) -> str: ...

    def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncIterator[str]:
        """Yield text deltas as the model produces them (an async generator)."""
        ...

    async def complete(self, messages: Sequence[ChatMessage], params: GenerationParams) -> str: ...

    async def ping(self) -> None:
        """Make one cheap real request; raise LLMError when the model cannot be reached."""
        ...

    async def aclose(self) -> None: ...
