"""Admin HTTP API for groups (`/admin/groups…`): every route requires an administrator."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import AdminUser, ClientDep, SessionDep
from app.api.responses import errors
from app.collections import groups
from app.collections import repository as repo
from app.collections.schemas import (
    GroupDetail,
    GroupIn,
    GroupList,
    GroupMemberIn,
    GroupMemberList,
    GroupOut,
    GroupPatch,
    UserRef,
)

router = APIRouter(prefix="/admin/groups", tags=["admin"])


@router.get("", response_model=GroupList, operation_id="adminListGroups")
async def list_groups(admin: AdminUser, session: SessionDep) -> GroupList:
    return GroupList(items=[GroupDetail(id=g.id, name=g.name, description=g.description,
                                        created_at=g.created_at, member_count=n)
                            for g, n in await repo.groups_with_counts(session)])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=GroupOut,
             operation_id="adminCreateGroup", responses=errors(409))
async def create_group(body: GroupIn, admin: AdminUser, session: SessionDep,
                       client: ClientDep) -> GroupOut:
    return GroupOut.model_validate(
        await groups.create(session, admin, body.name, body.description, client))


@router.patch("/{group_id}", response_model=GroupOut, operation_id="adminUpdateGroup",
              responses=errors(409))
async def update_group(group_id: str, body: GroupPatch, admin: AdminUser, session: SessionDep,
                       client: ClientDep) -> GroupOut:
    return GroupOut.model_validate(
        await groups.update(session, admin, group_id, body.name, body.description, client))


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="adminDeleteGroup")
async def delete_group(group_id: str, admin: AdminUser, session: SessionDep,
                       client: ClientDep) -> None:
    await groups.delete(session, admin, group_id, client)


@router.get("/{group_id}/members", response_model=GroupMemberList,
            operation_id="adminListGroupMembers")
async def list_members(group_id: str, admin: AdminUser, session: SessionDep) -> GroupMemberList:
    await groups.get(session, group_id)
    return GroupMemberList(items=[UserRef.model_validate(u)
                                  for u in await repo.group_members(session, group_id)])


@router.put("/{group_id}/members", status_code=status.HTTP_204_NO_CONTENT,
            operation_id="adminAddGroupMember")
async def add_member(group_id: str, body: GroupMemberIn, admin: AdminUser, session: SessionDep,
                     client: ClientDep) -> None:
    await groups.add_member(session, admin, group_id, body.user_id, client)


@router.delete("/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="adminRemoveGroupMember")
async def remove_member(group_id: str, user_id: str, admin: AdminUser, session: SessionDep,
                        client: ClientDep) -> None:
    await groups.remove_member(session, admin, group_id, user_id, client)
