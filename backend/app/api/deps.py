"""Request dependencies: the container, one DB session per request, the authenticated principal."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
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


# ---- authorization: every route declares one of these ----------------------------------------------
#
#   PUBLIC        no principal: `dependencies=[PUBLIC]` (health, config, sign-in, registration…)
#   IdentityUser  any principal, even one that must change its password (GET /auth/me)
#   AccountPrincipal  browser sessions only, allowed while a password change is pending
#                 (POST /auth/password, /auth/logout, /auth/logout-all)
#   SessionUser   browser sessions only (API-key management)
#   CurrentUser   the `read` scope (list, search, chat)
#   WriteUser     the `write` scope (upload, delete, reprocess)
#   AdminUser     the `admin` scope and the admin role
#
# Keys may never manage keys, passwords or sessions; `must_change_password` blocks everything but
# the identity and account routes. The scope each route needs is published in the OpenAPI schema
# as `x-required-scope` (see `annotate_scopes`); a route that declares none is `unclassified`, and
# tests/security/test_authorization_matrix.py fails on it and checks every route against its scope.


def public_route() -> None:
    """Marks a route that needs no principal (a deliberate choice, not an oversight)."""


PUBLIC = Depends(public_route)


def _not_pending(principal: Principal) -> None:
    if principal.user.must_change_password:
        raise Forbidden("Change your password before continuing.", code="password_change_required")


def _has_scope(principal: Principal, scope: str) -> None:
    if principal.via == "api_key" and scope not in principal.scopes:
        raise Forbidden(f"This API key lacks the {scope!r} scope.", code="insufficient_scope")


def _session_only(principal: Principal) -> None:
    if principal.via == "api_key":
        raise Forbidden("API keys cannot manage keys, passwords or sessions.",
                        code="api_key_not_allowed")


async def get_identity_user(principal: PrincipalDep) -> User:
    return principal.user


async def get_account_principal(principal: PrincipalDep) -> Principal:
    _session_only(principal)
    return principal


async def get_session_user(principal: PrincipalDep) -> User:
    _session_only(principal)
    _not_pending(principal)
    return principal.user


async def get_current_user(principal: PrincipalDep) -> User:
    _not_pending(principal)
    _has_scope(principal, "read")
    return principal.user


async def get_write_user(principal: PrincipalDep) -> User:
    _not_pending(principal)
    _has_scope(principal, "write")
    return principal.user


async def get_admin_user(principal: PrincipalDep) -> User:
    _not_pending(principal)
    user = principal.user
    # `user` was just loaded from the database, so a demotion takes effect on the next request.
    if user.role != "admin":
        raise Forbidden("Administrator access is required.", code="admin_required")
    _has_scope(principal, "admin")
    return user


IdentityUser = Annotated[User, Depends(get_identity_user)]
AccountPrincipal = Annotated[Principal, Depends(get_account_principal)]
SessionUser = Annotated[User, Depends(get_session_user)]
CurrentUser = Annotated[User, Depends(get_current_user)]
WriteUser = Annotated[User, Depends(get_write_user)]
AdminUser = Annotated[User, Depends(get_admin_user)]

SCOPE_DEPENDENCIES: dict[Callable[..., Any], str] = {
    public_route: "public", get_identity_user: "identity", get_account_principal: "session",
    get_session_user: "session",
    get_current_user: "read", get_write_user: "write", get_admin_user: "admin",
}


def required_scope(route: APIRoute) -> str:
    """The scope a route declares: the strongest authorization dependency in its tree."""
    order = ["unclassified", "public", "identity", "read", "write", "admin", "session"]
    found = "unclassified"
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if dep.call in SCOPE_DEPENDENCIES:
            scope = SCOPE_DEPENDENCIES[dep.call]
            found = max(found, scope, key=order.index)
        elif dep.call is get_principal:
            found = max(found, "identity", key=order.index)
        stack.extend(dep.dependencies)
    return found


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps those as nested routers)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(list(inner.routes))


def annotate_scopes(app: FastAPI) -> None:
    """Publish each route's scope in the OpenAPI schema (`x-required-scope`)."""
    for route in api_routes(list(app.routes)):
        if route.include_in_schema:
            route.openapi_extra = {**(route.openapi_extra or {}),
                                   "x-required-scope": required_scope(route)}
