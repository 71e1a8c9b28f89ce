from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.api.deps import (
    PUBLIC,
    AccountPrincipal,
    ClientDep,
    IdentityUser,
    SessionDep,
    SessionUser,
    SettingsDep,
    check_csrf,
)
from app.api.responses import errors
from app.auth import repository as repo
from app.auth import service
from app.auth.cookies import clear_session_cookies, set_session_cookies
from app.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    LoginIn,
    PasswordChangeIn,
    RegisterIn,
    RegistrationOut,
    UserOut,
)
from app.core import security

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=status.HTTP_202_ACCEPTED, response_model=RegistrationOut,
             operation_id="register", dependencies=[PUBLIC], responses=errors(400))
async def register(body: RegisterIn, request: Request, session: SessionDep, settings: SettingsDep,
                   client: ClientDep) -> RegistrationOut:
    # The same answer whether or not the address has an account; no session: sign in next.
    container = request.app.state.container
    await service.check_registration_rate(container.throttle, settings, client)
    await service.register(
        session, settings, await container.runtime.read(session), email=body.email,
        password=body.password, display_name=body.display_name, invite=body.invite, client=client,
    )
    return RegistrationOut(status="accepted", detail=service.REGISTRATION_ACCEPTED)


@router.post("/login", response_model=UserOut, operation_id="login", dependencies=[PUBLIC],
             responses=errors(401))
async def login(body: LoginIn, response: Response, request: Request, session: SessionDep,
                settings: SettingsDep, client: ClientDep) -> UserOut:
    container = request.app.state.container
    runtime = await container.runtime.read(session)
    user, tokens = await service.login(session, settings, container.throttle, email=body.email,
                                       password=body.password, client=client,
                                       password_login_enabled=runtime.password_login_enabled)
    set_session_cookies(response, settings, tokens)
    return UserOut.model_validate(user)


@router.post("/refresh", response_model=UserOut, operation_id="refresh", dependencies=[PUBLIC],
             responses=errors(401))
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


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, operation_id="changePassword",
             responses=errors(400))
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
             operation_id="createApiKey", responses=errors(400))
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

