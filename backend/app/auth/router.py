from __future__ import annotations

import logging

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from app.api.deps import (
    AccountPrincipal,
    ClientDep,
    IdentityUser,
    SessionDep,
    SessionUser,
    SettingsDep,
    check_csrf,
)
from app.auth import oidc, service
from app.auth import repository as repo
from app.auth.cookies import clear_session_cookies, set_session_cookies
from app.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    LoginIn,
    PasswordChangeIn,
    RegisterIn,
    UserOut,
)
from app.core import security
from app.platform import audit

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger("citewise.auth")


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut,
             operation_id="register")
async def register(body: RegisterIn, response: Response, request: Request, session: SessionDep,
                   settings: SettingsDep, client: ClientDep) -> UserOut:
    container = request.app.state.container
    await service.check_registration_rate(container.throttle, settings, client)
    user, tokens = await service.register(
        session, settings, await container.runtime.read(session), email=body.email,
        password=body.password, display_name=body.display_name, invite=body.invite, client=client,
    )
    set_session_cookies(response, settings, tokens)
    return UserOut.model_validate(user)


@router.post("/login", response_model=UserOut, operation_id="login")
async def login(body: LoginIn, response: Response, request: Request, session: SessionDep,
                settings: SettingsDep, client: ClientDep) -> UserOut:
    container = request.app.state.container
    runtime = await container.runtime.read(session)
    user, tokens = await service.login(session, settings, container.throttle, email=body.email,
                                       password=body.password, client=client,
                                       password_login_enabled=runtime.password_login_enabled)
    set_session_cookies(response, settings, tokens)
    return UserOut.model_validate(user)


@router.post("/refresh", response_model=UserOut, operation_id="refresh")
async def refresh(request: Request, response: Response, session: SessionDep,
                  settings: SettingsDep, client: ClientDep) -> UserOut:
    check_csrf(request)
    user, tokens = await service.refresh(
        session, settings, request.cookies.get(security.REFRESH_COOKIE), client
    )
    set_session_cookies(response, settings, tokens)
    return UserOut.model_validate(user)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, operation_id="logout")
async def logout(principal: AccountPrincipal, session: SessionDep, settings: SettingsDep) -> Response:
    await service.logout(session, principal)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, settings)
    return response


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, operation_id="logoutAll")
async def logout_all(principal: AccountPrincipal, session: SessionDep, settings: SettingsDep,
                     client: ClientDep) -> Response:
    await service.logout_all(session, principal.user, client)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, settings)
    return response


@router.get("/me", response_model=UserOut, operation_id="me")
async def me(user: IdentityUser) -> UserOut:
    return UserOut.model_validate(user)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, operation_id="changePassword")
async def change_password(body: PasswordChangeIn, principal: AccountPrincipal, session: SessionDep,
                          settings: SettingsDep, client: ClientDep, request: Request) -> None:
    await service.change_password(session, settings, request.app.state.container.throttle, principal,
                                  current=body.current_password,
                                  new=body.new_password, client=client)


@router.get("/api-keys", response_model=ApiKeyList, operation_id="listApiKeys")
async def list_api_keys(user: SessionUser, session: SessionDep) -> ApiKeyList:
    keys = await repo.list_api_keys(session, user.id)
    return ApiKeyList(items=[ApiKeyOut.model_validate(k) for k in keys])


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated,
             operation_id="createApiKey")
async def create_api_key(body: ApiKeyIn, user: SessionUser, session: SessionDep,
                         client: ClientDep) -> ApiKeyCreated:
    key, raw = await service.create_api_key(session, user, body.name, client,
                                            key_scopes=list(body.scopes), expires_at=body.expires_at)
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=raw)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="revokeApiKey")
async def revoke_api_key(key_id: str, user: SessionUser, session: SessionDep,
                         client: ClientDep) -> None:
    await service.revoke_api_key(session, user, key_id, client)


# ---- single sign-on (OpenID Connect) -------------------------------------------------------------
# Both routes are browser navigations: failures redirect to the sign-in page with a stable
# `sso_error` code the web app explains (never text from the query string, never a 500).

def _sso_redirect_uri(request: Request, settings: SettingsDep) -> str:
    return settings.oidc_redirect_uri or str(request.url_for("oidc_callback"))


def _sso_error(settings: SettingsDep, code: str) -> RedirectResponse:
    response = RedirectResponse(f"/login?sso_error={code}", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(oidc.FLOW_COOKIE, path=oidc.FLOW_COOKIE_PATH,
                           secure=settings.effective_cookie_secure, httponly=True, samesite="lax")
    return response


@router.get("/oidc/login", status_code=status.HTTP_303_SEE_OTHER, response_class=RedirectResponse,
            operation_id="oidcLogin",
            responses={303: {"description": "To the provider, or to /login?sso_error=… when SSO "
                                            "is off or the provider cannot be reached"}})
async def oidc_login(request: Request, settings: SettingsDep,
                     next_path: str | None = Query(default=None, alias="next", max_length=500,
                                                   description="A path in the app to land on"),
                     invite: str | None = Query(default=None, max_length=200)) -> Response:
    container = request.app.state.container
    try:
        url, flow = await oidc.begin(settings, container.identity,
                                     redirect_uri=_sso_redirect_uri(request, settings),
                                     next_path=next_path, invite=invite)
    except oidc.SsoFailed as exc:
        log.warning("sso sign-in could not start: %s (%s)", exc.code, exc.detail)
        return _sso_error(settings, exc.code)
    response = RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    response.set_cookie(oidc.FLOW_COOKIE, flow, max_age=oidc.FLOW_SECONDS, path=oidc.FLOW_COOKIE_PATH,
                        httponly=True, secure=settings.effective_cookie_secure, samesite="lax")
    return response


@router.get("/oidc/callback", status_code=status.HTTP_303_SEE_OTHER,
            response_class=RedirectResponse, operation_id="oidcCallback",
            responses={303: {"description": "Into the app with the session cookies set, or to "
                                            "/login?sso_error=…"}})
async def oidc_callback(
    request: Request, session: SessionDep, settings: SettingsDep, client: ClientDep,
    code: str | None = Query(default=None, max_length=2000),
    state: str | None = Query(default=None, max_length=500),
    error: str | None = Query(default=None, max_length=200),
    error_description: str | None = Query(default=None, max_length=1000),
    iss: str | None = Query(default=None, max_length=500),
) -> Response:
    container = request.app.state.container
    try:
        _user, tokens, next_path = await oidc.complete(
            session, settings, await container.runtime.read(session), container.identity,
            callback=oidc.Callback(code=code, state=state, error=error,
                                   error_description=error_description, iss=iss),
            flow_cookie=request.cookies.get(oidc.FLOW_COOKIE),
            redirect_uri=_sso_redirect_uri(request, settings), client=client,
        )
    except oidc.SsoFailed as exc:
        await session.rollback()  # nothing of a refused sign-in is kept, but the refusal is audited
        log.warning("sso sign-in refused: %s (%s)", exc.code, exc.detail)
        audit.record(session, "auth.sso_failed", target=exc.code, client=client,
                     details={"reason": exc.detail[:500]})
        return _sso_error(settings, exc.code)
    response = RedirectResponse(next_path, status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookies(response, settings, tokens)
    response.delete_cookie(oidc.FLOW_COOKIE, path=oidc.FLOW_COOKIE_PATH,
                           secure=settings.effective_cookie_secure, httponly=True, samesite="lax")
    return response
