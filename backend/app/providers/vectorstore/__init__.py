"""Vector-store providers: the protocol (implementations are picked in `app.bootstrap`)."""

from app.providers.vectorstore.base import (
    VectorHit,
    VectorRecord,
    VectorStore,
    VectorStoreError,
    collection_name,
)

__all__ = ["VectorHit", "VectorRecord", "VectorStore", "VectorStoreError", "collection_name"]
