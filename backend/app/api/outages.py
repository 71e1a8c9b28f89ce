"""JSON errors for requests that fail because a dependency is down (503), or for any other
reason (500): a client never gets Starlette's plain-text "Internal Server Error"."""

from __future__ import annotations

import logging

import redis.exceptions as redis_errors
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_errors
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import error_body
from app.core.outages import database_outage, redis_outage
from app.providers.embeddings.base import EmbeddingError
from app.providers.vectorstore.base import VectorStoreError

log = logging.getLogger("citewise.api")
RETRY_AFTER_SECONDS = 5

_WHAT = {"database": "The database", "redis": "The job queue (Redis)",
         "vector store": "The search index (Chroma)", "embedding": "The embedding service"}


def dependency_down(exc: BaseException) -> str | None:
    """Which dependency the failure says is down, or None for any other error."""
    if database_outage(exc):
        return "database"
    if redis_outage(exc):
        return "redis"
    if isinstance(exc, VectorStoreError) and exc.transient:
        return "vector store"
    if isinstance(exc, EmbeddingError) and exc.transient:
        return "embedding"
    return None


def outage_response(exc: BaseException) -> JSONResponse:
    dependency = dependency_down(exc)
    if dependency is None:
        log.error("request failed", exc_info=exc)
        return JSONResponse(error_body("internal_error", "Something went wrong on our side."), 500)
    log.warning("request failed: %s unavailable", dependency, extra={"error": str(exc)})
    return JSONResponse(
        error_body("unavailable", f"{_WHAT[dependency]} is unavailable right now. Try again shortly."),
        503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class OutageMiddleware:
    """Answers an exception raised below it (in the rate limiter, which reads API keys from the
    database, or in a route) with `outage_response`, and does not re-raise it: Starlette's
    last-resort handler would re-raise, and uvicorn then closes the client's connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # a streamed response failed midway: nothing left to answer with
                raise
            await outage_response(exc)(scope, receive, send)


def install_outage_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return outage_response(exc)

    # Raised in a route or dependency: answered here, nothing re-raised.
    for cls in (sa_errors.DBAPIError, sa_errors.TimeoutError, redis_errors.ConnectionError,
                redis_errors.TimeoutError, ConnectionError, TimeoutError, VectorStoreError,
                EmbeddingError):
        app.add_exception_handler(cls, handle)
    # Anything else, and whatever fails in a middleware: Starlette's last-resort handler.
    app.add_exception_handler(Exception, handle)
