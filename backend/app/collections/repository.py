"""SQL for collections, their members and groups. Authorization is the caller's (app.access)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.collections.models import Collection, CollectionMember, Group, GroupMember
from app.documents.models import Document


async def collections_by_id(session: AsyncSession, ids: Sequence[str]) -> list[Collection]:
    if not ids:
        return []
    stmt = select(Collection).where(Collection.id.in_(sorted(ids))).order_by(
        func.lower(Collection.name), Collection.id)
    return list((await session.execute(stmt)).scalars())


async def document_counts(session: AsyncSession, ids: Sequence[str]) -> dict[str, int]:
    if not ids:
        return {}
    stmt = (select(Document.collection_id, func.count()).where(Document.collection_id.in_(sorted(ids)))
            .group_by(Document.collection_id))
    return {str(c): int(n) for c, n in (await session.execute(stmt)).all()}


async def member_counts(session: AsyncSession, ids: Sequence[str]) -> dict[str, int]:
    if not ids:
        return {}
    stmt = (select(CollectionMember.collection_id, func.count())
            .where(CollectionMember.collection_id.in_(sorted(ids)))
            .group_by(CollectionMember.collection_id))
    return {c: int(n) for c, n in (await session.execute(stmt)).all()}


async def members(session: AsyncSession, collection_id: str
                  ) -> list[tuple[CollectionMember, str | None, str | None]]:
    """Each membership with the user's email or the group's name."""
    stmt = (select(CollectionMember, User.email, Group.name)
            .outerjoin(User, User.id == CollectionMember.user_id)
            .outerjoin(Group, Group.id == CollectionMember.group_id)
            .where(CollectionMember.collection_id == collection_id)
            .order_by(CollectionMember.created_at, CollectionMember.id))
    return [(m, email, group) for m, email, group in (await session.execute(stmt)).all()]


async def membership(session: AsyncSession, collection_id: str, *, user_id: str | None,
                     group_id: str | None) -> CollectionMember | None:
    stmt = select(CollectionMember).where(CollectionMember.collection_id == collection_id)
    stmt = stmt.where(CollectionMember.user_id == user_id) if user_id is not None \
        else stmt.where(CollectionMember.group_id == group_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def user_owner_count(session: AsyncSession, collection_id: str) -> int:
    stmt = select(func.count()).select_from(CollectionMember).where(
        CollectionMember.collection_id == collection_id, CollectionMember.role == "owner",
        CollectionMember.user_id.is_not(None))
    return int((await session.execute(stmt)).scalar_one())


async def release_documents(session: AsyncSession, collection_id: str) -> None:
    """Documents of a deleted collection go back to their uploaders' private spaces."""
    await session.execute(update(Document).where(Document.collection_id == collection_id)
                          .values(collection_id=None))


async def groups_with_counts(session: AsyncSession) -> list[tuple[Group, int]]:
    counts = (select(GroupMember.group_id, func.count().label("n"))
              .group_by(GroupMember.group_id).subquery())
    stmt = (select(Group, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.group_id == Group.id)
            .order_by(func.lower(Group.name), Group.id))
    return [(g, int(n)) for g, n in (await session.execute(stmt)).all()]


async def group_by_name(session: AsyncSession, name: str) -> Group | None:
    stmt = select(Group).where(func.lower(Group.name) == name.lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def group_members(session: AsyncSession, group_id: str) -> list[User]:
    stmt = (select(User).join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == group_id).order_by(User.email))
    return list((await session.execute(stmt)).scalars())
