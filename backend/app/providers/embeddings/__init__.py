"""Embedding providers: the protocol and its implementations (picked in ``providers.factory``)."""

from app.providers.embeddings.base import Embedder, EmbeddingError

__all__ = ["Embedder", "EmbeddingError"]
