"""Per-client request rate limit (fixed one-minute window) for the API.

Keyed by the credential (session cookie or bearer token) when there is one, else by IP, so many
users behind one proxy don't share a budget. Counters live in Redis in production (shared by every
API process) and in memory when embedded. 0 disables the limit."""

from __future__ import annotations

import hashlib
import json
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core import security
from app.core.errors import error_body

WINDOW_SECONDS = 60
EXEMPT = ("/api/v1/health", "/api/v1/ready", "/api/v1/metrics")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        app = scope.get("app")
        container = getattr(app.state, "container", None) if app is not None else None
        if scope["type"] != "http" or not path.startswith("/api/") or path in EXEMPT or container is None:
            await self.app(scope, receive, send)
            return
        limit = container.settings.api_rate_limit_per_minute
        if limit <= 0:
            await self.app(scope, receive, send)
            return
        key = "rate:" + _client_key(scope)
        wait = await container.throttle.retry_after(key, limit)
        if wait is not None:
            body = json.dumps(error_body(
                "rate_limited", f"Too many requests. Try again in {wait} seconds.")).encode()
            await send({"type": "http.response.start", "status": 429, "headers": [
                (b"content-type", b"application/json"), (b"retry-after", str(wait).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await container.throttle.fail(key, WINDOW_SECONDS)  # counts the request
        await self.app(scope, receive, send)


def _client_key(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    credential = headers.get(b"authorization", b"").decode()
    if not credential:
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode())
        except Exception:  # a malformed cookie header: fall back to the address
            cookie = SimpleCookie()
        morsel = cookie.get(security.ACCESS_COOKIE)
        credential = morsel.value if morsel else ""
    if credential:
        return "cred:" + hashlib.sha256(credential.encode()).hexdigest()[:24]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")
