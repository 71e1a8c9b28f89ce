"""Admin use cases: users, statistics, jobs, runtime settings. Every change is audited."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.admin import repository as repo
from app.admin.schemas import (
    AdminUserCreate,
    AdminUserOut,
    AdminUserPatch,
    JobOut,
    RuntimeSettingsOut,
    SettingsTestOut,
)
from app.auth import repository as auth_repo
from app.auth import service as auth_service
from app.auth.models import User
from app.auth.schemas import UserOut
from app.core import security
from app.core.config import Settings
from app.core.context import ClientInfo
from app.core.errors import Conflict, NotFound
from app.core.outages import redis_outage
from app.documents import lifecycle
from app.platform import audit
from app.platform.container import Container, after_commit
from app.platform.index import AsyncClosable, ReindexStatus
from app.platform.runtime import EmbeddingPatch, LLMPatch, RuntimePatch, RuntimeValues


def _now() -> datetime:
    return datetime.now(UTC)


def _actor(actor: User) -> dict[str, Any]:
    return {"actor_id": actor.id, "actor_email": actor.email}


def admin_user_out(user: User, document_count: int) -> AdminUserOut:
    return AdminUserOut(**UserOut.model_validate(user).model_dump(),
                        last_login_at=user.last_login_at, document_count=document_count)


# ---- users ------------------------------------------------------------------------------------

async def create_user(session: AsyncSession, settings: Settings, actor: User, body: AdminUserCreate,
                      client: ClientInfo) -> AdminUserOut:
    # Admins may create accounts even while public registration is closed.
    user = await auth_service.create_user(
        session, settings, email=body.email, password=body.password,
        display_name=body.display_name, role=body.role,
        must_change_password=body.must_change_password,
    )
    audit.record(session, "user.created", **_actor(actor), target=user.email, client=client,
                 details={"role": user.role, "must_change_password": user.must_change_password})
    return admin_user_out(user, 0)


async def _get_user(session: AsyncSession, user_id: str) -> User:
    user = await auth_repo.get_user(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


async def update_user(session: AsyncSession, actor: User, user_id: str, patch: AdminUserPatch,
                      client: ClientInfo) -> AdminUserOut:
    user = await _get_user(session, user_id)
    new_role = patch.role if patch.role is not None else user.role
    new_active = patch.is_active if patch.is_active is not None else user.is_active
    losing_admin = user.role == "admin" and user.is_active and (new_role != "admin" or not new_active)
    if losing_admin:
        admins = await repo.lock_active_admins(session)
        if [a for a in admins if a != user.id] == []:
            raise Conflict("This is the last active administrator; promote someone else first.",
                           code="last_admin")
    now = _now()
    if new_role != user.role:
        audit.record(session, "user.role_changed", **_actor(actor), target=user.email,
                     client=client, details={"from": user.role, "to": new_role})
        user.role = new_role
    if new_active != user.is_active:
        audit.record(session, "user.deactivated" if not new_active else "user.activated",
                     **_actor(actor), target=user.email, client=client)
        user.is_active = new_active
    if losing_admin or not new_active:
        # Access checks read the user row on every request, but ending sessions and keys makes the
        # change stick even if the account is later re-activated or re-promoted.
        await auth_repo.revoke_sessions(session, user_id=user.id, now=now,
                                        reason="deactivated" if not new_active else "demoted")
        await auth_repo.revoke_api_keys(session, user.id, now)
    await session.flush()
    return admin_user_out(user, await repo.document_count(session, user.id))


async def reset_password(session: AsyncSession, settings: Settings, actor: User, user_id: str,
                         new_password: str, client: ClientInfo) -> None:
    user = await _get_user(session, user_id)
    auth_service.check_password_policy(settings, new_password, user.email)
    user.password_hash = security.hash_password(new_password)
    user.must_change_password = True
    user.password_changed_at = _now()
    await auth_repo.revoke_sessions(session, user_id=user.id, reason="password_reset", now=_now())
    await auth_repo.revoke_api_keys(session, user.id, _now())
    audit.record(session, "user.password_reset", **_actor(actor), target=user.email, client=client)


# ---- stats and jobs -----------------------------------------------------------------------------

async def stats(session: AsyncSession, container: Container) -> dict[str, Any]:
    out = await repo.stats(session, _now() - timedelta(hours=24))
    try:
        out["queue_depth"] = await container.jobs.queue_depth()
        out["workers"] = await container.jobs.active_workers()
    except Exception as exc:
        if not redis_outage(exc):
            raise
        # The queue and the workers' heartbeats live in Redis: show everything else.
        out.update(queue_depth=None, workers=None, queue_available=False)
    return out


async def list_jobs(session: AsyncSession, status: str | None, page: int,
                    page_size: int) -> tuple[list[JobOut], int]:
    rows, total = await repo.list_jobs(session, status=status, offset=(page - 1) * page_size,
                                       limit=page_size)
    items = [
        JobOut(id=job.id, document_id=job.document_id, filename=doc.filename if doc else None,
               owner_email=email, status=job.status,
               stage=doc.stage if doc is not None and job.status == "running" else None,
               attempts=job.attempt, worker=job.worker,
               document_status=doc.status if doc is not None else None,
               error=job.error, created_at=job.created_at,
               started_at=job.created_at, finished_at=job.finished_at, duration_ms=job.duration_ms)
        for job, doc, email in rows
    ]
    return items, total


async def retry_failed(session: AsyncSession, container: Container, actor: User,
                       document_ids: list[str] | None, all_failed: bool, client: ClientInfo) -> int:
    if not all_failed and not document_ids:
        return 0
    failed = await repo.failed_documents(session, None if all_failed else document_ids)
    now = _now()
    docs = [doc for doc in failed  # a second click (or a reprocess) may have reset some already
            if await lifecycle.reset_for_reprocess(session, doc.id, version=doc.version,
                                                   from_statuses=("failed",), now=now)]
    for doc in docs:
        async def enqueue(doc_id: str = doc.id) -> None:
            await container.jobs.enqueue_ingest(doc_id, request_id=client.request_id)

        after_commit(session, enqueue)
    if docs:
        audit.record(session, "jobs.retried", **_actor(actor), target=f"{len(docs)} documents",
                     client=client, details={"document_ids": [d.id for d in docs][:100]})
    await session.flush()
    return len(docs)


# ---- runtime settings ---------------------------------------------------------------------------

def settings_out(values: RuntimeValues, reindex: ReindexStatus) -> RuntimeSettingsOut:
    llm, emb = values.llm, values.embedding
    return RuntimeSettingsOut.model_validate({
        "llm": {"base_url": llm.base_url, "model": llm.model, "api_key_set": bool(llm.api_key),
                "temperature": llm.temperature, "max_tokens": llm.max_tokens,
                "context_size": llm.context_size},
        "embedding": {"provider": emb.provider, "model": emb.model, "base_url": emb.base_url,
                      "api_key_set": bool(emb.api_key), "dimension": emb.dimension},
        "retrieval": {"top_k": values.retrieval.top_k,
                      "hybrid_weight": values.retrieval.hybrid_weight,
                      "relevance_floor": values.retrieval.relevance_floor},
        "uploads": {"max_upload_mb": values.uploads.max_upload_mb,
                    "max_pages": values.uploads.max_pages, "quota_mb": values.uploads.quota_mb},
        "registration": {"mode": values.registration.mode,
                         "allowed_domains": list(values.registration.allowed_domains)},
        "registration_open": values.registration_open,
        "password_login": values.password_login,
        "password_login_enabled": values.password_login_enabled,
        "sso_enabled": values.sso_enabled,
        "reindex": reindex.as_dict(),
    })


async def update_settings(session: AsyncSession, container: Container, actor: User,
                          patch: RuntimePatch, client: ClientInfo) -> RuntimeSettingsOut:
    await container.index.ensure_state()  # pin the index the current settings describe first
    values = await container.runtime.update(session, patch, actor, client)
    # Commit now: the re-index (if the embedding model changed) reads the settings in other sessions.
    await session.commit()
    container.runtime.invalidate()
    await container.reindex.reconcile()
    return settings_out(values, await container.reindex.status())


async def test_settings(container: Container, values: RuntimeValues, target: str, *,
                        llm: LLMPatch | None = None,
                        embedding: EmbeddingPatch | None = None) -> SettingsTestOut:
    """One real request to the provider: the saved settings, or the candidate values typed in the
    admin's form (`llm`/`embedding`, never saved). The error message says what went wrong."""
    note = ""
    if target == "llm" and llm is not None:
        values, note = _with_candidate_llm(values, llm)
    elif target == "embedding" and embedding is not None:
        values, note = _with_candidate_embedding(values, embedding)
    started = time.monotonic()
    try:
        detail = await (_test_llm(container, values) if target == "llm"
                        else _test_embedding(container, values))
        ok = True
    except Exception as exc:  # any provider failure is a test result, not a server error
        ok, detail = False, str(exc) or type(exc).__name__
        url = values.llm.base_url if target == "llm" else values.embedding.base_url
        if url and url not in detail:  # say which address was tried: it may not be the saved one
            detail = f"{url}: {detail}"
    detail = f"{detail} {note}" if note and not ok else detail
    return SettingsTestOut(ok=ok, detail=detail[:500],
                           latency_ms=int((time.monotonic() - started) * 1000))


KEY_NOT_SENT = ("(The saved API key is only sent to the saved URL: type the key to test it with "
                "this URL.)")


def _candidate_key(typed: str | None, saved_key: str | None, url: str | None,
                   saved_url: str | None) -> tuple[str | None, str]:
    """A typed key wins; a blank one means the saved key, but only for the URL it was saved for,
    so a test can never hand a stored secret to a new address."""
    if typed is not None and typed.strip():
        return typed.strip(), ""
    if url == saved_url:
        return saved_key, ""
    return None, KEY_NOT_SENT if saved_key else ""


def _with_candidate_llm(values: RuntimeValues, patch: LLMPatch) -> tuple[RuntimeValues, str]:
    fields = patch.model_dump(exclude_unset=True)
    typed = fields.pop("api_key", None)
    llm = replace(values.llm, **fields)
    key, note = _candidate_key(typed, values.llm.api_key, llm.base_url, values.llm.base_url)
    return replace(values, llm=replace(llm, api_key=key)), note


def _with_candidate_embedding(values: RuntimeValues,
                              patch: EmbeddingPatch) -> tuple[RuntimeValues, str]:
    fields = patch.model_dump(exclude_unset=True)
    typed = fields.pop("api_key", None)
    emb = replace(values.embedding, **fields)
    key, note = _candidate_key(typed, values.embedding.api_key, emb.base_url,
                               values.embedding.base_url)
    return replace(values, embedding=replace(emb, api_key=key)), note


async def _test_llm(container: Container, values: RuntimeValues) -> str:
    llm = values.llm
    if not llm.base_url:
        raise ValueError("No language model is configured (answers are extractive).")
    # A test answers within seconds: a short timeout (retries make no sense on a timed test).
    model = container.chat_models.build(replace(llm, timeout_seconds=min(llm.timeout_seconds, 30.0),
                                                max_retries=0))
    try:
        await model.ping()
    finally:
        await model.aclose()
    return f"{llm.base_url} answered; model {llm.model}"


async def _test_embedding(container: Container, values: RuntimeValues) -> str:
    embedder = container.embedders(values.embedding)
    try:
        vector = await embedder.embed_query("test")
    finally:
        if isinstance(embedder, AsyncClosable):
            await embedder.aclose()
    return f"{embedder.model_id} returned a {len(vector)}-dimensional vector"
