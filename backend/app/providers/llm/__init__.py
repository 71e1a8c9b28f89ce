"""Chat models: the protocol and its OpenAI-compatible implementation."""

from app.providers.llm.base import ChatMessage, ChatModel, GenerationParams, LLMError
from app.providers.llm.openai_compat import OpenAICompatChatModel

__all__ = ["ChatMessage", "ChatModel", "GenerationParams", "LLMError", "OpenAICompatChatModel"]
