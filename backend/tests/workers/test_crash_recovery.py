"""A worker SIGKILLed mid-embedding loses nothing: a new worker finishes every document, and the
database and the vector index agree exactly with what a clean run produces."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from app.platform.container import Container
from app.providers.vectorstore import AllOwners
from tests import docgen as testdocs
from tests.conftest import register
from tests.workers.conftest import (
    Stack,
    chunk_count,
    chunk_ids,
    clean_chunk_count,
    documents,
    jobs_of,
    wait_for,
)

# Documents of several formats, sized for a loaded 2-core machine (embedding runs at about 2 ms per
# token there; ~40,000 characters in all, as the real-document set this test was first written
# with): multi-page PDFs, DOCX, HTML and plain text.
PROCESS_TIMEOUT = 240


def _documents(tmp: Path) -> list[Path]:
    p = testdocs.paragraphs
    html = "".join(f"<h2>Section {i}</h2>" + "".join(f"<p>{para}</p>" for para in p(100 + i, 4))
                   for i in range(12))
    return [
        testdocs.pdf(tmp / "manual.pdf", [testdocs.prose(page, 2) for page in range(30)],
                      outline=[(1, "Introduction"), (10, "Usage"), (25, "Reference")]),
        testdocs.pdf(tmp / "paper.pdf", ["\n\n".join(p(40 + page, 4)) for page in range(2)]),
        testdocs.pdf(tmp / "lists.pdf", ["\n\n".join(f"- {line}" for line in p(50 + page, 8, 1))
                                          for page in range(2)]),
        testdocs.docx(tmp / "lists.docx", "Checklist", p(60, 1, 2), bullets=p(61, 8, 1)),
        testdocs.text_file(tmp / "library.html", f"<!doctype html><html><body><h1>Library</h1>{html}"
                                                  "</body></html>"),
        testdocs.text_file(tmp / "manual-opening.txt", "\n\n".join(p(70, 14)) + "\n"),
    ]


async def _upload(client: AsyncClient, paths: list[Path]) -> list[str]:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    r = await client.post("/api/v1/documents", files=files)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["errors"] == [], body["errors"]
    return [d["id"] for d in body["documents"]]


async def _all_settled(container: Container) -> bool:
    docs = await documents(container)
    return all(d.status in ("ready", "failed") for d in docs)


async def _vector_ids(container: Container, collection: str, document_id: str) -> list[str]:
    return await container.vectors.ids(collection, scope=AllOwners(document_ids=frozenset({document_id})))


async def test_sigkill_mid_embedding_then_new_worker_finishes_everything(
        stack: Stack) -> None:
    paths = _documents(stack.tmp)
    app = create_app(stack.settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60):
        container: Container = app.state.container
        transport = ASGITransport(app=app, client=("10.1.2.3", 1234))
        async with AsyncClient(transport=transport, base_url="https://testserver") as client:
            await register(client, "crash@example.com")
            first = stack.start_worker()
            ids = await _upload(client, paths)
        assert len(ids) == len(paths)

        async def embedding_now() -> list[Any]:
            assert first.alive(), first.log_tail()
            return [d for d in await documents(container)
                    if d.status == "processing" and d.stage == "embedding"]

        t0 = time.monotonic()
        await wait_for(embedding_now, timeout=180, interval=0.1, what="a document in stage embedding",
                       on_timeout=stack.worker_logs)
        first.kill()
        killed_at = time.monotonic() - t0
        interrupted = [d for d in await documents(container) if d.status == "processing"]
        assert interrupted, "the kill should have interrupted at least one document"
        partial = {d.filename: d.progress for d in interrupted}

        # A supervisor restarts the worker at once. Its start-up reconcile (after ~20 s of imports
        # here) or, at the latest, the next minute's cron finds the dead attempts' expired leases.
        second = stack.start_worker()
        await wait_for(lambda: _all_settled(container), timeout=PROCESS_TIMEOUT, interval=1,
                       what="every document to finish", on_timeout=stack.worker_logs)
        total = time.monotonic() - t0
        assert second.alive()

        docs = await documents(container)
        failed = {d.filename: d.error for d in docs if d.status != "ready"}
        assert not failed, f"{failed}\n{stack.worker_logs()}"
        by_name = {p.name: p for p in paths}
        for doc in docs:
            expected = await asyncio.to_thread(clean_chunk_count, by_name[doc.filename],
                                               stack.settings)
            rows = await chunk_ids(container, doc)
            assert doc.embedding_collection
            vectors = await _vector_ids(container, doc.embedding_collection, doc.id)
            assert doc.chunk_count == expected, doc.filename
            assert await chunk_count(container, doc) == expected, doc.filename
            assert len(rows) == expected, f"{doc.filename}: rows of an older version were left"
            assert len(vectors) == len(set(vectors)) == expected, doc.filename
            assert set(vectors) == set(rows), doc.filename
            assert doc.stage is None and doc.progress == 100 and doc.lease_expires_at is None

        for doc in (d for d in docs if d.id in {i.id for i in interrupted}):
            jobs = await jobs_of(container, doc.id)
            assert doc.attempts == 2, doc.filename
            assert [j.status for j in jobs] == ["interrupted", "succeeded"], doc.filename
            assert jobs[0].error == "The worker stopped during this attempt."
        print(f"\nkilled after {killed_at:.1f} s at {partial}; all ready {total:.1f} s after start")
