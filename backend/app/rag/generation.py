"""Picks the answer generator from the runtime settings: an OpenAI-compatible model when one is
configured, otherwise None (the pipeline then answers extractively)."""

from __future__ import annotations

from typing import Any

from app.providers.llm.base import ChatModel
from app.providers.llm.openai_compat import OpenAICompatChatModel


class ChatModelCache:
    """One client per (base_url, model, key); a settings change swaps it in every process."""

    def __init__(self) -> None:
        self._key: tuple[str, str, str] | None = None
        self._model: ChatModel | None = None
        self._retired: list[ChatModel] = []

    def get(self, llm: Any, *, timeout: float = 120.0) -> ChatModel | None:
        if not llm.base_url:
            return None
        key = (llm.base_url, llm.model, llm.api_key or "")
        if key != self._key or self._model is None:
            if self._model is not None:
                # Streams may still be running on the old client; close it at shutdown.
                self._retired.append(self._model)
            self._model = OpenAICompatChatModel(base_url=llm.base_url, model=llm.model,
                                                api_key=llm.api_key or None, timeout=timeout)
            self._key = key
        return self._model

    async def aclose(self) -> None:
        for model in [*self._retired, *([self._model] if self._model else [])]:
            await model.aclose()
        self._retired.clear()
        self._model = None
