"""Collections (shared knowledge bases), their members, and groups of users.

A document lives in its uploader's private space (`documents.collection_id IS NULL`) or in one
collection. Who may read or change what is decided in one place, `app.access.rules`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin, utcnow

ROLES = ("viewer", "editor", "owner")  # each role can do everything the one before it can


class Collection(IdMixin, TimestampMixin, Base):
    __tablename__ = "collections"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Who created it (informational: the owner *role* comes from collection_members).
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)


class CollectionMember(IdMixin, Base):
    """A user or a group with a role in a collection (exactly one of user_id / group_id)."""

    __tablename__ = "collection_members"
    __table_args__ = (
        UniqueConstraint("collection_id", "user_id", name="uq_collection_members_user"),
        UniqueConstraint("collection_id", "group_id", name="uq_collection_members_group"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_principal"),
        CheckConstraint("role IN ('viewer', 'editor', 'owner')", name="role"),
        Index("ix_collection_members_user", "user_id"),
        Index("ix_collection_members_group", "group_id"),
    )

    collection_id: Mapped[str] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None)
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), default=None)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Group(IdMixin, Base):
    """A named set of users, managed by administrators."""

    __tablename__ = "groups"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (Index("ix_group_members_user", "user_id"),)

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
