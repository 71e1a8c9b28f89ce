from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient

from app.documents.models import Document
from tests.admin.conftest import add_document, container


class RecordingQueue:
    """Stands in for the job queue so retried documents stay observable (nothing processes them)."""

    def __init__(self) -> None:
        self.enqueued: list[str] = []

    async def enqueue_ingest(self, document_id: str, *, request_id: str | None = None,
                             lost_attempt: int | None = None) -> None:
        self.enqueued.append(document_id)

    async def queue_depth(self) -> int:
        return len(self.enqueued)

    async def active_workers(self) -> int:
        return 3


@pytest.fixture
async def queue(api_app: Any) -> AsyncIterator[RecordingQueue]:
    original = container(api_app)
    recording = RecordingQueue()
    api_app.state.container = dataclasses.replace(original, jobs=recording)
    try:
        yield recording
    finally:
        api_app.state.container = original


async def test_stats(admin: AsyncClient, signed_in: Any, api_app: Any, queue: RecordingQueue) -> None:
    _, bob = await signed_in("bob@example.com")
    await add_document(api_app, bob["id"], filename="r1.pdf", size_bytes=1000, chunks=["a", "b", "c"])
    await add_document(api_app, bob["id"], filename="r2.pdf", size_bytes=500, chunks=["d"])
    await add_document(api_app, bob["id"], filename="q.pdf", status="queued", size_bytes=20)
    await add_document(api_app, bob["id"], filename="f.pdf", status="failed", size_bytes=7,
                       error="bad pdf", job_status="failed")
    queue.enqueued.append("x")
    r = await admin.get("/api/v1/admin/stats")
    assert r.status_code == 200
    assert r.json() == {
        "users": 2, "documents": 4, "chunks": 4, "storage_bytes": 1527,
        "documents_by_status": {"queued": 1, "processing": 0, "ready": 2, "failed": 1},
        "queue_depth": 1, "workers": 3, "queue_available": True, "failures_24h": 1,
    }


async def test_jobs_list_and_filter(admin: AsyncClient, signed_in: Any, api_app: Any) -> None:
    _, bob = await signed_in("bob@example.com")
    ok = await add_document(api_app, bob["id"], filename="good.pdf", job_status="succeeded")
    bad = await add_document(api_app, bob["id"], filename="bad.pdf", status="failed",
                             error="Encrypted PDF", job_status="failed")
    r = await admin.get("/api/v1/admin/jobs")
    body = r.json()
    assert r.status_code == 200 and body["total"] == 2
    assert {j["document_id"] for j in body["items"]} == {ok, bad}
    r = await admin.get("/api/v1/admin/jobs", params={"status": "failed"})
    (job,) = r.json()["items"]
    assert job["document_id"] == bad and job["filename"] == "bad.pdf"
    assert job["owner_email"] == "bob@example.com" and job["error"] == "Encrypted PDF"
    assert job["attempts"] == 1 and job["duration_ms"] == 1234 and job["finished_at"]
    assert job["status"] == "failed" and job["document_status"] == "failed"
    assert set(job) == {"id", "document_id", "filename", "owner_email", "status", "stage",
                        "attempts", "worker", "document_status", "error", "created_at", "started_at",
                        "finished_at", "duration_ms"}
    r = await admin.get("/api/v1/admin/jobs", params={"status": "succeeded"})
    assert [j["document_id"] for j in r.json()["items"]] == [ok]
    # The filter takes job statuses only: a document status is refused, not silently empty.
    for wrong in ("queued", "processing", "ready"):
        r = await admin.get("/api/v1/admin/jobs", params={"status": wrong})
        assert r.status_code == 422, wrong


async def test_retry_failed_documents(admin: AsyncClient, signed_in: Any, api_app: Any,
                                      queue: RecordingQueue) -> None:
    _, bob = await signed_in("bob@example.com")
    f1 = await add_document(api_app, bob["id"], filename="f1.pdf", status="failed", error="e1")
    f2 = await add_document(api_app, bob["id"], filename="f2.pdf", status="failed", error="e2")
    ready = await add_document(api_app, bob["id"], filename="ok.pdf")

    r = await admin.post("/api/v1/admin/jobs/retry", json={"document_ids": [f1, ready]})
    assert r.status_code == 200 and r.json() == {"retried": 1}  # only failed ones are retried
    assert queue.enqueued == [f1]
    async with container(api_app).sessions() as s:
        doc = await s.get(Document, f1)
        assert doc is not None
        assert (doc.status, doc.stage, doc.progress, doc.error, doc.attempts) == \
            ("queued", None, 0, None, 0)
        assert (await s.get(Document, ready)).status == "ready"  # type: ignore[union-attr]

    r = await admin.post("/api/v1/admin/jobs/retry", json={"all_failed": True})
    assert r.json() == {"retried": 1} and queue.enqueued == [f1, f2]
    assert (await admin.post("/api/v1/admin/jobs/retry", json={})).json() == {"retried": 0}
    audit = (await admin.get("/api/v1/admin/audit", params={"event": "jobs.retried"})).json()
    assert audit["total"] == 2
