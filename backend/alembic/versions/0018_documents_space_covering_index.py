"""documents: the owner-and-collection index also holds the document id

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

A reader whose scope narrows another owner's partition (the owner keeps some documents out of the
shared collection) lists that owner's documents of one space (`app/access/rules.py::_partitions`:
`owner_id = ? AND collection_id IS NULL`, or `= ?`) on every search. With an index on
(owner_id, collection_id) alone, each listed id is a lookup in the table: a random page read per
document, since one owner's documents are spread over the table as they were uploaded between
other owners'. With the id in the index the list is read from the index alone (SQLite: a covering
index; PostgreSQL: an index-only scan). 10 owners' private documents (15,550 of 103,660, uploads
interleaved), timed directly on SQLite: 46 -> 2 ms (docs/benchmarks.md §5b). The new index serves
every query the old one did (same leading columns), so it replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_documents_owner_collection_id", "documents",
                    ["owner_id", "collection_id", "id"])
    op.drop_index("ix_documents_owner_collection", table_name="documents")


def downgrade() -> None:
    op.create_index("ix_documents_owner_collection", "documents", ["owner_id", "collection_id"])
    op.drop_index("ix_documents_owner_collection_id", table_name="documents")
