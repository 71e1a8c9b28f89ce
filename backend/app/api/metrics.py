"""`GET /metrics` in the Prometheus text format (not public: Nginx keeps it off the internet)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from app.core.metrics import SCRAPE_GAUGES, scrape_registry
from app.documents.models import STATUSES, Document
from app.platform.container import Container

router = APIRouter(tags=["system"])


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
    if container is not None:
        await refresh_scrape_gauges(container)
    return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)
