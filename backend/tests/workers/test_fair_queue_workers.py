"""Fair scheduling under two real ARQ worker processes (PostgreSQL, Redis, a Chroma server): owner A
queues 40 documents, then owner B uploads one; B's document starts before A's fifth-from-now
document and is ready while A still has documents queued. The reconciler stays quiet meanwhile."""

from __future__ import annotations

from typing import Any

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from app.platform.container import Container
from app.workers import registry
from tests import docgen
from tests.conftest import register
from tests.workers.conftest import Stack, documents, wait_for

BATCH = 40


def _client(app: Any) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app, client=("10.1.2.3", 1234)),
                       base_url="https://testserver")


async def _list(client: AsyncClient) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/documents", params={"page_size": 200, "sort": "created_at",
                                                       "order": "asc"})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_two_workers_serve_a_late_single_document_before_a_batch(stack: Stack) -> None:
    app = create_app(stack.settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60), \
            _client(app) as a, _client(app) as b:
        container: Container = app.state.container
        await register(a, "batch-owner@example.com")
        await register(b, "single-owner@example.com")
        files = [("files", (f"batch-{i:02d}.md", f"# Note {i}\n\n{docgen.prose(i, 12)}\n".encode(),
                            "text/markdown")) for i in range(BATCH)]
        r = await a.post("/api/v1/documents", files=files)
        assert r.status_code == 202 and len(r.json()["documents"]) == BATCH, r.text
        for _ in range(2):  # one job at a time each: two slots in all
            stack.start_worker(CITEWISE_JOB_CONCURRENCY="1")

        async def two_running() -> bool:
            return sum(d.status == "processing" for d in await documents(container)) >= 2

        await wait_for(two_running, timeout=120, what="both workers busy", on_timeout=stack.worker_logs)
        a_waiting = [d["id"] for d in await _list(a) if d["status"] == "queued"]
        assert len(a_waiting) >= 5
        fifth = a_waiting[4]
        r = await b.post("/api/v1/documents", files=[("files", (
            "mine.md", b"# Mine\n\nThe ferry leaves at nine.\n", "text/markdown"))])
        b_id = r.json()["documents"][0]["id"]
        look = (await b.get(f"/api/v1/documents/{b_id}")).json()
        if look["status"] == "queued":
            assert look["queue_position"] == 1, look
            assert look["queue_estimate_seconds"] is None or look["queue_estimate_seconds"] > 0

        async def b_finished() -> dict[str, Any] | None:
            doc = (await b.get(f"/api/v1/documents/{b_id}")).json()
            return doc if doc["status"] in ("ready", "failed") else None

        b_done = await wait_for(b_finished, timeout=180, what="B's document",
                                on_timeout=stack.worker_logs)
        assert b_done["status"] == "ready", b_done["error"]
        a_now = await _list(a)
        assert any(d["status"] == "queued" for d in a_now), "A's batch finished first"
        fifth_now = next(d for d in a_now if d["id"] == fifth)
        assert fifth_now["started_at"] is None or fifth_now["started_at"] > b_done["started_at"]

        # Documents waiting their turn have their jobs in Redis: the reconciler, even treating
        # every queued document as past its grace period, enqueues nothing.
        assert await registry.reconcile(container, startup=True) == 0

        for d in a_now:  # the rest of the batch is not needed: cancel it
            if d["status"] in ("queued", "processing"):
                await a.post(f"/api/v1/documents/{d['id']}/cancel")

        async def settled() -> bool:
            return all(d.status in ("ready", "failed") for d in await documents(container))

        await wait_for(settled, timeout=120, what="the batch to settle", on_timeout=stack.worker_logs)
        for w in stack.workers:
            assert w.alive(), w.log_tail()
