"""Single sign-on routes (OpenID Connect): `/auth/oidc/login` and `/auth/oidc/callback`.

They live at the API layer because a sign-in touches two domains: `auth` checks the provider's
answer and starts the session, `collections` maps the provider's groups onto Citewise groups.
Both routes are browser navigations: a failure redirects to the sign-in page with a stable
`sso_error` code that the web app explains (never text from the query string, never a 500).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from app.api.deps import PUBLIC, ClientDep, ContainerDep, SessionDep, SettingsDep
from app.auth import oidc
from app.auth.cookies import set_session_cookies
from app.collections import groups
from app.core.config import Settings
from app.platform import audit

router = APIRouter(prefix="/auth/oidc", tags=["auth"])
log = logging.getLogger("citewise.sso")


def _redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_uri or str(request.url_for("oidc_callback"))


def _clear_flow(response: Response, settings: Settings) -> None:
    response.delete_cookie(oidc.FLOW_COOKIE, path=oidc.FLOW_COOKIE_PATH,
                           secure=settings.effective_cookie_secure, httponly=True, samesite="lax")


def _failed(settings: Settings, code: str) -> RedirectResponse:
    response = RedirectResponse(f"/login?sso_error={code}", status_code=status.HTTP_303_SEE_OTHER)
    _clear_flow(response, settings)
    return response


@router.get("/login", status_code=status.HTTP_303_SEE_OTHER, response_class=RedirectResponse,
            operation_id="oidcLogin", dependencies=[PUBLIC],
            responses={303: {"description": "To the provider, or to /login?sso_error=… when SSO "
                                            "is off or the provider cannot be reached"}})
async def oidc_login(request: Request, container: ContainerDep, settings: SettingsDep,
                     next_path: str | None = Query(default=None, alias="next", max_length=500,
                                                   description="A path in the app to land on"),
                     invite: str | None = Query(default=None, max_length=200)) -> Response:
    try:
        url, flow = await oidc.begin(settings, container.identity,
                                     redirect_uri=_redirect_uri(request, settings),
                                     next_path=next_path, invite=invite)
    except oidc.SsoFailed as exc:
        log.warning("sso sign-in could not start: %s (%s)", exc.code, exc.detail)
        return _failed(settings, exc.code)
    response = RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    response.set_cookie(oidc.FLOW_COOKIE, flow, max_age=oidc.FLOW_SECONDS, path=oidc.FLOW_COOKIE_PATH,
                        httponly=True, secure=settings.effective_cookie_secure, samesite="lax")
    return response


@router.get("/callback", status_code=status.HTTP_303_SEE_OTHER, response_class=RedirectResponse,
            operation_id="oidcCallback", dependencies=[PUBLIC],
            responses={303: {"description": "Into the app with the session cookies set, or to "
                                            "/login?sso_error=…"}})
async def oidc_callback(
    request: Request, container: ContainerDep, session: SessionDep, settings: SettingsDep,
    client: ClientDep,
    code: str | None = Query(default=None, max_length=2000),
    state: str | None = Query(default=None, max_length=500),
    error: str | None = Query(default=None, max_length=200),
    error_description: str | None = Query(default=None, max_length=1000),
    iss: str | None = Query(default=None, max_length=500),
) -> Response:
    try:
        signed_in = await oidc.complete(
            session, settings, await container.runtime.read(session), container.identity,
            callback=oidc.Callback(code=code, state=state, error=error,
                                   error_description=error_description, iss=iss),
            flow_cookie=request.cookies.get(oidc.FLOW_COOKIE),
            redirect_uri=_redirect_uri(request, settings), client=client,
        )
    except oidc.SsoFailed as exc:
        await session.rollback()  # nothing of a refused sign-in is kept, but the refusal is audited
        log.warning("sso sign-in refused: %s (%s)", exc.code, exc.detail)
        audit.record(session, "auth.sso_failed", target=exc.code, client=client,
                     details={"reason": exc.detail[:500]})
        return _failed(settings, exc.code)
    if signed_in.groups is not None and settings.oidc_group_map:
        user = signed_in.user
        joined, left = await groups.sync_mapped_groups(session, user, settings.oidc_group_map,
                                                       signed_in.groups)
        if joined or left:
            audit.record(session, "group.sso_synced", actor_id=user.id, actor_email=user.email,
                         target=user.email, client=client, details={"joined": joined, "left": left})
    response = RedirectResponse(signed_in.next_path, status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookies(response, settings, signed_in.tokens)
    _clear_flow(response, settings)
    return response
