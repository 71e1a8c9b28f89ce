"""Security headers on every response the API process sends, the SPA included.

They match what deploy/nginx/citewise.conf adds, so the default single-process install (the API
serving the built SPA itself) is as protected as the Nginx one. Behind that Nginx config,
CITEWISE_SECURITY_HEADERS=false leaves them to Nginx alone (otherwise each header comes twice).
The script hash allows the one inline script of frontend/index.html (the theme bootstrap); keep it
in sync with the Nginx config."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self' 'sha256-w9+P1sIQ+F8wziTqVIaPzzjS60R5ALVS1id385L0tAs='; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# Swagger UI loads its script and styles from a CDN; it gets the headers without the CSP.
DOCS_PATHS = ("/api/docs", "/docs/oauth2-redirect")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = HEADERS[1:] if scope.get("path", "").startswith(DOCS_PATHS) else HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in wanted if h[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)
