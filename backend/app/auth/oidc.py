"""Single sign-on with OpenID Connect: the authorization code flow with PKCE, state and nonce.

`begin` makes a fresh state, nonce and PKCE verifier, keeps them in a short-lived signed cookie
bound to this browser and sends the browser to the provider. `complete` accepts the provider's
answer only with the matching state from that cookie, redeems the code with the verifier, checks
the ID token (signature against the provider's JWKS, issuer, audience, expiry, nonce), then finds,
links or creates the account and starts the same cookie session as a password sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import invites
from app.auth import repository as repo
from app.auth.models import User
from app.auth.service import IssuedTokens, normalize_email, start_session
from app.core.config import Settings
from app.core.context import ClientInfo
from app.core.errors import AppError
from app.platform import audit
from app.platform.runtime import RuntimeValues
from app.providers.oidc.base import IdentityProvider, OidcError

FLOW_COOKIE = "cw_oidc"
FLOW_COOKIE_PATH = "/api/v1/auth/oidc"
FLOW_SECONDS = 600
_FLOW_AUDIENCE = "citewise-oidc-flow"


class SsoFailed(Exception):
    """A sign-in that must not go on; `code` is what the web app explains to the person."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next_path: str
    invite: str | None


def _flow_key(settings: Settings) -> bytes:
    # Its own key, derived from the installation secret: a flow cookie is never an access token.
    return hmac.new(settings.secret.encode(), b"citewise/oidc-flow/v1", hashlib.sha256).digest()


def encode_flow(settings: Settings, flow: Flow) -> str:
    now = datetime.now(UTC)
    claims = {"aud": _FLOW_AUDIENCE, "iat": now, "exp": now + timedelta(seconds=FLOW_SECONDS),
              "state": flow.state, "nonce": flow.nonce, "verifier": flow.verifier,
              "next": flow.next_path, "invite": flow.invite}
    return jwt.encode(claims, _flow_key(settings), algorithm="HS256")


def decode_flow(settings: Settings, token: str | None) -> Flow:
    if not token:
        raise SsoFailed("sso_state_mismatch", "no sign-in in progress in this browser (flow cookie "
                        "missing: expired, or the sign-in started in another browser)")
    try:
        c = jwt.decode(token, _flow_key(settings), algorithms=["HS256"], audience=_FLOW_AUDIENCE,
                       options={"require": ["exp", "state", "nonce", "verifier"]})
    except jwt.PyJWTError as exc:
        raise SsoFailed("sso_state_mismatch", f"flow cookie rejected: {exc}") from exc
    return Flow(state=c["state"], nonce=c["nonce"], verifier=c["verifier"],
                next_path=safe_next(c.get("next")), invite=c.get("invite"))


def safe_next(value: str | None) -> str:
    """Only a path inside this app: never another site (`//evil`, `https://…`, `/\\evil`)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 500:
        return "/"
    return value


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def require_provider(provider: IdentityProvider | None) -> IdentityProvider:
    if provider is None:
        raise SsoFailed("sso_disabled", "single sign-on is not configured")
    return provider


async def begin(settings: Settings, provider: IdentityProvider | None, *, redirect_uri: str,
                next_path: str | None, invite: str | None) -> tuple[str, str]:
    """(the provider URL to send the browser to, the flow cookie to set)."""
    provider = require_provider(provider)
    flow = Flow(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                verifier=secrets.token_urlsafe(64), next_path=safe_next(next_path),
                invite=invite.strip()[:200] if invite and invite.strip() else None)
    try:
        url = await provider.authorization_url(redirect_uri=redirect_uri, state=flow.state,
                                               nonce=flow.nonce,
                                               code_challenge=pkce_challenge(flow.verifier))
    except OidcError as exc:
        raise SsoFailed(exc.code, exc.detail) from exc
    return url, encode_flow(settings, flow)


@dataclass(frozen=True, slots=True)
class Callback:
    code: str | None
    state: str | None
    error: str | None
    error_description: str | None
    iss: str | None


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    tokens: IssuedTokens
    next_path: str
    groups: list[str] | None  # the provider's groups claim; None when it sent none


def groups_claim(claims: dict[str, Any], name: str) -> list[str] | None:
    value = claims.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [g for g in value if isinstance(g, str)]
    return None


async def complete(
    session: AsyncSession, settings: Settings, runtime: RuntimeValues,
    provider: IdentityProvider | None, *, callback: Callback, flow_cookie: str | None,
    redirect_uri: str, client: ClientInfo,
) -> SignedIn:
    """The signed-in user, their session tokens, where to send them, and their provider groups."""
    provider = require_provider(provider)
    flow = decode_flow(settings, flow_cookie)
    if not callback.state or not hmac.compare_digest(callback.state.encode(), flow.state.encode()):
        raise SsoFailed("sso_state_mismatch", "the state in the provider's answer is not this "
                        "browser's sign-in")
    # RFC 9207: an answer naming another issuer comes from a different provider (mix-up attack).
    if callback.iss is not None and callback.iss.rstrip("/") != provider.issuer:
        raise SsoFailed("sso_state_mismatch", f"answer from issuer {callback.iss!r}")
    if callback.error:
        raise SsoFailed("sso_denied" if callback.error == "access_denied" else "sso_provider_error",
                        f"provider error {callback.error}: {callback.error_description or ''}")
    if not callback.code:
        raise SsoFailed("sso_provider_error", "the provider's answer has no code")
    try:
        tokens = await provider.exchange_code(code=callback.code, redirect_uri=redirect_uri,
                                              code_verifier=flow.verifier)
        claims = await provider.verify_id_token(tokens.id_token, nonce=flow.nonce)
        if tokens.access_token and ("email" not in claims or settings.oidc_groups_claim not in claims):
            info = await provider.userinfo(tokens.access_token)
            if info and info.get("sub") != claims["sub"]:  # OIDC Core §5.3.2
                raise OidcError("sso_id_token_invalid", "userinfo is about another subject")
            claims = {**info, **claims}
    except OidcError as exc:
        raise SsoFailed(exc.code, exc.detail) from exc
    user = await _account(session, settings, runtime, provider.issuer, claims, flow.invite, client)
    user.last_login_at = datetime.now(UTC)
    audit.record(session, "auth.sso_login", actor_id=user.id, actor_email=user.email,
                 target=user.email, client=client, details={"issuer": provider.issuer})
    return SignedIn(user=user, tokens=await start_session(session, settings, user, client),
                    next_path=flow.next_path, groups=groups_claim(claims, settings.oidc_groups_claim))


async def _account(session: AsyncSession, settings: Settings, runtime: RuntimeValues, issuer: str,
                   claims: dict[str, Any], invite: str | None, client: ClientInfo) -> User:
    subject = str(claims["sub"])
    user = (await session.execute(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )).scalar_one_or_none()
    if user is None:
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise SsoFailed("sso_email_missing", "the provider sent no email address (is the "
                            "`email` scope granted?)")
        # An unverified address could be anybody's: it must neither reach an existing account nor
        # satisfy a domain rule.
        if claims.get("email_verified") is not True:
            raise SsoFailed("sso_email_unverified", f"the provider has not verified {email}")
        email = normalize_email(email)
        user = await repo.get_user_by_email(session, email)
        if user is None:
            user = await _create(session, runtime, issuer, subject, email, claims, invite, client)
        else:
            if user.oidc_subject is not None:
                raise SsoFailed("sso_account_linked", f"{email} is linked to another SSO identity")
            user.oidc_issuer, user.oidc_subject = issuer, subject
            audit.record(session, "auth.sso_linked", actor_id=user.id, actor_email=user.email,
                         target=user.email, client=client, details={"issuer": issuer})
    if not user.is_active:
        raise SsoFailed("sso_account_disabled", f"{user.email} is deactivated")
    return user


async def _create(session: AsyncSession, runtime: RuntimeValues, issuer: str, subject: str,
                  email: str, claims: dict[str, Any], invite: str | None,
                  client: ClientInfo) -> User:
    first = await repo.count_users(session) == 0
    try:
        admitted = None if first else await invites.admit(session, runtime.registration, email,
                                                          invite)
    except AppError as exc:
        raise SsoFailed(f"sso_{exc.code}", exc.detail) from exc
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    user = User(email=email, display_name=(name or email.split("@")[0]).strip()[:200],
                password_hash="", role="admin" if first else "user",
                oidc_issuer=issuer, oidc_subject=subject)
    session.add(user)
    await session.flush()
    if admitted is not None:
        try:
            await invites.consume(session, admitted, user)
        except AppError as exc:
            raise SsoFailed(f"sso_{exc.code}", exc.detail) from exc
    audit.record(session, "user.registered", actor_id=user.id, actor_email=user.email,
                 target=user.email, client=client,
                 details={"role": user.role, "via": "sso", "issuer": issuer,
                          "invite_id": admitted.id if admitted else None})
    return user
