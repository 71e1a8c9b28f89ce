"""Authentication use cases: registration, login, refresh rotation, sessions, API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import invites, scopes
from app.auth import repository as repo
from app.auth.models import ApiKey, AuthSession, RefreshToken, User
from app.core import security
from app.core.config import Settings
from app.core.context import ClientInfo
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, Throttled, Unauthorized
from app.platform import audit
from app.platform.runtime import RuntimeValues
from app.providers.throttle import Throttle

INVALID_CREDENTIALS = "Incorrect email or password."
PASSWORD_LOGIN_OFF = "Password sign-in is turned off here: use single sign-on."  # noqa: S105


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access: str
    refresh: str
    csrf: str
    session_id: str


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    session_id: str | None  # None for API-key requests
    via: str  # "cookie" | "bearer" | "api_key"
    scopes: frozenset[str] = frozenset()  # an API key's effective scopes; unused for sessions


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_policy(settings: Settings, password: str, email: str = "") -> None:
    if len(password) < settings.min_password_length:
        raise Invalid(f"Password must be at least {settings.min_password_length} characters long.",
                      code="weak_password")
    if email and password.lower() == email.lower():
        raise Invalid("Password must not be the same as the email address.", code="weak_password")


def _now() -> datetime:
    return datetime.now(UTC)


async def create_user(
    session: AsyncSession, settings: Settings, *, email: str, password: str,
    display_name: str = "", role: str | None = None, must_change_password: bool = False,
) -> User:
    email = normalize_email(email)
    check_password_policy(settings, password, email)
    if await repo.get_user_by_email(session, email):
        raise Conflict("An account with this email already exists.", code="email_taken")
    if role is None:  # the first account of a new installation administers it
        role = "admin" if await repo.count_users(session) == 0 else "user"
    user = User(
        email=email, display_name=display_name.strip() or email.split("@")[0],
        password_hash=security.hash_password(password), role=role,
        must_change_password=must_change_password, password_changed_at=_now(),
    )
    session.add(user)
    await session.flush()
    return user


REGISTRATION_ACCEPTED = (
    "Registration received. If this email address had no account, it has one now: sign in with "
    "this email and password. If it already had an account, sign in with that account's password, "
    "or ask an administrator to reset it."
)


async def register(
    session: AsyncSession, settings: Settings, runtime: RuntimeValues, *, email: str, password: str,
    display_name: str, invite: str | None, client: ClientInfo,
) -> None:
    """Create an account, or do nothing if the address has one: the caller cannot tell which.

    A new and an existing address get the same answer, with no session, after the same work (one
    Argon2 hash), so registration does not reveal who has an account; the client signs in next.
    An existing address is audited (`auth.register_existing`); its invite, if any, stays unused."""
    email = normalize_email(email)
    first = await repo.count_users(session) == 0  # the first account of an installation is its admin
    if not first and not runtime.password_login_enabled:
        raise Forbidden(PASSWORD_LOGIN_OFF, code="password_login_disabled")
    admitted = None if first else await invites.admit(session, runtime.registration, email, invite)
    check_password_policy(settings, password, email)
    try:
        user = await create_user(session, settings, email=email, password=password,
                                 display_name=display_name)
    except (Conflict, IntegrityError) as exc:
        if isinstance(exc, Conflict):  # refused before hashing: spend the same time anyway
            security.hash_password(password)
        else:  # a concurrent registration of the address won; this request wrote nothing else
            await session.rollback()
        audit.record(session, "auth.register_existing", actor_email=email, target=email,
                     client=client)
        return
    if admitted is not None:
        await invites.consume(session, admitted, user)
    audit.record(session, "user.registered", actor_id=user.id, actor_email=user.email,
                 target=user.email, client=client,
                 details={"role": user.role, "invite_id": admitted.id if admitted else None})


async def login(
    session: AsyncSession, settings: Settings, throttle: Throttle, *, email: str, password: str,
    client: ClientInfo, password_login_enabled: bool = True,
) -> tuple[User, IssuedTokens]:
    if not password_login_enabled:
        raise Forbidden(PASSWORD_LOGIN_OFF, code="password_login_disabled")
    email = normalize_email(email)
    # The account lock is per account *and* address: an attacker hammering one account locks only
    # their own address out of it, never the owner elsewhere. The per-address limit across accounts
    # stops one source from spraying many accounts. See docs/security.md.
    keys = [(f"login:acct:{email}:{client.ip or 'unknown'}", settings.login_max_failures_per_account)]
    if client.ip:
        keys.append((f"login:ip:{client.ip}", settings.login_max_failures_per_ip))
    for key, limit in keys:
        wait = await throttle.retry_after(key, limit)
        if wait is not None:
            audit.record(session, "auth.login_throttled", actor_email=email, target=email,
                         client=client, details={"key": key.split(":")[1]})
            await session.commit()  # the request fails, the audit entry must still persist
            raise Throttled(
                f"Too many failed sign-in attempts. Try again in {wait} seconds.",
                retry_after=wait, code="too_many_attempts",
            )
    user = await repo.get_user_by_email(session, email)
    # Always run the hash check, also for unknown users, so timing does not reveal accounts.
    ok = security.verify_password(password, user.password_hash if user else None)
    if not ok or user is None:
        for key, _ in keys:
            await throttle.fail(key, settings.login_window_seconds)
        audit.record(session, "auth.login_failed", actor_email=email, target=email, client=client)
        await session.commit()
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    if not user.is_active:
        raise Forbidden("This account has been deactivated.", code="account_disabled")
    await throttle.reset(keys[0][0])
    user.last_login_at = _now()
    audit.record(session, "auth.login", actor_id=user.id, actor_email=user.email, target=user.email,
                 client=client)
    return user, await start_session(session, settings, user, client)


async def start_session(
    session: AsyncSession, settings: Settings, user: User, client: ClientInfo
) -> IssuedTokens:
    now = _now()
    auth_session = AuthSession(
        user_id=user.id, expires_at=now + timedelta(days=settings.session_absolute_days),
        user_agent=client.user_agent[:300], ip=client.ip[:64],
    )
    session.add(auth_session)
    await session.flush()
    return await _issue(session, settings, user, auth_session, now)


async def _issue(
    session: AsyncSession, settings: Settings, user: User, auth_session: AuthSession,
    now: datetime,
) -> IssuedTokens:
    raw_refresh = security.new_opaque_token()
    expires = min(now + timedelta(days=settings.refresh_token_days), auth_session.expires_at)
    session.add(RefreshToken(session_id=auth_session.id,
                             token_hash=security.token_digest(raw_refresh), expires_at=expires))
    auth_session.last_used_at = now
    await session.flush()
    return IssuedTokens(
        access=security.create_access_token(settings, user_id=user.id, session_id=auth_session.id),
        refresh=raw_refresh, csrf=security.new_csrf_token(), session_id=auth_session.id,
    )


async def refresh(
    session: AsyncSession, settings: Settings, raw_refresh: str | None, client: ClientInfo
) -> tuple[User, IssuedTokens]:
    if not raw_refresh:
        raise Unauthorized("Your session has expired. Please sign in again.", code="session_expired")
    now = _now()
    token = await repo.get_refresh_token(session, security.token_digest(raw_refresh))
    if token is None:
        raise Unauthorized("Your session has expired. Please sign in again.", code="session_expired")
    auth_session = await repo.get_session(session, token.session_id)
    if auth_session is None or auth_session.revoked_at is not None:
        raise Unauthorized("Your session has ended. Please sign in again.", code="session_expired")
    if token.used_at is not None or not await repo.mark_refresh_used(session, token.id, now):
        # A rotated token came back: it was copied. End the whole family, the thief's copy included.
        await repo.revoke_session(session, auth_session.id, "refresh_token_reuse", now)
        audit.record(session, "auth.refresh_reuse", actor_id=auth_session.user_id,
                     target=auth_session.id, client=client)
        await session.commit()
        raise Unauthorized("Your session has ended. Please sign in again.", code="session_revoked")
    if token.expires_at <= now or auth_session.expires_at <= now:
        raise Unauthorized("Your session has expired. Please sign in again.", code="session_expired")
    user = await repo.get_user(session, auth_session.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Your session has ended. Please sign in again.", code="session_expired")
    return user, await _issue(session, settings, user, auth_session, now)


async def logout(session: AsyncSession, principal: Principal) -> None:
    if principal.session_id:
        await repo.revoke_session(session, principal.session_id, "logout", _now())


async def logout_all(session: AsyncSession, user: User, client: ClientInfo) -> None:
    await repo.revoke_sessions(session, user_id=user.id, reason="logout_all", now=_now())
    audit.record(session, "auth.logout_all", actor_id=user.id, actor_email=user.email,
                 target=user.email, client=client)


async def change_password(
    session: AsyncSession, settings: Settings, throttle: Throttle, principal: Principal, *,
    current: str, new: str, client: ClientInfo,
) -> None:
    user = principal.user
    # Wrong guesses share the per-account limit of sign-in, per user (a stolen session must not
    # turn into unlimited password guessing).
    key = f"password:user:{user.id}"
    wait = await throttle.retry_after(key, settings.login_max_failures_per_account)
    if wait is not None:
        raise Throttled(f"Too many wrong passwords. Try again in {wait} seconds.",
                        retry_after=wait, code="too_many_attempts")
    if not security.verify_password(current, user.password_hash):
        await throttle.fail(key, settings.login_window_seconds)
        audit.record(session, "auth.password_change_failed", actor_id=user.id,
                     actor_email=user.email, target=user.email, client=client)
        await session.commit()
        raise Invalid("The current password is incorrect.", code="wrong_password")
    await throttle.reset(key)
    check_password_policy(settings, new, user.email)
    user.password_hash = security.hash_password(new)
    user.must_change_password = False
    user.password_changed_at = _now()
    await repo.revoke_sessions(session, user_id=user.id, reason="password_changed", now=_now(),
                               except_session_id=principal.session_id)
    await repo.revoke_api_keys(session, user.id, _now())  # a leaked key dies with the old password
    audit.record(session, "auth.password_changed", actor_id=user.id, actor_email=user.email,
                 target=user.email, client=client)


async def authenticate_access(session: AsyncSession, settings: Settings, token: str) -> Principal:
    try:
        claims = security.decode_access_token(settings, token)
    except security.TokenError as exc:
        raise Unauthorized("Not signed in or the session expired.", code="invalid_token") from exc
    found = await repo.get_session_and_user(session, claims.session_id)
    if found is None or found[0].revoked_at is not None or found[0].user_id != claims.user_id:
        raise Unauthorized("Your session has ended. Please sign in again.", code="session_revoked")
    auth_session, user = found
    return Principal(user=_active(user), session_id=auth_session.id, via="cookie")


async def authenticate_api_key(session: AsyncSession, raw_key: str) -> Principal:
    key = await repo.get_api_key_by_hash(session, security.token_digest(raw_key))
    if key is None:
        raise Unauthorized("Invalid API key.", code="invalid_api_key")
    now = _now()
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("This API key has expired.", code="api_key_expired")
    user = await _active_user(session, key.user_id)
    key.last_used_at = now
    key.use_count += 1
    return Principal(user=user, session_id=None, via="api_key", scopes=scopes.effective(key.scopes))


async def api_key_owner(session: AsyncSession, raw_key: str) -> str | None:
    """The owner of a live API key, without recording a use (the rate limiter's identity)."""
    key = await repo.get_api_key_by_hash(session, security.token_digest(raw_key))
    if key is None or (key.expires_at is not None and key.expires_at <= _now()):
        return None
    return key.user_id


async def check_registration_rate(
    throttle: Throttle, settings: Settings, client: ClientInfo
) -> None:
    """Registrations per client address per hour; every attempt counts, successful or not."""
    limit = settings.registration_rate_limit_per_hour
    if limit <= 0:
        return
    key = f"register:ip:{client.ip or 'unknown'}"
    wait = await throttle.retry_after(key, limit)
    if wait is not None:
        raise Throttled(f"Too many registrations from this address. Try again in {wait} seconds.",
                        retry_after=wait, code="too_many_registrations")
    await throttle.fail(key, 3600)


async def _active_user(session: AsyncSession, user_id: str) -> User:
    return _active(await repo.get_user(session, user_id))


def _active(user: User | None) -> User:
    if user is None or not user.is_active:
        raise Unauthorized("This account is not active.", code="account_disabled")
    return user


async def create_api_key(
    session: AsyncSession, user: User, name: str, client: ClientInfo, *,
    key_scopes: list[str], expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    wanted = sorted(set(key_scopes), key=scopes.SCOPES.index)
    if "admin" in wanted and user.role != "admin":
        raise Forbidden("Only administrators can create keys with the admin scope.",
                        code="admin_scope_forbidden")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= _now():
            raise Invalid("The expiry must be in the future.", code="invalid_expiry")
    raw = security.new_api_key()
    key = ApiKey(user_id=user.id, name=name.strip(), prefix=raw[:10],
                 key_hash=security.token_digest(raw), scopes_csv=",".join(wanted),
                 expires_at=expires_at)
    session.add(key)
    await session.flush()
    audit.record(session, "api_key.created", actor_id=user.id, actor_email=user.email,
                 target=key.prefix, client=client,
                 details={"name": key.name, "scopes": wanted,
                          "expires_at": expires_at.isoformat() if expires_at else None})
    return key, raw


async def revoke_api_key(session: AsyncSession, user: User, key_id: str, client: ClientInfo) -> None:
    key = await session.get(ApiKey, key_id)
    if key is None or key.user_id != user.id or key.revoked_at is not None:
        raise NotFound("API key not found.")
    key.revoked_at = _now()
    audit.record(session, "api_key.revoked", actor_id=user.id, actor_email=user.email,
                 target=key.prefix, client=client, details={"name": key.name})
