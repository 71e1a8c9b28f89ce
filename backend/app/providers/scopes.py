"""What the keyword index's and the vector store's scopes share: one owner's documents, all of
them, only some (`document_ids`) or all but some (`exclude_document_ids`)."""

from __future__ import annotations

from collections.abc import Collection


def admits(document_id: str, only: Collection[str] | None,
           excluded: Collection[str] | None) -> bool:
    """Whether a scope with these document conditions admits `document_id` (of its owner)."""
    if only is not None:
        return document_id in only
    return excluded is None or document_id not in excluded
