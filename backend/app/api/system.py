"""Health, readiness and public client configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from app import __version__
from app.api.deps import PUBLIC, ContainerDep, SessionDep
from app.platform.container import Container

router = APIRouter(tags=["system"])


class PublicConfig(BaseModel):
    registration_open: bool = Field(description="Anyone may try to register without an invite")
    registration_mode: Literal["open", "invite", "domains", "closed"]
    password_login: bool = Field(description="Email + password sign-in is available")
    sso_enabled: bool = Field(description="Single sign-on (OpenID Connect) is configured")
    sso_label: str | None = Field(description='The sign-in button\'s text, e.g. "Sign in with Okta"')
    llm_configured: bool
    mode: str
    max_upload_mb: int
    version: str


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str  # "ok" or "unavailable"
    checks: dict[str, str]  # "database", "redis", "chroma": "ok" or "error: <type>"


@router.get("/health", response_model=Health, operation_id="health", dependencies=[PUBLIC])
async def health() -> Health:
    return Health(status="ok")


# Each check gives up after this long: a dependency that hangs is as down as one that refuses.
READY_CHECK_TIMEOUT = 5.0


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, READY_CHECK_TIMEOUT)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


async def _database_ping(container: Container) -> None:
    async with container.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


@router.get("/ready", response_model=Readiness, operation_id="ready", dependencies=[PUBLIC],
            responses={503: {"model": Readiness, "description": "A dependency is unreachable"}})
async def ready(container: ContainerDep) -> JSONResponse:
    """200 `ok`; 200 `degraded` when only Redis is down (the API still serves: uploads stay
    `queued` until it is back); 503 `unavailable` when the database or the vector store is down.
    `checks` names each dependency's state."""
    checks: dict[str, str] = {"database": await _check(_database_ping(container))}
    if container.redis is not None:
        checks["redis"] = await _check(container.redis.ping())
    checks["chroma"] = await _check(container.vectors.ping())
    down = {name for name, state in checks.items() if state != "ok"}
    if not down:
        return JSONResponse({"status": "ok", "checks": checks})
    status = "degraded" if down == {"redis"} else "unavailable"
    return JSONResponse({"status": status, "checks": checks, "down": sorted(down)},
                        status_code=200 if status == "degraded" else 503)


@router.get("/config", response_model=PublicConfig, operation_id="publicConfig", dependencies=[PUBLIC])
async def public_config(container: ContainerDep, session: SessionDep) -> PublicConfig:
    settings = container.settings
    # A fresh read, not the TTL cache: the SPA reloads this right after an admin saves settings.
    runtime = await container.runtime.read(session)
    return PublicConfig(
        registration_open=runtime.registration_open, registration_mode=runtime.registration.mode,
        password_login=runtime.password_login_enabled, sso_enabled=runtime.sso_enabled,
        sso_label=f"Sign in with {settings.oidc_provider_name}" if runtime.sso_enabled else None,
        llm_configured=runtime.llm_configured,
        mode=settings.mode, max_upload_mb=runtime.uploads.max_upload_mb, version=__version__,
    )
