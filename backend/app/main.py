"""Application factory: `create_app(settings)` builds the container in the lifespan and mounts routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from starlette.routing import Match
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app import __version__
from app.api.bodylimit import BodyLimitMiddleware
from app.api.deps import annotate_scopes
from app.api.headers import SecurityHeadersMiddleware
from app.api.middleware import RequestContextMiddleware
from app.api.outages import OutageMiddleware, install_outage_handlers
from app.api.ratelimit import RateLimitMiddleware
from app.api.responses import document_errors
from app.api.router import api_router
from app.bootstrap import build_container, start_background
from app.chats.schemas import chat_stream_schemas
from app.core.config import Settings, get_settings
from app.core.errors import error_body, install_error_handlers
from app.core.logging import configure_logging
from app.core.metrics import PrometheusMiddleware
from app.core.migrations import upgrade_async

log = logging.getLogger("citewise")
REPO_DIR = Path(__file__).resolve().parents[2]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    _ = settings.secret  # fail fast on a missing/weak production secret

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.is_production:
            # One process, one SQLite file: keep the schema current without a separate step.
            await upgrade_async(settings.effective_database_url)
        container = build_container(settings)
        app.state.container = container
        await start_background(container)
        log.info("citewise started", extra={"mode": settings.mode, "version": __version__})
        try:
            yield
        finally:
            await container.aclose()  # stops background tasks and providers (container.closers)

    app = FastAPI(
        title="Citewise", version=__version__, lifespan=lifespan,
        docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None,
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(OutageMiddleware)  # JSON 503/500 for what fails in the rate limiter or below
    if settings.security_headers:  # otherwise the proxy in front adds them (one place, not two)
        app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, allowed_origins=settings.allowed_origins)
    app.add_middleware(PrometheusMiddleware)
    install_error_handlers(app)
    install_outage_handlers(app)

    @app.exception_handler(405)
    async def method_not_allowed(request: Request, _: Exception) -> JSONResponse:
        # Starlette's Allow names the first route that matched the path only; list every method.
        return _method_not_allowed(_allowed_methods(app, request.scope))

    app.include_router(api_router)
    _customize_openapi(app)
    annotate_scopes(app)
    if settings.serve_frontend:
        _mount_spa(app, settings.frontend_dist or REPO_DIR / "frontend" / "dist")
    return app


def _customize_openapi(app: FastAPI) -> None:
    """Add the chat stream's event schemas to OpenAPI's components (FastAPI only collects models
    used as bodies or JSON responses, and the web app generates its event types from these), and
    the error responses every operation can return (app.api.responses)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, event_schema in chat_stream_schemas().items():
                components.setdefault(name, event_schema)
            document_errors(schema)
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_spa(app: FastAPI, dist: Path) -> None:
    """Serve the built SPA; unknown non-API paths fall back to index.html for client routing."""
    dist = dist.resolve()
    index = dist / "index.html"
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    # FastAPI's usual addresses lead to the API docs (create_app serves them under /api/).
    @app.get("/docs", include_in_schema=False)
    async def docs_redirect() -> RedirectResponse:
        return RedirectResponse("/api/docs", status_code=307)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_redirect() -> RedirectResponse:
        return RedirectResponse("/api/openapi.json", status_code=307)

    @app.get("/{path:path}", include_in_schema=False, response_model=None)
    async def spa(path: str, request: Request) -> FileResponse | JSONResponse:
        if path.startswith("api/"):
            # This catch-all answers every GET, so a GET on a POST-only API path lands here.
            allowed = _allowed_methods(app, request.scope)
            if allowed:
                return _method_not_allowed(allowed)
            return JSONResponse(error_body("not_found", "No such API route."), 404)
        candidate = (dist / path).resolve()
        if path and candidate.is_relative_to(dist) and candidate.is_file():
            return FileResponse(candidate)
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return JSONResponse(
            {"service": "citewise", "docs": "/api/docs",
             "detail": "The web app is not built; run `make run` or `npm run build` in frontend/."}
        )


def _method_not_allowed(allowed: set[str]) -> JSONResponse:
    return JSONResponse(error_body("method_not_allowed", "This path does not accept that method."),
                        405, headers={"Allow": ", ".join(sorted(allowed))})


def _allowed_methods(app: FastAPI, scope: Scope) -> set[str]:
    """The methods the API routes accept on this path (the SPA's own catch-all aside)."""
    allowed: set[str] = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**scope, "method": method}
        for route in app.router.routes:
            path = getattr(route, "path", None)  # included routers have none; app-level routes do
            if (path is None or path.startswith("/api/")) and route.matches(probe)[0] == Match.FULL:
                allowed.add(method)
                break
    return allowed


def app_factory() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)
