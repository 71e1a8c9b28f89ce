"""Setting and clearing the session cookies (access, path-scoped refresh, readable CSRF)."""

from __future__ import annotations

from fastapi import Response

from app.auth.service import IssuedTokens
from app.core import security
from app.core.config import Settings


def set_session_cookies(response: Response, settings: Settings, tokens: IssuedTokens) -> None:
    secure = settings.effective_cookie_secure
    response.set_cookie(
        security.ACCESS_COOKIE, tokens.access, max_age=settings.access_token_minutes * 60,
        path="/", httponly=True, secure=secure, samesite="lax",
    )
    response.set_cookie(
        security.REFRESH_COOKIE, tokens.refresh, max_age=settings.refresh_token_days * 86400,
        path=security.REFRESH_COOKIE_PATH, httponly=True, secure=secure, samesite="strict",
    )
    # Readable by the SPA so it can echo it in X-CSRF-Token (double-submit).
    response.set_cookie(
        security.CSRF_COOKIE, tokens.csrf, max_age=settings.refresh_token_days * 86400,
        path="/", httponly=False, secure=secure, samesite="strict",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    secure = settings.effective_cookie_secure
    response.delete_cookie(security.ACCESS_COOKIE, path="/", secure=secure, httponly=True,
                           samesite="lax")
    response.delete_cookie(security.REFRESH_COOKIE, path=security.REFRESH_COOKIE_PATH,
                           secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(security.CSRF_COOKIE, path="/", secure=secure, samesite="strict")
