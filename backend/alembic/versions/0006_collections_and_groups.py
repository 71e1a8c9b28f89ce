"""collections (shared knowledge bases), their members, groups; documents.collection_id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

A document lives in its uploader's private space (`collection_id IS NULL`, every existing row) or
in one collection. Members of a collection are users or groups with a role (viewer, editor, owner).
Deleting a collection returns its documents to their uploaders' private spaces (SET NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE",
                                name=op.f("fk_group_members_group_id_groups")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_group_members_user_id_users")),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    op.create_index("ix_group_members_user", "group_members", ["user_id"])
    op.create_table(
        "collections",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_collections_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
    )
    op.create_table(
        "collection_members",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("collection_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("group_id", sa.String(36), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)",
                           name=op.f("ck_collection_members_one_principal")),
        sa.CheckConstraint("role IN ('viewer', 'editor', 'owner')",
                           name=op.f("ck_collection_members_role")),
        sa.ForeignKeyConstraint(["collection_id"], ["collections.id"], ondelete="CASCADE",
                                name=op.f("fk_collection_members_collection_id_collections")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_collection_members_user_id_users")),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE",
                                name=op.f("fk_collection_members_group_id_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_members")),
        sa.UniqueConstraint("collection_id", "user_id", name="uq_collection_members_user"),
        sa.UniqueConstraint("collection_id", "group_id", name="uq_collection_members_group"),
    )
    op.create_index("ix_collection_members_user", "collection_members", ["user_id"])
    op.create_index("ix_collection_members_group", "collection_members", ["group_id"])
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collection_id", sa.String(36), nullable=True))
        batch_op.create_foreign_key(op.f("fk_documents_collection_id_collections"), "collections",
                                    ["collection_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_documents_owner_collection", ["owner_id", "collection_id"])
        batch_op.create_index("ix_documents_collection_owner", ["collection_id", "owner_id"])


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_collection_owner")
        batch_op.drop_index("ix_documents_owner_collection")
        batch_op.drop_constraint(op.f("fk_documents_collection_id_collections"), type_="foreignkey")
        batch_op.drop_column("collection_id")
    op.drop_table("collection_members")
    op.drop_table("collections")
    op.drop_table("group_members")
    op.drop_table("groups")
