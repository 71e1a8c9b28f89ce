"""The embedded job runner's idle upkeep: steps run only while no job is queued or running, stop
when one arrives, resume at the next idle time; a failed step never stops the runner. End to end,
documents ingested on SQLite leave the FTS5 index merged into one segment."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from httpx import AsyncClient

from app.providers.jobs.inprocess import InProcessJobQueue
from tests.api.helpers import upload_bytes, wait_done
from tests.conftest import register
from tests.providers.test_keyword_index import segment_count


async def settle(condition: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_upkeep_runs_only_when_idle_and_stops_for_a_new_job() -> None:
    done: list[str] = []
    steps: list[frozenset[str]] = []  # what was pending at each step
    queue: InProcessJobQueue

    async def handler(document_id: str, _request_id: str | None) -> float | None:
        await asyncio.sleep(0.02)
        done.append(document_id)
        return None

    async def step() -> bool:
        steps.append(frozenset(queue._pending))
        if len(steps) == 2:  # a job arrives during a step: upkeep stops after it
            await queue.enqueue_ingest("late")
        return len(steps) >= 4

    queue = InProcessJobQueue(handler, concurrency=2, on_idle=step)
    await queue.start()
    try:
        for doc in ("a", "b", "c"):
            await queue.enqueue_ingest(doc)
        await settle(lambda: len(steps) >= 4)
        await queue.join()
        await asyncio.sleep(0.05)  # nothing more is due: the fourth step reported the work done
    finally:
        await queue.stop()
    assert sorted(done) == ["a", "b", "c", "late"]
    assert len(steps) == 4
    assert steps[0] == frozenset() and steps[1] == frozenset()
    # The late job ran before the upkeep went on: it was pending when its step ended, then done.
    assert done.index("late") == 3 and steps[2] == frozenset() and steps[3] == frozenset()


async def test_a_failed_step_is_logged_and_the_runner_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []
    calls = 0

    async def handler(document_id: str, _request_id: str | None) -> float | None:
        done.append(document_id)
        return None

    async def step() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk full")
        return True

    queue = InProcessJobQueue(handler, concurrency=1, on_idle=step)
    await queue.start()
    try:
        with caplog.at_level(logging.ERROR, logger="citewise.jobs"):
            await queue.enqueue_ingest("a")
            await settle(lambda: calls == 1)
            await queue.enqueue_ingest("b")
            await settle(lambda: calls == 2)
    finally:
        await queue.stop()
    assert done == ["a", "b"]
    assert any("idle upkeep failed" in r.getMessage() for r in caplog.records)


async def test_ingested_documents_leave_one_keyword_segment(api_app: Any, client: AsyncClient) -> None:
    await register(client)
    for i in range(6):  # each document its own commits: segments to merge
        sent = await upload_bytes(client, f"notes-{i}.txt", f"Report {i} on pumps, valves and "
                                  f"the service interval number {i}.".encode())
        assert (await wait_done(client, sent["documents"][0]["id"]))["status"] == "ready"
    container = api_app.state.container
    if container.engine.dialect.name != "sqlite":
        async with container.sessions() as session:
            assert await container.keywords.compact(session, pages=1) is True  # nothing to merge
        return

    async def segments() -> int:
        async with container.sessions() as session:
            return await segment_count(session)

    deadline = asyncio.get_running_loop().time() + 30
    while await segments() != 1:
        assert asyncio.get_running_loop().time() < deadline, "the index was never merged"
        await asyncio.sleep(0.05)
    r = await client.post("/api/v1/search", json={"query": "service interval"})
    assert r.status_code == 200 and len(r.json()["results"]) == 6
