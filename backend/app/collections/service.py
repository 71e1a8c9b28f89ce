"""Collection use cases: create, list, read, rename, delete; members (users and groups with a role).

Every function asks `app.access.rules` for the caller's role first: a non-member gets 404, a member
whose role is too weak 403. Owners manage members, rename and delete; at least one user keeps the
owner role, so a collection is never left without someone who can manage it.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import Access, access_for, collection_with_role
from app.auth.models import User
from app.collections import repository as repo
from app.collections.models import Collection, CollectionMember, Group
from app.collections.schemas import CollectionOut, MemberIn, MemberOut
from app.core.context import ClientInfo
from app.core.errors import Conflict, Invalid, NotFound
from app.platform import audit


async def describe(session: AsyncSession, access: Access, colls: list[Collection]
                   ) -> list[CollectionOut]:
    ids = [c.id for c in colls]
    docs, members = await repo.document_counts(session, ids), await repo.member_counts(session, ids)
    return [CollectionOut(id=c.id, name=c.name, description=c.description, created_by=c.created_by,
                          created_at=c.created_at, updated_at=c.updated_at,
                          role=access.roles.get(c.id, "viewer"),
                          document_count=docs.get(c.id, 0), member_count=members.get(c.id, 0))
            for c in colls]


async def create(session: AsyncSession, user: User, name: str, description: str,
                 client: ClientInfo) -> CollectionOut:
    coll = Collection(name=name.strip(), description=description.strip(), created_by=user.id)
    if not coll.name:
        raise Invalid("A collection needs a name.", code="invalid_name")
    session.add(coll)
    await session.flush()
    session.add(CollectionMember(collection_id=coll.id, user_id=user.id, role="owner"))
    await session.flush()
    audit.record(session, "collection.created", actor_id=user.id, actor_email=user.email,
                 target=coll.id, client=client, details={"name": coll.name})
    [out] = await describe(session, await access_for(session, user.id), [coll])
    return out


async def list_readable(session: AsyncSession, user: User) -> list[CollectionOut]:
    access = await access_for(session, user.id)
    return await describe(session, access, await repo.collections_by_id(session, sorted(access.roles)))


async def get(session: AsyncSession, user: User, collection_id: str) -> CollectionOut:
    access = await access_for(session, user.id)
    coll = await collection_with_role(session, access, collection_id, "viewer")
    [out] = await describe(session, access, [coll])
    return out


async def update(session: AsyncSession, user: User, collection_id: str, name: str | None,
                 description: str | None, client: ClientInfo) -> CollectionOut:
    access = await access_for(session, user.id)
    coll = await collection_with_role(session, access, collection_id, "owner")
    if name is not None:
        if not name.strip():
            raise Invalid("A collection needs a name.", code="invalid_name")
        coll.name = name.strip()
    if description is not None:
        coll.description = description.strip()
    await session.flush()
    audit.record(session, "collection.updated", actor_id=user.id, actor_email=user.email,
                 target=coll.id, client=client, details={"name": coll.name})
    [out] = await describe(session, access, [coll])
    return out


async def delete(session: AsyncSession, user: User, collection_id: str, client: ClientInfo) -> None:
    """Delete the collection; its documents go back to their uploaders' private spaces (nothing
    is re-embedded: vectors stay in the uploader's partition)."""
    coll = await collection_with_role(session, await access_for(session, user.id), collection_id,
                                      "owner")
    await repo.release_documents(session, coll.id)
    await session.delete(coll)
    await session.flush()
    audit.record(session, "collection.deleted", actor_id=user.id, actor_email=user.email,
                 target=collection_id, client=client, details={"name": coll.name})


# ---- members -------------------------------------------------------------------------------------

def _member_out(m: CollectionMember, email: str | None, group: str | None) -> MemberOut:
    return MemberOut(id=m.id, kind="user" if m.user_id else "group", user_id=m.user_id,
                     group_id=m.group_id, name=(email if m.user_id else group) or "",
                     role=m.role, created_at=m.created_at)


async def list_members(session: AsyncSession, user: User, collection_id: str) -> list[MemberOut]:
    await collection_with_role(session, await access_for(session, user.id), collection_id, "viewer")
    return [_member_out(m, e, g) for m, e, g in await repo.members(session, collection_id)]


async def put_member(session: AsyncSession, user: User, collection_id: str, body: MemberIn,
                     client: ClientInfo) -> MemberOut:
    """Add a user or a group with a role, or change their role."""
    await collection_with_role(session, await access_for(session, user.id), collection_id, "owner")
    name: str
    if body.user_id is not None:
        target = await session.get(User, body.user_id)
        if target is None:
            raise NotFound("User not found.", code="user_not_found")
        name = target.email
    else:
        group = await session.get(Group, body.group_id)
        if group is None:
            raise NotFound("Group not found.", code="group_not_found")
        name = group.name
    member = await repo.membership(session, collection_id, user_id=body.user_id,
                                   group_id=body.group_id)
    if member is not None and member.role == "owner" and body.role != "owner" \
            and member.user_id is not None and await repo.user_owner_count(session, collection_id) <= 1:
        raise Conflict("A collection needs at least one owner: make someone else owner first.",
                       code="last_owner")
    if member is None:
        member = CollectionMember(collection_id=collection_id, user_id=body.user_id,
                                  group_id=body.group_id, role=body.role)
        try:
            async with session.begin_nested():
                session.add(member)
        except IntegrityError as exc:  # added concurrently by another request
            raise Conflict("That member was just added; reload and try again.") from exc
    else:
        member.role = body.role
    await session.flush()
    audit.record(session, "collection.member_set", actor_id=user.id, actor_email=user.email,
                 target=collection_id, client=client,
                 details={"member": body.user_id or body.group_id, "role": body.role})
    return _member_out(member, name if body.user_id else None, name if body.group_id else None)


async def remove_member(session: AsyncSession, user: User, collection_id: str, member_id: str,
                        client: ClientInfo) -> None:
    """Owners remove anyone; any member may remove their own (user) membership, i.e. leave."""
    access = await access_for(session, user.id)
    member = await session.get(CollectionMember, member_id)
    own = member is not None and member.user_id == user.id
    await collection_with_role(session, access, collection_id, "viewer" if own else "owner")
    if member is None or member.collection_id != collection_id:
        raise NotFound("Member not found.")
    if member.role == "owner" and member.user_id is not None \
            and await repo.user_owner_count(session, collection_id) <= 1:
        raise Conflict("A collection needs at least one owner: make someone else owner first.",
                       code="last_owner")
    await session.delete(member)
    await session.flush()
    audit.record(session, "collection.member_removed", actor_id=user.id, actor_email=user.email,
                 target=collection_id, client=client,
                 details={"member": member.user_id or member.group_id})
