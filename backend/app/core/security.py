"""Password hashing, JWT access tokens, opaque refresh/API-key tokens, cookie and CSRF helpers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import Settings

JWT_ALGORITHM = "HS256"
ACCESS_COOKIE = "cw_access"
REFRESH_COOKIE = "cw_refresh"
CSRF_COOKIE = "cw_csrf"
CSRF_HEADER = "X-CSRF-Token"
REFRESH_COOKIE_PATH = "/api/v1/auth"
API_KEY_PREFIX = "cw_"

_password_hash = PasswordHash((Argon2Hasher(),))
# A real hash of a random password: verifying against it when the user is unknown makes a failed
# login take the same time whether or not the account exists.
_DUMMY_HASH = _password_hash.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _password_hash.verify(password, _DUMMY_HASH)
        return False
    try:
        return _password_hash.verify(password, password_hash)
    except Exception:  # malformed stored hash: treat as mismatch, never crash login
        return False


def token_digest(token: str) -> str:
    """Refresh tokens and API keys are high-entropy, so a fast digest is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class TokenError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    session_id: str
    issued_at: datetime


def create_access_token(settings: Settings, *, user_id: str, session_id: str) -> str:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": user_id,
        "sid": session_id,
        "typ": "access",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, settings.secret, algorithm=JWT_ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            settings.secret,
            algorithms=[JWT_ALGORITHM],  # pinned: `alg=none` and key-confusion tokens are rejected
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "typ", "sid"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    if payload.get("typ") != "access":
        raise TokenError("not an access token")
    return AccessClaims(
        user_id=str(payload["sub"]),
        session_id=str(payload["sid"]),
        issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
    )


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)
