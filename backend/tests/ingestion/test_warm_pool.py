"""Warm extraction hosts: one fresh, limited child per document, and a pool that recovers."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.ingestion.types import ExtractionError, ExtractionLimits
from app.ingestion.warm_pool import HostPool
from tests import docgen


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated documents: a small table, a two-page PDF, two longer PDFs and a costly one."""
    folder = tmp_path_factory.mktemp("warm-pool")
    return {
        "table": docgen.markdown_table(folder / "table.md"),
        "two": docgen.pdf(folder / "two.pdf", ["First page.", "Second page."]),
        "long": docgen.pdf(folder / "long.pdf", docgen.paragraphs(7, 40, sentences=12)),
        "short": docgen.pdf(folder / "short.pdf", docgen.paragraphs(8, 12, sentences=12)),
        "costly": docgen.heavy_pdf(folder / "costly.pdf"),
    }


@pytest.fixture
def pool() -> Iterator[HostPool]:
    p = HostPool()
    yield p
    p.close()


def children(pid: int) -> list[int]:
    """Live children of ``pid`` (from /proc: every thread's children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(x) for x in text]
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


async def test_one_host_serves_many_documents_each_in_its_own_child(
    pool: HostPool, files: dict[str, Path]
) -> None:
    md = files["table"]
    for _ in range(3):
        doc = await pool.extract(md, "markdown", ExtractionLimits())
        assert doc.blocks
    assert pool.started == 1
    (host,) = pool.idle_pids()
    assert children(host) == []  # every document's child has exited and was reaped


async def test_timeout_kills_the_child_and_the_host_goes_on(pool: HostPool, files: dict[str, Path]) -> None:
    await pool.extract(files["table"], "markdown", ExtractionLimits())
    (host,) = pool.idle_pids()
    with pytest.raises(ExtractionError, match=re.escape("took longer than 0.3 seconds")) as info:
        await pool.extract(files["costly"], "pdf", ExtractionLimits(timeout_seconds=0.3))
    assert info.value.permanent
    assert pool.idle_pids() == [host] and children(host) == []
    # The next document gets the full default limits again, in a new child of the same host.
    doc = await pool.extract(files["two"], "pdf", ExtractionLimits())
    assert doc.page_count == 2
    assert pool.started == 1


async def test_memory_limit_is_per_document(pool: HostPool, files: dict[str, Path]) -> None:
    with pytest.raises(ExtractionError) as info:
        await pool.extract(files["costly"], "pdf",
                           ExtractionLimits(memory_limit_bytes=64 * 1024**2))
    assert "memory" in info.value.message and info.value.permanent
    # The same host, with a normal limit: the small limit died with its child.
    doc = await pool.extract(files["two"], "pdf", ExtractionLimits())
    assert doc.page_count == 2
    assert pool.started == 1


async def test_a_dead_idle_host_is_replaced(pool: HostPool, files: dict[str, Path]) -> None:
    md = files["table"]
    await pool.extract(md, "markdown", ExtractionLimits())
    (host,) = pool.idle_pids()
    os.kill(host, signal.SIGKILL)
    while alive(host):  # until the kernel has delivered the signal
        os.sched_yield()
    doc = await pool.extract(md, "markdown", ExtractionLimits())
    assert doc.blocks
    assert pool.started == 2 and pool.idle_pids() != [host]


async def test_a_host_dying_mid_document_fails_it_as_retryable(
    pool: HostPool, files: dict[str, Path]
) -> None:
    await pool.extract(files["table"], "markdown", ExtractionLimits())
    (host,) = pool.idle_pids()

    def kill_host(done: int, total: int, stage: str) -> None:
        os.killpg(host, signal.SIGKILL)  # the host and the child reading the file

    with pytest.raises(ExtractionError, match="try again later") as info:
        await pool.extract(files["long"], "pdf", ExtractionLimits(), kill_host)
    assert not info.value.permanent
    # The Jobs view says what became of the host (not the owner: `detail` is for administrators).
    assert info.value.detail == (f"extraction host {host}: the extraction host died; "
                                 "the host was killed by SIGKILL")
    assert pool.idle_pids() == []
    doc = await pool.extract(files["two"], "pdf", ExtractionLimits())
    assert doc.page_count == 2 and pool.started == 2


async def test_concurrent_documents_get_their_own_hosts(pool: HostPool, files: dict[str, Path]) -> None:
    import asyncio

    docs = await asyncio.gather(
        pool.extract(files["long"], "pdf", ExtractionLimits()),
        pool.extract(files["short"], "pdf", ExtractionLimits()),
    )
    assert [d.page_count for d in docs] == [40, 12]
    assert pool.started == 2 and len(pool.idle_pids()) == 2


def test_a_reply_larger_than_the_pipe_is_read_whole_on_uvloop(pool: HostPool, tmp_path: Path) -> None:
    # `citewise serve` runs on uvloop, which made the pipe from the host non-blocking once it had
    # waited on it: a document whose extracted text outgrew the pipe's buffer (a 113-page manual)
    # then failed every attempt with "The document reader failed" (BlockingIOError inside).
    import uvloop

    big = tmp_path / "big.md"
    paragraphs = [f"Paragraph {i}: " + "the keeper trims the lamp wick at dusk. " * 15
                  for i in range(3000)]
    big.write_text("\n\n".join(paragraphs), encoding="utf-8")
    # A fresh host: its reply is not there at the first look, so the pipe is waited on.
    doc = uvloop.run(pool.extract(big, "markdown", ExtractionLimits()))
    text = "\n".join(block.text for block in doc.blocks)
    assert len(text) > 1_000_000 and "Paragraph 2999:" in text
