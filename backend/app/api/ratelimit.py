"""Per-client request rate limit (fixed one-minute window) for the API.

The key is the *authenticated* principal when the request carries a credential that validates (a
signed, unexpired access token, or a live API key), else the real client address (see
`app.api.clientip`). An unvalidated credential is never a key: a junk `Authorization` header would
otherwise buy a fresh budget per request. Users behind one proxy still get one budget each.
Counters live in Redis in production (shared by every API process) and in memory when embedded.
0 disables the limit."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.clientip import client_address
from app.auth import service as auth_service
from app.core import security
from app.core.errors import error_body
from app.platform.container import Container

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
        key = "rate:" + await client_key(scope, container)
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


def _credential(scope: Scope) -> str:
    headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # a malformed cookie header: fall back to the address
        return ""
    morsel = cookie.get(security.ACCESS_COOKIE)
    return str(morsel.value) if morsel else ""


async def client_key(scope: Scope, container: Container) -> str:
    """`user:<id>` for a credential that validates, else `ip:<real client address>`."""
    settings = container.settings
    credential = _credential(scope)
    user_id: str | None = None
    if credential.startswith(security.API_KEY_PREFIX):
        async with container.sessions() as session:
            user_id = await auth_service.api_key_owner(session, credential)
    elif credential:
        try:
            user_id = security.decode_access_token(settings, credential).user_id
        except security.TokenError:
            user_id = None
    if user_id:
        return "user:" + user_id
    return "ip:" + (client_address(scope, settings.trusted_proxy_networks) or "unknown")
