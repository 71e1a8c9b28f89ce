"""Request id propagation and the Origin check for state-changing browser requests."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.context import request_id_var
from app.core.errors import error_body

UNSAFE = {b"POST", b"PUT", b"PATCH", b"DELETE"}


class RequestContextMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so streamed responses are not buffered."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.allowed = {o.rstrip("/") for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode()[:64] or uuid.uuid4().hex
        token = request_id_var.set(rid)
        try:
            if scope["method"].encode() in UNSAFE and not self._origin_ok(headers):
                await _reject(send, rid)
                return

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
                await send(message)

            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)

    def _origin_ok(self, headers: dict[bytes, bytes]) -> bool:
        origin = headers.get(b"origin", b"").decode()
        if not origin:
            return True  # non-browser client; cookie requests still need the CSRF header
        if origin.rstrip("/") in self.allowed:
            return True
        host = headers.get(b"x-forwarded-host", headers.get(b"host", b"")).decode()
        return bool(host) and urlsplit(origin).netloc == host


async def _reject(send: Send, rid: str) -> None:
    body = json.dumps(error_body("bad_origin", "Cross-origin request refused.")).encode()
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"application/json"), (b"x-request-id", rid.encode())]})
    await send({"type": "http.response.body", "body": body})
