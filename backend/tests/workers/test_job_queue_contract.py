"""The JobQueue contract, held by both implementations: the in-process runner (embedded profile)
and ARQ with a real worker process (production). Same database, Chroma server and documents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.platform.container import Container
from app.providers.jobs.arq_queue import ArqJobQueue
from app.providers.jobs.inprocess import InProcessJobQueue
from app.providers.vectorstore.base import VectorRecord, VectorStoreError
from tests import docgen as testdocs
from tests.providers.conftest import chroma_server, free_port
from tests.workers.conftest import (
    Stack,
    WorkerProcess,
    add_document,
    add_user,
    documents,
    jobs_of,
    start_container,
    wait_for,
)

DAMAGED = "The file appears to be damaged or truncated and could not be read."


class Harness:
    """Enqueue from an in-test container; consume in-process or with `arq` worker processes."""

    def __init__(self, kind: str, stack: Stack, container: Container) -> None:
        self.kind = kind
        self.stack = stack
        self.container = container
        self.worker: WorkerProcess | None = None

    @property
    def jobs(self) -> Any:
        return self.container.jobs

    async def consume(self, **worker_env: str) -> None:
        if self.kind == "inprocess":
            await self.jobs.start()
        else:
            self.worker = self.stack.start_worker(**worker_env)

    async def stop_consuming(self) -> None:
        if self.kind == "inprocess":
            await self.jobs.stop()
        elif self.worker is not None:
            assert self.worker.stop() == 0, self.worker.log_tail()
            self.worker = None

    async def settle(self, doc_ids: Sequence[str], timeout: float = 120) -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            if self.worker is not None:
                assert self.worker.alive(), self.worker.log_tail()
            docs = {d.id: d for d in await documents(self.container) if d.id in doc_ids}
            if not all(d.status in ("ready", "failed") for d in docs.values()):
                return None
            # The attempt records its job row just after the document's last transition.
            for doc_id in docs:
                if any(j.status == "running" for j in await jobs_of(self.container, doc_id)):
                    return None
            return docs

        result: dict[str, Any] = await wait_for(done, timeout=timeout, interval=0.25,
                                                what="documents to finish",
                                                on_timeout=self.stack.worker_logs)
        return result


@pytest.fixture(params=["inprocess", "arq"])
async def harness(request: pytest.FixtureRequest, stack: Stack) -> AsyncIterator[Harness]:
    # One job at a time, so "the next document" really runs after the previous one.
    settings = stack.settings.model_copy(update={"job_backend": request.param, "job_concurrency": 1})
    stack.env["CITEWISE_JOB_CONCURRENCY"] = "1"
    container = await start_container(settings)
    kind = request.param
    expected = InProcessJobQueue if kind == "inprocess" else ArqJobQueue
    assert isinstance(container.jobs, expected)
    if kind == "arq":
        await container.jobs.start()  # the API side: a Redis pool, no consumer
    h = Harness(kind, stack, container)
    try:
        yield h
    finally:
        await h.stop_consuming()
        if kind == "arq":
            await container.jobs.stop()
        await container.aclose()


async def test_enqueue_is_idempotent_and_a_broken_file_fails_alone(
        harness: Harness, tmp_path: Path) -> None:
    owner = await add_user(harness.container)
    broken = await add_document(harness.container, owner, testdocs.damaged_pdf(tmp_path / "damaged.pdf"))
    first = await add_document(harness.container, owner, testdocs.notes_docx(tmp_path / "notes.docx"))
    second = await add_document(harness.container, owner, testdocs.markdown_table(tmp_path / "table.md"))
    assert await harness.jobs.queue_depth() == 0
    await harness.jobs.enqueue_ingest(broken)
    # ARQ orders its queue by enqueue time in milliseconds and breaks ties by job id: without a
    # tick between them, a job enqueued in the same millisecond may run before the broken one.
    await asyncio.sleep(0.01)
    for _ in range(3):
        await harness.jobs.enqueue_ingest(first)
    assert await harness.jobs.queue_depth() == 2
    await harness.jobs.enqueue_ingest(second)
    await harness.jobs.enqueue_ingest(first)
    assert await harness.jobs.queue_depth() == 3

    await harness.consume()
    docs = await harness.settle([broken, first, second])
    # A permanent failure fails at once (no retry), with the message the user will read ...
    assert docs[broken].status == "failed"
    assert docs[broken].error == DAMAGED
    assert docs[broken].attempts == 1
    assert [(j.status, j.error) for j in await jobs_of(harness.container, broken)] == [
        ("failed", DAMAGED)]
    # ... and the worker goes on with the next documents, each processed exactly once.
    for doc_id in (first, second):
        assert docs[doc_id].status == "ready", docs[doc_id].error
        assert docs[doc_id].finished_at >= docs[broken].finished_at
        jobs = await jobs_of(harness.container, doc_id)
        assert [(j.attempt, j.status) for j in jobs] == [(1, "succeeded")]
        assert docs[doc_id].attempts == 1
    # ARQ drops a finished job from its queue just after the task returns (the DB is updated first).
    await wait_for(_queue_empty(harness), timeout=10, what="the queue to empty")
    if harness.worker is not None:
        assert harness.worker.alive()


def _queue_empty(harness: Harness) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(await harness.jobs.queue_depth() == 0)

    return check


async def _retrying(harness: Harness, doc_id: str) -> bool:
    return "retrying" in [j.status for j in await jobs_of(harness.container, doc_id)]


async def test_transient_failure_is_retried_then_succeeds(
        harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await add_user(harness.container)
    doc_id = await add_document(harness.container, owner, testdocs.simple_rtf(tmp_path / "letter.rtf"))
    if harness.kind == "inprocess":
        vectors = harness.container.vectors
        real_upsert = vectors.upsert
        calls = 0

        async def flaky_upsert(collection: str, records: Sequence[VectorRecord]) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise VectorStoreError("Chroma unreachable: connection refused", transient=True)
            await real_upsert(collection, records)

        monkeypatch.setattr(vectors, "upsert", flaky_upsert)
        await harness.jobs.enqueue_ingest(doc_id)
        await harness.consume()
        await wait_for(lambda: _retrying(harness, doc_id), timeout=60,
                       what="the first attempt to be marked for retry")
        docs = await harness.settle([doc_id])
    else:
        # The worker starts while its Chroma server is down; the server comes up after the first
        # attempt failed, and a retry (deferred by ARQ) finishes the job.
        port = free_port()
        await harness.jobs.enqueue_ingest(doc_id)
        await harness.consume(CITEWISE_CHROMA_URL=f"http://127.0.0.1:{port}")
        await wait_for(lambda: _retrying(harness, doc_id), timeout=120,
                       what="the first attempt to be marked for retry",
                       on_timeout=harness.stack.worker_logs)
        with chroma_server(harness.stack.tmp / "late-chroma", port):
            docs = await harness.settle([doc_id])
    doc = docs[doc_id]
    assert doc.status == "ready", doc.error
    assert doc.error is None and doc.chunk_count > 0 and doc.retry_since is None
    # Each retry gives its attempt back (an outage does not use up the attempts budget), so
    # every try ran as attempt 1; the job rows record each of them.
    assert doc.attempts == 1
    jobs = await jobs_of(harness.container, doc_id)
    assert len(jobs) >= 2
    assert [(j.attempt, j.status) for j in jobs] == [
        *((1, "retrying") for _ in jobs[:-1]), (1, "succeeded")]
    assert jobs[0].error and "Chroma" in jobs[0].error
