"""Request dependencies: the container, one DB session per request, the authenticated principal."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.clientip import client_address
from app.auth import service as auth_service
from app.auth.models import User
from app.auth.service import Principal
from app.core import security
from app.core.config import Settings
from app.core.context import ClientInfo, request_id_var
from app.core.errors import Forbidden, Unauthorized
from app.platform.container import Container, run_after_commit

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_settings_dep(container: ContainerDep) -> Settings:
    return container.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(container: ContainerDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent; jobs go out after."""
    async with container.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        await run_after_commit(session)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def get_client(request: Request, settings: SettingsDep) -> ClientInfo:
    # The socket peer, or X-Forwarded-For from a configured proxy only (CITEWISE_TRUSTED_PROXIES).
    ip = client_address(request.scope, settings.trusted_proxy_networks)
    return ClientInfo(
        ip=ip,
        user_agent=request.headers.get("user-agent", ""),
        request_id=request_id_var.get() or uuid.uuid4().hex,
    )


ClientDep = Annotated[ClientInfo, Depends(get_client)]


async def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        if token.startswith(security.API_KEY_PREFIX):
            return await auth_service.authenticate_api_key(session, token)
        principal = await auth_service.authenticate_access(session, settings, token)
        return Principal(user=principal.user, session_id=principal.session_id, via="bearer")
    cookie_token = request.cookies.get(security.ACCESS_COOKIE)
    if not cookie_token:
        raise Unauthorized("Not signed in.", code="not_authenticated")
    if request.method in UNSAFE_METHODS:
        check_csrf(request)
    return await auth_service.authenticate_access(session, settings, cookie_token)


def check_csrf(request: Request) -> None:
    """Double-submit: the header must repeat the readable CSRF cookie (another site can't read it)."""
    cookie = request.cookies.get(security.CSRF_COOKIE, "")
    header = request.headers.get(security.CSRF_HEADER, "")
    if not cookie or not header or not security.constant_time_equals(cookie, header):
        raise Forbidden("Missing or invalid CSRF token.", code="csrf_failed")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: PrincipalDep) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    # `user` was just loaded from the database, so a demotion takes effect on the next request.
    if user.role != "admin":
        raise Forbidden("Administrator access is required.", code="admin_required")
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]
