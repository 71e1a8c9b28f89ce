"""documents: when the current run of transient failures began, and vectors still to purge

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

`retry_since` is set by the first transient failure of a document's version and cleared when it
is ready or reprocessed: retries go on with backoff until it is `job_retry_window_seconds` old.
`purge_pending` marks a `failed` document whose vectors may still be in the vector store (it
failed because the store was down, say); the reconciler deletes them and clears the flag.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("purge_pending", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("purge_pending")
        batch_op.drop_column("retry_since")
