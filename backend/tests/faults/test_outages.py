"""Fault suite: the production topology (one API process, ARQ worker processes, PostgreSQL,
Redis, a Chroma server — all real, all on loopback) keeps its data and its promises while its
dependencies go away and come back, and while workers are stopped mid-document.

The tests share one topology and run in file order; each leaves it whole (every dependency up,
two live workers) for the next. Settings shorten leases and backoff for speed (see
conftest.topology_env); the Chroma outage is a real 90 s.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import func, select

from app.bootstrap import build_container
from app.core.config import Settings
from app.documents.lifecycle import RELEASED_ERROR
from app.documents.models import Chunk, Document, Job, VectorPurge
from app.platform.container import Container
from app.providers.vectorstore.base import VectorScope
from tests import docgen
from tests.conftest import TEST_SECRET, register
from tests.faults.conftest import ARQ, Process, Topology, wait_until
from tests.workers.conftest import wait_for

API = "/api/v1"
PASSWORD = "fault-suite correct horse battery"
CHROMA_OUTAGE_SECONDS = 90


@pytest.fixture(scope="module")
async def api(topology: Topology) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-up user's API key (read, write) on a client for the API process."""
    async with httpx.AsyncClient(base_url=topology.api_url, timeout=30) as session:
        await register(session, "faults@example.com", PASSWORD)
        r = await session.post(f"{API}/auth/api-keys", json={"name": "faults", "scopes": ["read", "write"]},
                               headers={"X-CSRF-Token": session.cookies["cw_csrf"]})
        assert r.status_code == 201, r.text
        key = r.json()["key"]
    async with httpx.AsyncClient(base_url=topology.api_url, timeout=30,
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        yield client


@pytest.fixture(scope="module")
async def inspect(topology: Topology) -> AsyncIterator[Container]:
    """The test's own view of the database and the vector store (no API in between)."""
    settings = Settings(mode="production", database_url=topology.postgres.url,
                        redis_url=topology.redis.url, chroma_url=topology.chroma.url,
                        secret_key=TEST_SECRET, data_dir=topology.tmp / "inspect",
                        serve_frontend=False)
    container = build_container(settings)
    yield container
    await container.aclose()


def text_document(tmp: Path, name: str, seed: int, paragraphs: int) -> Path:
    return docgen.text_file(tmp / name, "\n\n".join(docgen.paragraphs(seed, paragraphs)))


async def upload(api: httpx.AsyncClient, path: Path) -> dict[str, Any]:
    r = await api.post(f"{API}/documents", files={"files": (path.name, path.read_bytes(), "text/plain")})
    assert r.status_code == 202, r.text
    (doc,) = r.json()["documents"]
    return dict(doc)


async def document(api: httpx.AsyncClient, doc_id: str) -> dict[str, Any]:
    r = await api.get(f"{API}/documents/{doc_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def wait_status(topology: Topology, api: httpx.AsyncClient, doc_id: str, status: str, *,
                      timeout: float) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        doc = await document(api, doc_id)
        assert doc["status"] in (status, "queued", "processing"), doc
        return doc if doc["status"] == status else None

    result: dict[str, Any] = await wait_for(reached, timeout=timeout, interval=0.5,
                                            what=f"document {doc_id} to be {status}",
                                            on_timeout=topology.logs)
    return result


async def wait_embedding(topology: Topology, api: httpx.AsyncClient, doc_id: str,
                         min_progress: int = 0) -> dict[str, Any]:
    async def embedding() -> dict[str, Any] | None:
        doc = await document(api, doc_id)
        assert doc["status"] in ("queued", "processing"), doc
        return doc if doc["stage"] == "embedding" and doc["progress"] >= min_progress else None

    result: dict[str, Any] = await wait_for(embedding, timeout=120, interval=0.2,
                                            what="the document to be embedding",
                                            on_timeout=topology.logs)
    return result


async def stored(inspect: Container, doc_id: str) -> tuple[int, int]:
    """(chunk rows, vectors in every target collection) of a document, all versions."""
    async with inspect.sessions() as session:
        doc = await session.get(Document, doc_id)
        assert doc is not None
        rows = (await session.execute(
            select(func.count(Chunk.id)).where(Chunk.document_id == doc_id))).scalar_one()
    vectors = 0
    for target in await inspect.index.targets():
        vectors += await inspect.vectors.count(target.collection,
                                               scope=VectorScope.of_document(doc.owner_id, doc_id))
    return int(rows), vectors


async def owner_of(inspect: Container, doc_id: str) -> str:
    async with inspect.sessions() as session:
        doc = await session.get(Document, doc_id)
        assert doc is not None
        return doc.owner_id


async def vectors_of(inspect: Container, owner_id: str, doc_id: str) -> int:
    """Vectors of a document in every target collection (the document row may be gone)."""
    scope = VectorScope.of_document(owner_id, doc_id)
    return sum([await inspect.vectors.count(t.collection, scope=scope)
                for t in await inspect.index.targets()])


async def stored_chunk_rows(inspect: Container, doc_id: str) -> int:
    async with inspect.sessions() as session:
        stmt = select(func.count(Chunk.id)).where(Chunk.document_id == doc_id)
        return int((await session.execute(stmt)).scalar_one())


async def jobs(inspect: Container, doc_id: str) -> list[Job]:
    async with inspect.sessions() as session:
        stmt = select(Job).where(Job.document_id == doc_id).order_by(Job.created_at)
        return list((await session.execute(stmt)).scalars())


async def workers_started(topology: Topology, count: int) -> None:
    """`count` workers have run their start-up hook (each then keeps a heartbeat key in Redis)."""
    with redis.Redis.from_url(topology.redis.url) as client:
        await wait_for(lambda: _beats(client, count), timeout=120, what=f"{count} workers to start",
                       on_timeout=topology.logs)


async def _beats(client: redis.Redis, count: int) -> bool:
    return len(list(client.scan_iter(match="citewise:worker:*"))) >= count


def assert_workers_alive(topology: Topology, count: int = 2) -> None:
    assert len(topology.live_workers()) >= count, topology.logs()


async def test_redis_outage_degrades_and_recovers(topology: Topology, api: httpx.AsyncClient,
                                                  tmp_path: Path) -> None:
    topology.redis.stop()
    try:
        r = await api.get(f"{API}/ready")
        assert r.status_code == 200 and r.json()["status"] == "degraded", r.text
        assert r.json()["down"] == ["redis"] and r.json()["checks"]["redis"].startswith("error")
        # Uploads commit and answer 202 `queued`; reads keep working; rate limits fall back.
        docs = [await upload(api, text_document(tmp_path, f"redis-{n}.txt", 100 + n, 12))
                for n in range(2)]
        assert [d["status"] for d in docs] == ["queued", "queued"]
        listed = await api.get(f"{API}/documents")
        assert listed.status_code == 200, listed.text
        assert {d["id"] for d in docs} <= {d["id"] for d in listed.json()["items"]}
        async with httpx.AsyncClient(base_url=topology.api_url, timeout=30) as browser:
            login = await browser.post(f"{API}/auth/login",
                                       json={"email": "faults@example.com", "password": PASSWORD})
            assert login.status_code == 200, login.text  # the login throttle fell back too
            assert login.json()["role"] == "admin"  # the first account
            # The admin's figures: everything but what lives in Redis.
            stats = await browser.get(f"{API}/admin/stats")
            assert stats.status_code == 200, stats.text
            figures = stats.json()
            assert figures["queue_available"] is False, figures
            assert figures["queue_depth"] is None and figures["workers"] is None, figures
            assert figures["documents"] >= 2 and figures["users"] >= 1, figures
        await asyncio.sleep(5)  # long enough for a worker that would exit on a Redis error to do so
        assert_workers_alive(topology)
        assert topology.api is not None and topology.api.alive()
    finally:
        topology.redis.start()  # empty: the queue and every counter are gone
    # The reconciler re-enqueues the documents the outage kept from the queue.
    for doc in docs:
        ready = await wait_status(topology, api, doc["id"], "ready", timeout=120)
        assert ready["chunk_count"] > 0
    assert_workers_alive(topology)


async def test_the_spec_worker_command_outlives_redis(topology: Topology, api: httpx.AsyncClient,
                                                      inspect: Container, tmp_path: Path) -> None:
    """`arq app.workers.tasks.WorkerSettings` (ARQ's own Worker class, not `citewise worker`)
    stays up while Redis is down, and takes jobs again when it is back."""
    spawned: list[Process] = []
    try:  # whatever fails, the later tests get their two workers back (finally)
        for worker in topology.live_workers():
            assert worker.stop() == 0, worker.log_tail()
        spec = topology.start_worker(command=[str(ARQ), "app.workers.tasks.WorkerSettings"])
        spawned.append(spec)
        name = f"{socket.gethostname()}:{spec.pid}"  # app.workers.tasks.WORKER_NAME
        beat = f"citewise:worker:{name}"
        with redis.Redis.from_url(topology.redis.url) as client:
            # Its start-up hook has run (it sets the heartbeat): from then on it waits out outages.
            wait_until(lambda: bool(client.exists(beat)) or not spec.alive(), timeout=120,
                       what="the arq worker to start", log=spec.log_path)
        assert spec.alive(), spec.log_tail()
        topology.redis.stop()
        try:
            await asyncio.sleep(8)  # ARQ polls every 0.5 s: its first Redis error came long ago
            assert spec.alive(), spec.log_tail()
        finally:
            topology.redis.start()  # empty
        doc = await upload(api, text_document(tmp_path, "spec-worker.txt", 150, 8))
        ready = await wait_status(topology, api, doc["id"], "ready", timeout=120)
        assert ready["chunk_count"] > 0
        assert [j.worker for j in await jobs(inspect, doc["id"])] == [name]
        assert spec.alive(), spec.log_tail()
        assert spec.stop(60) == 0, spec.log_tail()
    finally:
        for proc in spawned:
            proc.stop()
        topology.start_worker()
        topology.start_worker()


async def test_sigterm_mid_document_hands_it_back(topology: Topology, api: httpx.AsyncClient,
                                                  inspect: Container, tmp_path: Path) -> None:
    # Small enough that a second worker redoes it well within the minute on a busy machine.
    doc = await upload(api, text_document(tmp_path, "sigterm.txt", 200, 80))
    await wait_embedding(topology, api, doc["id"])
    (job,) = [j for j in await jobs(inspect, doc["id"]) if j.status == "running"]
    pid = int(job.worker.rsplit(":", 1)[1])
    (holder,) = [w for w in topology.workers if w.pid == pid]
    stopped = time.monotonic()
    holder.signal(signal.SIGTERM)
    # The worker stops within its grace period (1 s here) plus the hand-back, and exits cleanly.
    assert holder.wait(30) == 0, holder.log_tail()
    # Handed back at once: `queued` for the next worker, the attempt's job row `interrupted`.
    after = await document(api, doc["id"])
    assert after["status"] == "queued" or (await jobs(inspect, doc["id"]))[-1].worker != job.worker, after
    topology.start_worker()  # what a rolling restart does next
    ready = await wait_status(topology, api, doc["id"], "ready", timeout=60)
    assert time.monotonic() - stopped < 60
    history = await jobs(inspect, doc["id"])
    assert (history[0].status, history[0].error) == ("interrupted", RELEASED_ERROR)
    assert history[-1].status == "succeeded" and history[-1].worker != job.worker
    # Handed back, not lost: the interrupted attempt did not count against the document.
    # (Seen once in CI as 2 with the history above passing: the message says which attempts ran.)
    assert ready["attempts"] == 1, (ready, [(j.status, j.worker, j.error) for j in history])
    rows, vectors = await stored(inspect, doc["id"])
    assert rows == vectors == ready["chunk_count"] > 0
    assert_workers_alive(topology)


@pytest.mark.timeout(420)
async def test_chroma_outage_of_90_seconds_mid_embedding(topology: Topology, api: httpx.AsyncClient,
                                                         inspect: Container, tmp_path: Path) -> None:
    doc = await upload(api, text_document(tmp_path, "chroma.txt", 300, 600))
    await wait_embedding(topology, api, doc["id"])
    topology.chroma.stop()
    down_since = time.monotonic()
    try:
        async def retrying() -> bool:
            current = await document(api, doc["id"])
            assert current["status"] != "failed", current
            return current["status"] == "queued" and "temporary problem" in (current["error"] or "").lower()

        await wait_for(retrying, timeout=60, interval=0.5, what="the attempt to be retried later",
                       on_timeout=topology.logs)
        await asyncio.sleep(max(0.0, CHROMA_OUTAGE_SECONDS - (time.monotonic() - down_since)))
        current = await document(api, doc["id"])
        assert current["status"] in ("queued", "processing"), current  # still retrying
        assert_workers_alive(topology)
    finally:
        topology.chroma.start()
    ready = await wait_status(topology, api, doc["id"], "ready", timeout=180)
    rows, vectors = await stored(inspect, doc["id"])
    assert rows == vectors == ready["chunk_count"] > 0
    assert ready["error"] is None


async def test_postgres_outage_answers_json_503_and_recovers(topology: Topology,
                                                             api: httpx.AsyncClient,
                                                             tmp_path: Path) -> None:
    before = await upload(api, text_document(tmp_path, "before-pg.txt", 400, 10))
    await wait_status(topology, api, before["id"], "ready", timeout=120)
    assert topology.api is not None
    api_pid = topology.api.pid
    topology.postgres.stop()
    try:
        for method, path in [("GET", "/documents"), ("GET", f"/documents/{before['id']}"),
                             ("GET", "/conversations"), ("GET", "/config")]:
            r = await api.request(method, API + path)
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/json"), r.text
            assert r.json()["error"] == "unavailable" and "database" in r.json()["detail"].lower()
        r = await api.post(f"{API}/documents", files={"files": ("x.txt", b"some text", "text/plain")})
        assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
        async with httpx.AsyncClient(base_url=topology.api_url, timeout=30) as browser:
            r = await browser.post(f"{API}/auth/login",
                                   json={"email": "faults@example.com", "password": PASSWORD})
            assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
        r = await api.get(f"{API}/ready")
        assert r.status_code == 503 and r.json()["checks"]["database"].startswith("error"), r.text
        await asyncio.sleep(3)
        assert_workers_alive(topology)
    finally:
        topology.postgres.start()

    # The same processes recover on their own.
    async def listing() -> bool:
        return (await api.get(f"{API}/documents")).status_code == 200

    await wait_for(listing, timeout=60, what="the API to answer again", on_timeout=topology.logs)
    after = await upload(api, text_document(tmp_path, "after-pg.txt", 401, 10))
    await wait_status(topology, api, after["id"], "ready", timeout=120)
    assert topology.api.pid == api_pid and topology.api.alive()
    assert_workers_alive(topology)


@pytest.mark.timeout(480)
async def test_failed_document_leaves_no_chunks_or_vectors(topology: Topology, api: httpx.AsyncClient,
                                                           inspect: Container, tmp_path: Path) -> None:
    # Workers whose retry window (8 s) is shorter than the outage below, so the document fails.
    await workers_started(topology, 2)  # (when this test runs alone, they may still be starting)
    for worker in topology.live_workers():
        assert worker.stop() == 0, worker.log_tail()
    for _ in range(2):
        topology.start_worker(CITEWISE_JOB_RETRY_WINDOW_SECONDS="8")
    # A ready document, deleted while the store is down below: its vectors must go too. (Uploaded
    # first: the two workers process both at once, and this small one is ready long before the
    # other is half embedded.)
    gone = await upload(api, text_document(tmp_path, "deleted.txt", 501, 6))
    doc = await upload(api, text_document(tmp_path, "fails.txt", 500, 300))
    await wait_status(topology, api, gone["id"], "ready", timeout=120)
    gone_owner = await owner_of(inspect, gone["id"])
    assert await vectors_of(inspect, gone_owner, gone["id"]) > 0
    # Some batches are in the vector store when it goes away.
    await wait_embedding(topology, api, doc["id"], min_progress=45)
    topology.chroma.stop()
    assert (await stored_chunk_rows(inspect, doc["id"])) > 0
    try:
        r = await api.delete(f"{API}/documents/{gone['id']}")
        assert r.status_code == 204, r.text
        failed = await wait_status(topology, api, doc["id"], "failed", timeout=90)
        assert "gave up after retrying" in failed["error"], failed
        r = await api.get(f"{API}/documents/{doc['id']}/chunks")
        assert r.status_code == 200 and r.json()["total"] == 0, r.text
        assert failed["chunk_count"] == 0
    finally:
        topology.chroma.start()

    # The vectors written before the outage are purged once the store is back.
    async def clean() -> bool:
        async with inspect.sessions() as session:
            row = await session.get(Document, doc["id"])
            assert row is not None and row.status == "failed"
            flagged = row.purge_pending
        return not flagged and await stored(inspect, doc["id"]) == (0, 0)

    await wait_for(clean, timeout=60, what="the failed document's vectors to be purged",
                   on_timeout=topology.logs)

    # And the deleted document's, although its row is gone.
    async def deleted_clean() -> bool:
        async with inspect.sessions() as session:
            left = (await session.execute(select(func.count(VectorPurge.id)))).scalar_one()
        return left == 0 and await vectors_of(inspect, gone_owner, gone["id"]) == 0

    await wait_for(deleted_clean, timeout=60, what="the deleted document's vectors to be purged",
                   on_timeout=topology.logs)
    assert_workers_alive(topology)
