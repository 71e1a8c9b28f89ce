"""Admin HTTP API. Every route requires an administrator (`AdminUser`: 401 anonymous, 403 user)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.admin import repository as repo
from app.admin import service
from app.admin.schemas import (
    AdminUserCreate,
    AdminUserList,
    AdminUserOut,
    AdminUserPatch,
    AuditEntryOut,
    AuditList,
    InviteCreated,
    InviteIn,
    InviteList,
    InviteOut,
    JobList,
    ReindexOut,
    ResetPasswordIn,
    RetryIn,
    RetryOut,
    RuntimeSettingsOut,
    SettingsTestIn,
    SettingsTestOut,
    StatsOut,
)
from app.api.deps import AdminUser, ClientDep, ContainerDep, SessionDep, SettingsDep
from app.api.responses import errors
from app.auth import invites
from app.auth.models import Invite
from app.documents.lifecycle import JobStatus
from app.platform import audit
from app.platform.container import ReindexControl
from app.platform.runtime import RuntimePatch, RuntimeSettingsService

router = APIRouter(prefix="/admin", tags=["admin"])

Page = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


def get_runtime(container: ContainerDep) -> RuntimeSettingsService:
    return container.runtime


def get_reindex(container: ContainerDep) -> ReindexControl:
    return container.reindex


RuntimeDep = Annotated[RuntimeSettingsService, Depends(get_runtime)]
ReindexDep = Annotated[ReindexControl, Depends(get_reindex)]


# ---- users --------------------------------------------------------------------------------------

@router.get("/users", response_model=AdminUserList, operation_id="adminListUsers")
async def list_users(_: AdminUser, session: SessionDep,
                     q: Annotated[str | None, Query(max_length=320)] = None,
                     page: Page = 1, page_size: PageSize = 50) -> AdminUserList:
    rows, total = await repo.list_users(session, q=q, offset=(page - 1) * page_size, limit=page_size)
    return AdminUserList(items=[service.admin_user_out(u, n) for u, n in rows], total=total)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=AdminUserOut,
             operation_id="adminCreateUser", responses=errors(400, 409))
async def create_user(body: AdminUserCreate, admin: AdminUser, session: SessionDep,
                      settings: SettingsDep, client: ClientDep) -> AdminUserOut:
    return await service.create_user(session, settings, admin, body, client)


@router.patch("/users/{user_id}", response_model=AdminUserOut, operation_id="adminUpdateUser",
              responses=errors(409))
async def update_user(user_id: str, body: AdminUserPatch, admin: AdminUser, session: SessionDep,
                      client: ClientDep) -> AdminUserOut:
    return await service.update_user(session, admin, user_id, body, client)


@router.post("/users/{user_id}/reset-password", status_code=status.HTTP_204_NO_CONTENT,
             operation_id="adminResetPassword", responses=errors(400))
async def reset_password(user_id: str, body: ResetPasswordIn, admin: AdminUser, session: SessionDep,
                         settings: SettingsDep, client: ClientDep) -> None:
    await service.reset_password(session, settings, admin, user_id, body.new_password, client)


# ---- stats, jobs, re-index --------------------------------------------------------------------------

@router.get("/stats", response_model=StatsOut, operation_id="adminStats")
async def stats(_: AdminUser, session: SessionDep, container: ContainerDep) -> StatsOut:
    return StatsOut.model_validate(await service.stats(session, container))


@router.get("/jobs", response_model=JobList, operation_id="adminListJobs")
async def list_jobs(_: AdminUser, session: SessionDep,
                    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
                    page: Page = 1, page_size: PageSize = 50) -> JobList:
    items, total = await service.list_jobs(session, status_, page, page_size)
    return JobList(items=items, total=total)


@router.post("/jobs/retry", response_model=RetryOut, operation_id="adminRetryJobs")
async def retry_jobs(body: RetryIn, admin: AdminUser, session: SessionDep, container: ContainerDep,
                     client: ClientDep) -> RetryOut:
    retried = await service.retry_failed(session, container, admin, body.document_ids,
                                         body.all_failed, client)
    return RetryOut(retried=retried)


@router.post("/reindex", status_code=status.HTTP_202_ACCEPTED, response_model=ReindexOut,
             operation_id="adminReindex")
async def reindex(admin: AdminUser, session: SessionDep, reindexer: ReindexDep,
                  client: ClientDep) -> ReindexOut:
    result = await reindexer.start(force=True)
    audit.record(session, "index.reindex_started", actor_id=admin.id,
                         actor_email=admin.email, target=result.collection, client=client,
                         details={"status": result.status})
    return ReindexOut(status=result.status, collection=result.collection)


# ---- runtime settings -----------------------------------------------------------------------------

@router.get("/settings", response_model=RuntimeSettingsOut, operation_id="adminGetSettings")
async def get_settings(_: AdminUser, session: SessionDep, runtime: RuntimeDep,
                       reindexer: ReindexDep) -> RuntimeSettingsOut:
    values = await runtime.read(session)
    return service.settings_out(values, await reindexer.status())


@router.put("/settings", response_model=RuntimeSettingsOut, operation_id="adminUpdateSettings",
            responses=errors(400))
async def put_settings(body: RuntimePatch, admin: AdminUser, session: SessionDep, runtime: RuntimeDep,
                       container: ContainerDep, client: ClientDep) -> RuntimeSettingsOut:
    return await service.update_settings(session, container, admin, body, client)


@router.post("/settings/test", response_model=SettingsTestOut, operation_id="adminTestSettings")
async def test_settings(body: SettingsTestIn, _: AdminUser, session: SessionDep,
                        container: ContainerDep) -> SettingsTestOut:
    return await service.test_settings(container, await container.runtime.read(session), body.target,
                                       llm=body.llm, embedding=body.embedding)


# ---- audit ------------------------------------------------------------------------------------------

@router.get("/audit", response_model=AuditList, operation_id="adminAudit")
async def audit_log(_: AdminUser, session: SessionDep,
                    event: Annotated[str | None, Query(max_length=64)] = None,
                    page: Page = 1, page_size: PageSize = 50) -> AuditList:
    rows, total = await repo.list_audit(session, event=event, offset=(page - 1) * page_size,
                                        limit=page_size)
    return AuditList(items=[AuditEntryOut.model_validate(r) for r in rows], total=total)


# ---- registration invites -----------------------------------------------------------------------

def _invite_out(invite: Invite) -> InviteOut:
    return InviteOut(id=invite.id, email=invite.email, created_at=invite.created_at,
                     expires_at=invite.expires_at, status=invites.invite_status(invite),
                     used_at=invite.used_at)


@router.get("/invites", response_model=InviteList, operation_id="adminListInvites")
async def list_invites(_: AdminUser, session: SessionDep) -> InviteList:
    return InviteList(items=[_invite_out(i) for i in await invites.list_invites(session)])


@router.post("/invites", status_code=status.HTTP_201_CREATED, response_model=InviteCreated,
             operation_id="adminCreateInvite")
async def create_invite(body: InviteIn, admin: AdminUser, session: SessionDep,
                        client: ClientDep) -> InviteCreated:
    invite, raw = await invites.create_invite(session, admin, email=body.email,
                                              days=body.expires_in_days, client=client)
    return InviteCreated(**_invite_out(invite).model_dump(), token=raw,
                         path=f"/register?invite={raw}")


@router.delete("/invites/{invite_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="adminRevokeInvite")
async def revoke_invite(invite_id: str, admin: AdminUser, session: SessionDep,
                        client: ClientDep) -> None:
    await invites.revoke_invite(session, admin, invite_id, client)
