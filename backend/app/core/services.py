"""The providers and services a process uses, built by `providers.factory.build_services`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.admin.reindex import IndexManager
    from app.admin.runtime import RuntimeSettingsService
    from app.providers.embeddings.base import Embedder
    from app.providers.files.base import FileStore
    from app.providers.jobs.base import JobQueue
    from app.providers.vectorstore.base import VectorStore
    from app.rag.generation import ChatModelCache


@dataclass
class ActiveIndex:
    """Which embedder + Chroma collection answers queries (and where new chunks are written)."""

    embedder: Embedder
    collection: str


@dataclass
class Services:
    files: FileStore
    vectors: VectorStore
    jobs: JobQueue
    runtime: RuntimeSettingsService
    index: IndexManager  # active() -> ActiveIndex, targets() -> list[ActiveIndex]
    chat_models: ChatModelCache  # get(llm values) -> ChatModel | None (None: extractive answers)
