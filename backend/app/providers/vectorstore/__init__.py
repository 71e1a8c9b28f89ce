"""Vector-store providers: the protocol and implementations (picked in ``providers.factory``)."""

from app.providers.vectorstore.base import (
    VectorHit,
    VectorRecord,
    VectorStore,
    VectorStoreError,
    collection_name,
)

__all__ = ["VectorHit", "VectorRecord", "VectorStore", "VectorStoreError", "collection_name"]
