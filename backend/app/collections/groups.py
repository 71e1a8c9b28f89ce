"""Group use cases (administrators): create, rename, delete, add and remove members.

A membership change takes effect on the member's next request: the access rule reads group
memberships from the database every time (`app.access.rules.access_for`).
"""

from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.collections import repository as repo
from app.collections.models import Group, GroupMember
from app.core.context import ClientInfo
from app.core.errors import Conflict, Invalid, NotFound
from app.platform import audit


async def get(session: AsyncSession, group_id: str) -> Group:
    group = await session.get(Group, group_id)
    if group is None:
        raise NotFound("Group not found.")
    return group


async def _unique_name(session: AsyncSession, name: str, group_id: str | None = None) -> str:
    name = name.strip()
    if not name:
        raise Invalid("A group needs a name.", code="invalid_name")
    other = await repo.group_by_name(session, name)
    if other is not None and other.id != group_id:
        raise Conflict(f"A group named {name!r} already exists.", code="group_exists")
    return name


async def create(session: AsyncSession, admin: User, name: str, description: str,
                 client: ClientInfo) -> Group:
    group = Group(name=await _unique_name(session, name), description=description.strip())
    try:
        async with session.begin_nested():
            session.add(group)
    except IntegrityError as exc:
        raise Conflict(f"A group named {name.strip()!r} already exists.", code="group_exists") from exc
    audit.record(session, "group.created", actor_id=admin.id, actor_email=admin.email,
                 target=group.id, client=client, details={"name": group.name})
    return group


async def update(session: AsyncSession, admin: User, group_id: str, name: str | None,
                 description: str | None, client: ClientInfo) -> Group:
    group = await get(session, group_id)
    if name is not None:
        group.name = await _unique_name(session, name, group.id)
    if description is not None:
        group.description = description.strip()
    await session.flush()
    audit.record(session, "group.updated", actor_id=admin.id, actor_email=admin.email,
                 target=group.id, client=client, details={"name": group.name})
    return group


async def delete(session: AsyncSession, admin: User, group_id: str, client: ClientInfo) -> None:
    """Its collection memberships go with it (members lose what they could read through it)."""
    group = await get(session, group_id)
    await session.delete(group)
    await session.flush()
    audit.record(session, "group.deleted", actor_id=admin.id, actor_email=admin.email,
                 target=group_id, client=client, details={"name": group.name})


async def add_member(session: AsyncSession, admin: User, group_id: str, user_id: str,
                     client: ClientInfo) -> None:
    await get(session, group_id)
    if await session.get(User, user_id) is None:
        raise NotFound("User not found.", code="user_not_found")
    if await session.get(GroupMember, (group_id, user_id)) is None:
        try:
            async with session.begin_nested():
                session.add(GroupMember(group_id=group_id, user_id=user_id))
        except IntegrityError:  # added concurrently: the same outcome
            pass
    audit.record(session, "group.member_added", actor_id=admin.id, actor_email=admin.email,
                 target=group_id, client=client, details={"user_id": user_id})


async def remove_member(session: AsyncSession, admin: User, group_id: str, user_id: str,
                        client: ClientInfo) -> None:
    await get(session, group_id)
    result = await session.execute(sql_delete(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.user_id == user_id))
    if not getattr(result, "rowcount", 0):
        raise NotFound("That user is not in the group.")
    audit.record(session, "group.member_removed", actor_id=admin.id, actor_email=admin.email,
                 target=group_id, client=client, details={"user_id": user_id})


async def sync_user_groups(session: AsyncSession, user_id: str, names: list[str]) -> None:
    """Make the user a member of exactly the named groups among those that exist (for single
    sign-on, whose provider sends the user's groups): joins the listed ones, leaves the others.
    Unknown names are ignored: groups are created by administrators, never by a provider."""
    wanted: set[str] = set()
    for name in names:
        group = await repo.group_by_name(session, name)
        if group is not None:
            wanted.add(group.id)
    current = {g for g, in (await session.execute(
        GroupMember.__table__.select().with_only_columns(GroupMember.group_id)
        .where(GroupMember.user_id == user_id))).all()}
    for gid in wanted - current:
        session.add(GroupMember(group_id=gid, user_id=user_id))
    if current - wanted:
        await session.execute(sql_delete(GroupMember).where(
            GroupMember.user_id == user_id, GroupMember.group_id.in_(sorted(current - wanted))))
    await session.flush()


async def sync_mapped_groups(session: AsyncSession, user: User, mapping: dict[str, str],
                             provider_groups: list[str]) -> tuple[list[str], list[str]]:
    """Single sign-on: membership of each Citewise group named in `mapping` (provider group →
    group name) follows the provider's groups claim — joined when the claim lists a provider group
    mapped to it, left when it lists none. A mapped group that does not exist yet is created;
    groups the mapping does not name are never touched. Returns the names joined and left."""
    wanted = {mapping[g] for g in provider_groups if g in mapping}
    joined: list[str] = []
    left: list[str] = []
    for name in sorted(set(mapping.values())):
        group = await repo.group_by_name(session, name)
        if group is None:
            if name not in wanted:
                continue
            group = Group(name=name.strip(), description="Members come from single sign-on.")
            try:
                async with session.begin_nested():
                    session.add(group)
            except IntegrityError:  # created concurrently by another sign-in
                group = await repo.group_by_name(session, name)
                if group is None:
                    raise
        member = await session.get(GroupMember, (group.id, user.id))
        if name in wanted and member is None:
            try:
                async with session.begin_nested():
                    session.add(GroupMember(group_id=group.id, user_id=user.id))
            except IntegrityError:  # added concurrently: the same outcome
                pass
            joined.append(group.name)
        elif name not in wanted and member is not None:
            await session.delete(member)
            left.append(group.name)
    await session.flush()
    return joined, left
