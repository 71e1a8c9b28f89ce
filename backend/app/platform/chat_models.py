"""The answer generator for the current runtime settings: an OpenAI-compatible model when one is
configured, otherwise None (the pipeline then answers extractively)."""

from __future__ import annotations

from collections.abc import Callable

from app.platform.runtime import LLMValues
from app.providers.llm.base import ChatModel

ChatModelFactory = Callable[[LLMValues], ChatModel]


class ChatModelCache:
    """One client per (base_url, model, key); a settings change swaps it in every process."""

    def __init__(self, factory: ChatModelFactory) -> None:
        self._factory = factory
        self._key: tuple[str, str, str] | None = None
        self._model: ChatModel | None = None
        self._retired: list[ChatModel] = []

    def get(self, llm: LLMValues) -> ChatModel | None:
        if not llm.base_url:
            return None
        key = (llm.base_url, llm.model, llm.api_key or "")
        if key != self._key or self._model is None:
            if self._model is not None:
                # Streams may still be running on the old client; close it at shutdown.
                self._retired.append(self._model)
            self._model = self._factory(llm)
            self._key = key
        return self._model

    def build(self, llm: LLMValues) -> ChatModel:
        """A one-off client (e.g. "Test connection" with values not saved yet); the caller closes it."""
        return self._factory(llm)

    async def aclose(self) -> None:
        for model in [*self._retired, *([self._model] if self._model else [])]:
            await model.aclose()
        self._retired.clear()
        self._model = None
