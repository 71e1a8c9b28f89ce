"""Collections (shared knowledge bases), their members, and the look-ups the members dialog needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from app.api.deps import ClientDep, CurrentUser, SessionDep, WriteUser
from app.api.responses import errors
from app.auth.models import User
from app.collections import repository as repo
from app.collections import service
from app.collections.schemas import (
    CollectionIn,
    CollectionList,
    CollectionOut,
    CollectionPatch,
    GroupDetail,
    GroupList,
    MemberIn,
    MemberList,
    MemberOut,
    UserRef,
)
from app.core.errors import NotFound

router = APIRouter(tags=["collections"])


@router.post("/collections", status_code=status.HTTP_201_CREATED, response_model=CollectionOut,
             operation_id="createCollection")
async def create_collection(body: CollectionIn, user: WriteUser, session: SessionDep,
                            client: ClientDep) -> CollectionOut:
    return await service.create(session, user, body.name, body.description, client)


@router.get("/collections", response_model=CollectionList, operation_id="listCollections")
async def list_collections(user: CurrentUser, session: SessionDep) -> CollectionList:
    return CollectionList(items=await service.list_readable(session, user))


@router.get("/collections/{collection_id}", response_model=CollectionOut,
            operation_id="getCollection")
async def get_collection(collection_id: str, user: CurrentUser, session: SessionDep) -> CollectionOut:
    return await service.get(session, user, collection_id)


@router.patch("/collections/{collection_id}", response_model=CollectionOut,
              operation_id="updateCollection")
async def update_collection(collection_id: str, body: CollectionPatch, user: WriteUser,
                            session: SessionDep, client: ClientDep) -> CollectionOut:
    return await service.update(session, user, collection_id, body.name, body.description, client)


@router.delete("/collections/{collection_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="deleteCollection")
async def delete_collection(collection_id: str, user: WriteUser, session: SessionDep,
                            client: ClientDep) -> None:
    await service.delete(session, user, collection_id, client)


@router.get("/collections/{collection_id}/members", response_model=MemberList,
            operation_id="listCollectionMembers")
async def list_members(collection_id: str, user: CurrentUser, session: SessionDep) -> MemberList:
    return MemberList(items=await service.list_members(session, user, collection_id))


@router.put("/collections/{collection_id}/members", response_model=MemberOut,
            operation_id="setCollectionMember", responses=errors(409))
async def set_member(collection_id: str, body: MemberIn, user: WriteUser, session: SessionDep,
                     client: ClientDep) -> MemberOut:
    return await service.put_member(session, user, collection_id, body, client)


@router.delete("/collections/{collection_id}/members/{member_id}",
               status_code=status.HTTP_204_NO_CONTENT, operation_id="removeCollectionMember",
               responses=errors(409))
async def remove_member(collection_id: str, member_id: str, user: WriteUser, session: SessionDep,
                        client: ClientDep) -> None:
    await service.remove_member(session, user, collection_id, member_id, client)


@router.get("/users/lookup", response_model=UserRef, operation_id="lookupUser", responses=errors(404))
async def lookup_user(email: Annotated[str, Query(min_length=3, max_length=320)],
                      user: CurrentUser, session: SessionDep) -> UserRef:
    """One active user by their exact email (case-insensitive), to add them to a collection. There
    is no listing or prefix search: a user cannot browse the directory."""
    found = (await session.execute(select(User).where(
        User.email == email.strip().lower(), User.is_active.is_(True)))).scalar_one_or_none()
    if found is None:
        raise NotFound("No user with that email.", code="user_not_found")
    return UserRef.model_validate(found)


@router.get("/groups", response_model=GroupList, operation_id="listGroups")
async def list_groups(user: CurrentUser, session: SessionDep) -> GroupList:
    """Every group's name and size (to share a collection with a group)."""
    return GroupList(items=[GroupDetail(id=g.id, name=g.name, description=g.description,
                                        created_at=g.created_at, member_count=n)
                            for g, n in await repo.groups_with_counts(session)])
