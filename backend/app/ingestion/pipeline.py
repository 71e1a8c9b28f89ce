"""THE ingestion pipeline, top to bottom: claim → extract → chunk → embed → index → ready.

Runs under ARQ workers and the in-process runner alike (see app/workers/registry.py). Jobs are
at-least-once, so every step is idempotent: chunk ids are `{document_id}:{version}:{n}`, vectors are
upserted, and whatever an older version left behind is deleted at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import update

from app.core.metrics import JOB_STAGE_SECONDS, JOBS_TOTAL
from app.documents import lifecycle
from app.documents import repository as repo
from app.documents.models import Document
from app.documents.vectors import vector_record
from app.ingestion.chunking import ChunkDraft, chunk_blocks
from app.ingestion.embedding_text import embedding_text
from app.ingestion.sandbox import extract_isolated
from app.ingestion.types import ExtractionError, ExtractionLimits
from app.platform.container import Container
from app.providers.embeddings.base import EmbeddingError
from app.providers.vectorstore.base import VectorScope, VectorStoreError

log = logging.getLogger("citewise.ingestion")

# Texts per embedding call: one progress update (and one vector upsert) per call. The calls take a
# document's chunks in order of length (see embedding_order), so each call pads as little as one
# call over the whole document would: the call size only sets how often progress moves.
EMBED_BATCH = 64
# Progress bands per stage; embedding dominates the time on real documents.
EXTRACT_BAND = (0, 30)
EMBED_BAND = (35, 95)


class TransientFailure(Exception):
    """The attempt failed for a reason that may pass (vector store down...). Retry later."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class DocumentGone(Exception):
    """The document was deleted or reset while we worked on it; stop quietly."""


OutcomeStatus = Literal["ready", "failed", "skipped", "retry"]


@dataclass
class Outcome:
    status: OutcomeStatus
    detail: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class ProgressReporter:
    """Writes stage/progress (and renews the lease) at most every half second."""

    def __init__(self, container: Container, lease: lifecycle.Lease) -> None:
        self._c = container
        self._lease = lease
        self._doc = lease.document_id
        self._last = 0.0
        self._lease_for = timedelta(seconds=container.settings.job_lease_seconds)

    async def report(self, stage: str, progress: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        async with self._c.sessions() as session:
            applied = await lifecycle.report_progress(session, self._lease, stage=stage,
                                                      progress=progress, lease_for=self._lease_for)
            await session.commit()
        if not applied:  # deleted, reset, or the lease went to another attempt
            raise DocumentGone(self._doc)

    async def keep_lease(self) -> None:
        """Renew the lease while the attempt runs. Progress alone is not enough: one embedding
        batch or a long extraction can outlast the lease, and the reconciler would then hand a
        live attempt to a second worker."""
        interval = max(1.0, self._lease_for.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._c.sessions() as session:
                    await lifecycle.renew_lease(session, self._lease, lease_for=self._lease_for)
                    await session.commit()
            except Exception:  # a database hiccup; the next round (or a progress report) renews
                log.warning("lease renewal failed", extra={"document_id": self._doc}, exc_info=True)


async def process_document(
    container: Container, document_id: str, *, worker: str = "", request_id: str | None = None
) -> Outcome:
    settings = container.settings
    async with container.sessions() as session:
        claimed = await lifecycle.claim(
            session,
            document_id,
            max_attempts=settings.job_max_attempts,
            lease_for=timedelta(seconds=settings.job_lease_seconds),
            worker=worker,
            request_id=request_id,
        )
        await session.commit()
    if claimed is None:
        return Outcome("skipped", "not claimable (already taken, finished, deleted or out of attempts)")
    doc, lease = claimed.document, claimed.lease

    started = time.monotonic()
    timings: dict[str, float] = {}
    progress = ProgressReporter(container, lease)
    keeper = asyncio.create_task(progress.keep_lease(), name=f"lease-{document_id}")
    try:
        outcome = await _run(container, doc, lease, progress, timings)
    except DocumentGone:
        if await _taken_over(container, lease):
            # Another attempt holds (or finished) this version: its vectors have these same ids.
            outcome = Outcome("skipped", "another attempt took over this document")
        else:
            await _cleanup_vectors(container, doc, keep_version=None)
            outcome = Outcome("skipped", "document deleted during processing")
    except ExtractionError as exc:
        outcome = await _fail_or_retry(container, lease, exc.message, transient=not exc.permanent)
    except (VectorStoreError, EmbeddingError) as exc:
        outcome = await _fail_or_retry(container, lease, str(exc), transient=getattr(exc, "transient", False))
    except Exception as exc:  # a bug must fail this document, never the worker
        log.exception("ingestion crashed", extra={"document_id": doc.id})
        outcome = await _fail_or_retry(
            container, lease, f"Processing failed unexpectedly ({type(exc).__name__}).", transient=True
        )
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    outcome.timings = {**timings, "total": round(time.monotonic() - started, 3)}
    JOBS_TOTAL.labels(outcome=outcome.status).inc()
    for stage in ("extract", "chunk", "embed", "index"):
        if stage in timings:
            JOB_STAGE_SECONDS.labels(stage=stage).observe(timings[stage])
    await _record_job(container, claimed.job_id, outcome)
    log.info(
        "ingestion finished",
        extra={
            "document_id": doc.id,
            "outcome": outcome.status,
            "detail": outcome.detail,
            "timings": outcome.timings,
        },
    )
    if outcome.status == "retry":
        raise TransientFailure(outcome.detail, delay=min(60.0, 5.0 * 2 ** (lease.attempt - 1)))
    return outcome


async def _run(
    container: Container, doc: Document, lease: lifecycle.Lease, progress: ProgressReporter,
    timings: dict[str, float],
) -> Outcome:
    settings = container.settings
    runtime = await container.runtime.current()
    limits = ExtractionLimits(
        max_pages=runtime.uploads.max_pages,
        timeout_seconds=settings.extraction_timeout_seconds,
        memory_limit_bytes=settings.extraction_memory_mb * 1024 * 1024,
        ocr_enabled=settings.ocr_enabled,
    )

    # 1. Extract (in a sandboxed child process).
    await progress.report("extracting", 0, force=True)
    t = time.monotonic()
    pending: set[asyncio.Task[None]] = set()

    def on_page(done: int, total: int) -> None:  # called on the event loop by the sandbox reader
        if pending:
            return  # the previous update is still being written; the next page will catch up
        pct = EXTRACT_BAND[0] + (EXTRACT_BAND[1] - EXTRACT_BAND[0]) * done // max(total, 1)
        task = asyncio.create_task(progress.report("extracting", pct))
        pending.add(task)
        task.add_done_callback(pending.discard)

    extracted = await extract_isolated(container.files.path(doc.storage_key), doc.kind, limits, on_page)
    await asyncio.gather(*pending, return_exceptions=True)
    timings["extract"] = round(time.monotonic() - t, 3)

    # 2. Chunk (CPU work, off the event loop) and store chunk rows for citations and keyword search.
    await progress.report("chunking", EXTRACT_BAND[1], force=True)
    t = time.monotonic()
    targets = await container.index.targets()
    counter = targets[0].embedder.count_tokens
    drafts: list[ChunkDraft] = await asyncio.to_thread(
        chunk_blocks,
        extracted.blocks,
        counter,
        max_tokens=settings.chunk_tokens,
        overlap_tokens=settings.chunk_overlap_tokens,
    )
    if not drafts:
        raise ExtractionError("No extractable text was found in this file.")
    page_count = extracted.page_count
    rows = [_chunk_row(doc, d) for d in drafts]
    async with container.sessions() as session:
        await repo.replace_chunks(session, doc.id, rows)
        await session.execute(
            update(Document).where(Document.id == doc.id).values(page_count=page_count)
        )
        await session.commit()
    timings["chunk"] = round(time.monotonic() - t, 3)

    # 3. Embed and upsert in batches, into every target index (two during a re-index).
    # Report the stage before the first batch: on small documents that batch is all the work.
    await progress.report("embedding", EMBED_BAND[0], force=True)
    t = time.monotonic()
    embed_seconds = 0.0
    del extracted, drafts  # the rows hold all that is still needed; free the rest now
    ordered = embedding_order(rows, counter)
    # Progress by tokens, not by chunks: short chunks come first and take less time each.
    total_tokens = sum(r["token_count"] + 1 for r in rows)
    done_tokens = 0
    for start in range(0, len(ordered), EMBED_BATCH):
        batch = ordered[start : start + EMBED_BATCH]
        texts = [embedding_text(r["heading_path"], r["text"]) for r in batch]
        for target in targets:
            te = time.monotonic()
            vectors = await target.embedder.embed_documents(texts)
            embed_seconds += time.monotonic() - te
            await container.vectors.upsert(
                target.collection,
                [
                    vector_record(chunk_id=r["id"], owner_id=r["owner_id"], document_id=r["document_id"],
                                  version=r["version"], n=r["n"], page_start=r["page_start"],
                                  page_end=r["page_end"], embedding=v)
                    for r, v in zip(batch, vectors, strict=True)
                ],
            )
        done_tokens += sum(r["token_count"] + 1 for r in batch)
        pct = EMBED_BAND[0] + (EMBED_BAND[1] - EMBED_BAND[0]) * done_tokens // total_tokens
        await progress.report("embedding", pct)
    timings["embed"] = round(embed_seconds, 3)
    timings["embed_and_upsert"] = round(time.monotonic() - t, 3)

    # 4. Index: drop what older versions left, verify, then flip to ready.
    await progress.report("indexing", EMBED_BAND[1], force=True)
    t = time.monotonic()
    await _cleanup_vectors(container, doc, keep_version=doc.version)
    for target in targets:
        stored = await container.vectors.count(
            target.collection, scope=VectorScope.of_document(doc.owner_id, doc.id))
        if stored != len(rows):
            raise VectorStoreError(
                f"The vector index holds {stored} of {len(rows)} passages; retrying.", transient=True
            )
    timings["index"] = round(time.monotonic() - t, 3)
    async with container.sessions() as session:
        ready = await lifecycle.mark_ready(session, lease, chunk_count=len(rows), page_count=page_count,
                                           embedding_collection=targets[0].collection, timings=timings)
        await session.commit()
    if not ready:
        raise DocumentGone(doc.id)
    return Outcome("ready", f"{len(rows)} chunks from {page_count} pages")


def embedding_order(rows: list[dict[str, Any]], count_tokens: Any) -> list[dict[str, Any]]:
    """``rows`` shortest embedded text first (token count of text + heading path).

    The embedder pads each of its model batches to the longest text in it and sorts only within
    one call; cutting calls from this order keeps texts of like length together across the whole
    document (measured: 64-chunk calls in document order cost ~10 % more model time than one call).
    """
    heading_tokens: dict[tuple[str, ...], int] = {}

    def length(row: dict[str, Any]) -> int:
        path = tuple(row["heading_path"])
        if path not in heading_tokens:
            heading_tokens[path] = count_tokens(" > ".join(path)) + 1 if path else 0
        return int(row["token_count"]) + heading_tokens[path]

    return sorted(rows, key=length)


def _chunk_row(doc: Document, d: ChunkDraft) -> dict[str, Any]:
    return {
        "id": f"{doc.id}:{doc.version}:{d.n}",
        "document_id": doc.id,
        "owner_id": doc.owner_id,
        "version": doc.version,
        "n": d.n,
        "text": d.text,
        "page_start": d.page_start,
        "page_end": d.page_end,
        "char_start": d.char_start,
        "char_end": d.char_end,
        "heading_path": list(d.heading_path),
        "token_count": d.tokens,
    }


async def _cleanup_vectors(container: Container, doc: Document, *, keep_version: int | None) -> None:
    scope = VectorScope.of_document(doc.owner_id, doc.id, exclude_version=keep_version)
    for target in await container.index.targets():
        await container.vectors.delete(target.collection, scope=scope)


async def _taken_over(container: Container, lease: lifecycle.Lease) -> bool:
    async with container.sessions() as session:
        return await lifecycle.current_version(session, lease.document_id) == lease.version


async def _fail_or_retry(container: Container, lease: lifecycle.Lease, message: str, *,
                         transient: bool) -> Outcome:
    retry = transient and lease.attempt < container.settings.job_max_attempts
    if not retry and transient:
        message = f"{message} (gave up after {lease.attempt} attempts)"
    async with container.sessions() as session:
        if retry:
            applied = await lifecycle.retry_later(
                session, lease, error=f"Temporary problem, will retry: {message}")
        else:
            applied = await lifecycle.mark_failed(session, lease, error=message)
        await session.commit()
    if not applied:  # deleted, reset, or the lease went to another attempt meanwhile
        return Outcome("skipped", f"document deleted or reset during processing ({message})")
    return Outcome("retry" if retry else "failed", message)


_JOB_STATUS: dict[OutcomeStatus, lifecycle.JobStatus] = {
    "ready": "succeeded", "retry": "retrying", "failed": "failed", "skipped": "skipped"}


async def _record_job(container: Container, job_id: str, outcome: Outcome) -> None:
    status = _JOB_STATUS[outcome.status]
    async with container.sessions() as session:
        await lifecycle.finish_job(
            session, job_id, status=status,
            error=outcome.detail if outcome.status in ("failed", "retry") else None,
            duration_ms=int(outcome.timings.get("total", 0) * 1000), stage_timings=outcome.timings)
        await session.commit()
