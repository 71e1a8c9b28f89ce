"""The providers and services a process uses, built by `providers.factory.build_services`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.providers.embeddings.base import Embedder
    from app.providers.files.base import FileStore
    from app.providers.jobs.base import JobQueue
    from app.providers.vectorstore.base import VectorStore


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
    runtime: Any  # app.admin.runtime.RuntimeSettingsService
    index: Any  # app.admin.reindex.IndexManager: active() -> ActiveIndex, targets() -> list[ActiveIndex]
    chat_models: Any  # app.rag.generation.ChatModelCache: get(runtime_values) -> ChatModel | None
