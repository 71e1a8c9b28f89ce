"""`GET /metrics` in the Prometheus text format; not public (loopback without a proxy, or a token)."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from app.api.deps import get_principal
from app.core.errors import AppError, error_body
from app.core.metrics import SCRAPE_GAUGES, scrape_registry
from app.core.security import constant_time_equals
from app.documents.models import STATUSES, Document
from app.platform.container import Container

router = APIRouter(tags=["system"])


async def _allowed(request: Request, container: Container | None) -> bool:
    """A loopback peer with no X-Forwarded-For (not via a proxy), the configured bearer token, or
    an administrator (session, or an admin's key with the admin scope)."""
    peer = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    if loopback and "x-forwarded-for" not in request.headers:
        return True
    if container is None:
        return False
    token = container.settings.metrics_token
    auth = request.headers.get("authorization", "")
    if token is not None and auth.lower().startswith("bearer ") \
            and constant_time_equals(auth[7:].strip(), token.get_secret_value()):
        return True
    async with container.sessions() as session:
        try:
            principal = await get_principal(request, session, container.settings)
        except AppError:
            return False
        ok = principal.user.role == "admin" and (
            principal.via != "api_key" or "admin" in principal.scopes)
        await session.commit()  # an API key's last-used time
        return ok


async def refresh_scrape_gauges(container: Container) -> None:
    async with container.sessions() as session:
        rows = (await session.execute(
            select(Document.status, func.count(Document.id)).group_by(Document.status))).all()
        counts = {s: 0 for s in STATUSES}
        counts.update({status: int(n) for status, n in rows})
    SCRAPE_GAUGES.documents = counts
    SCRAPE_GAUGES.queue_depth = await container.jobs.queue_depth()


@router.get("/metrics", include_in_schema=False, operation_id="metrics")
async def metrics(request: Request) -> Response:
    container: Container | None = getattr(request.app.state, "container", None)  # None before start-up
    if not await _allowed(request, container):
        return JSONResponse(error_body("metrics_forbidden", "Metrics are not public."), 403)
    if container is not None:
        await refresh_scrape_gauges(container)
    return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)
