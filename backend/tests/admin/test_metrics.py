from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from app.core import metrics
from tests.admin.conftest import add_document


def _samples(text: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


async def test_metrics_expose_http_job_llm_and_scrape_series(admin: AsyncClient, signed_in: Any,
                                                             api_app: Any) -> None:
    _, bob = await signed_in("bob@example.com")
    await add_document(api_app, bob["id"], filename="m1.pdf")
    await add_document(api_app, bob["id"], filename="m2.pdf", status="failed", error="x")
    await admin.patch(f"/api/v1/admin/users/{bob['id']}", json={"role": "user"})
    await admin.get("/api/v1/no/such/route")
    metrics.JOBS_TOTAL.labels("ready").inc()
    metrics.JOB_STAGE_SECONDS.labels("embedding").observe(1.5)
    metrics.LLM_REQUEST_SECONDS.labels("tiny").observe(0.7)
    metrics.LLM_TOKENS_TOTAL.labels("completion").inc(42)
    metrics.RETRIEVAL_SECONDS.observe(0.012)

    r = await admin.get("/api/v1/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = _samples(r.text)
    requests = {(s.labels["method"], s.labels["route"], s.labels["status"])
                for s in samples["citewise_http_requests_total"]}
    # Route templates, never raw ids; unknown paths share one label.
    assert ("PATCH", "/api/v1/admin/users/{user_id}", "200") in requests
    assert ("GET", "unmatched", "404") in requests
    assert not any(bob["id"] in route for _, route, _ in requests)
    assert any(s.labels["route"] == "/api/v1/admin/users/{user_id}"
               for s in samples["citewise_http_request_duration_seconds_count"])
    for name in ("citewise_jobs_total", "citewise_job_stage_seconds_count",
                 "citewise_llm_request_seconds_count", "citewise_llm_tokens_total",
                 "citewise_retrieval_seconds_count"):
        assert name in samples, name
    docs = {s.labels["status"]: s.value for s in samples["citewise_documents"]}
    assert docs == {"queued": 0, "processing": 0, "ready": 1, "failed": 1}
    (depth,) = samples["citewise_queue_depth"]
    assert depth.value >= 0
    assert re.search(r'citewise_llm_tokens_total\{kind="completion"\} \d+', r.text)
