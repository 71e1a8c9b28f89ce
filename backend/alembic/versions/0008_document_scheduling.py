"""documents.not_before (retry backoff) and documents.searchable_version (what search serves)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Workers pick the next document from the database (fair across owners, see
app/documents/scheduling.py), not from the job message, so a retried document's "not before" time
must be where the pick can see it.

`searchable_version` is the version whose chunks and vectors search returns: a reprocess keeps the
current version searchable until the new one is ready. Documents ready before this revision are
searchable at their current version.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("searchable_version", sa.Integer(), nullable=True))
        batch_op.create_index("ix_documents_status_owner", ["status", "owner_id"])
    op.execute("UPDATE documents SET searchable_version = version WHERE status = 'ready'")


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_status_owner")
        batch_op.drop_column("searchable_version")
        batch_op.drop_column("not_before")
