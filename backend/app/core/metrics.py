"""Prometheus metrics: HTTP middleware and the metric objects other modules update (`/metrics`
itself is served by `app.api.metrics`).

With several API processes, set `PROMETHEUS_MULTIPROC_DIR` (an empty directory shared by them) and
every scrape reports the sum over processes (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter("citewise_http_requests_total", "HTTP requests by route template",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram("citewise_http_request_duration_seconds",
                          "HTTP request duration (until the last body byte)", ["method", "route"],
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
JOBS_TOTAL = Counter("citewise_jobs_total", "Ingestion jobs finished, by outcome", ["outcome"])
JOB_STAGE_SECONDS = Histogram("citewise_job_stage_seconds", "Time per ingestion stage", ["stage"],
                              buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900))
LLM_REQUEST_SECONDS = Histogram("citewise_llm_request_seconds", "Chat model request duration",
                                ["model"], buckets=(0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160))
LLM_TOKENS_TOTAL = Counter("citewise_llm_tokens_total", "Chat model tokens", ["kind"])
RETRIEVAL_SECONDS = Histogram("citewise_retrieval_seconds", "Retrieval (keyword + vector) duration",
                              buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5))

UNMATCHED = "unmatched"  # raw paths of 404s would explode label cardinality


class PrometheusMiddleware:
    """Pure ASGI, so streamed responses pass through unbuffered; labels use the route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_DURATION.labels(method, template).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's full template (`/api/v1/documents/{document_id}`), else "unmatched".

    The router records the match on the shared scope. Recent FastAPI versions keep included routers
    nested, so the route object only knows its own suffix; the full template is on the effective
    route context it stores beside it.
    """
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if template:
        return str(template)
    route = scope.get("route")
    return str(getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED)


class _ScrapeGauges(Collector):
    """Values read from the database / queue just before each scrape (the same in every process)."""

    def __init__(self) -> None:
        self.queue_depth: int | None = None
        self.documents: dict[str, int] = {}

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily("citewise_queue_depth", "Ingestion jobs waiting in the queue")
        if self.queue_depth is not None:
            depth.add_metric([], self.queue_depth)
        docs = GaugeMetricFamily("citewise_documents", "Documents by status", labels=["status"])
        for status, n in sorted(self.documents.items()):
            docs.add_metric([status], n)
        return [depth, docs]


SCRAPE_GAUGES = _ScrapeGauges()


def scrape_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(SCRAPE_GAUGES)
        return registry
    return REGISTRY


def _register_default() -> None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        REGISTRY.register(SCRAPE_GAUGES)


_register_default()
