"""vector_purges: vectors of deleted documents still to delete from the vector store

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

A document deleted while the vector store was unreachable left its vectors behind for good. The
deletion now records a row here in its own transaction; the row goes once the vectors are gone
(right after the commit, or on a later reconciler pass).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vector_purges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vector_purges")),
    )


def downgrade() -> None:
    op.drop_table("vector_purges")
