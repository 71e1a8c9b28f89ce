"""Vector-store providers: the protocol (implementations are picked in `app.bootstrap`)."""

from app.providers.vectorstore.base import (
    ALL_OWNERS,
    AllOwners,
    VectorHit,
    VectorRecord,
    VectorScope,
    VectorSelection,
    VectorStore,
    VectorStoreError,
    collection_name,
)

__all__ = [
    "ALL_OWNERS", "AllOwners", "VectorHit", "VectorRecord", "VectorScope", "VectorSelection",
    "VectorStore", "VectorStoreError", "collection_name",
]
