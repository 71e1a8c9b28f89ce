"""api keys: scopes and an optional expiry

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

`scopes` is a comma-separated subset of read, write, admin. Keys created before this revision could
do everything; they become `read,write`: the scripts they serve (list, search, chat, upload, delete,
reprocess) keep working, and the powers nobody should hold through a key are gone — admin routes
need a new key with the `admin` scope, and no key can manage keys, passwords or sessions any more.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=64), nullable=False,
                                      server_default="read,write"))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
