"""Chat models: the protocol (implementations are picked in `app.bootstrap`)."""

from app.providers.llm.base import ChatMessage, ChatModel, GenerationParams, LLMError

__all__ = ["ChatMessage", "ChatModel", "GenerationParams", "LLMError"]
