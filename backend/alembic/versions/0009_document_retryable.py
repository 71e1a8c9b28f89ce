"""documents.retryable: whether a failed document's retry can succeed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

Set when a document fails: true for a passing problem (a service was down, the worker kept being
interrupted, text recognition was unavailable), false for a file that will fail the same way again
(password-protected, unsupported, damaged, over a limit). Documents that failed before this
revision get false; Retry stays available to administrators in the Jobs view.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retryable", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("retryable")
