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

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import utcnow
from app.core.metrics import JOB_STAGE_SECONDS, JOBS_TOTAL
from app.documents import lifecycle, scheduling
from app.documents import repository as repo
from app.documents.models import Document
from app.documents.vectors import chunk_id, vector_record
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
    detail: str = ""  # what the document's owner reads (failed) or a summary (ready, skipped)
    timings: dict[str, float] = field(default_factory=dict)
    retry_delay: float = 0.0  # for "retry": seconds until the next try
    admin_detail: str | None = None  # the technical cause, for the Jobs view only
    recorded: bool = False  # the job row already holds this outcome (written with mark_ready)


# What the owner of a document reads when the cause is on the server's side; the cause itself goes
# to the job's error in the admin Jobs view.
SERVICE_DOWN = ("A service needed to index this document was unavailable. "
                "Nothing is wrong with the file: use Retry later.")
SERVER_ERROR = ("Processing stopped because of an error on the server. "
                "Use Retry later; if it keeps failing, tell your administrator.")
WILL_RETRY = "A temporary problem interrupted processing; it will be tried again automatically."


class ProgressReporter:
    """Writes stage/progress (and renews the lease) at most every half second.

    The claim has just written stage "extracting" and a fresh lease, so the half second counts
    from now: a small document that is extracted and chunked within it writes no progress of its
    own before its chunk rows (whose transaction moves it to "embedding", see ``written``)."""

    def __init__(self, container: Container, lease: lifecycle.Lease) -> None:
        self._c = container
        self._lease = lease
        self._doc = lease.document_id
        self._last = time.monotonic()
        self.lease_for = timedelta(seconds=container.settings.job_lease_seconds)

    def written(self) -> None:
        """Progress and lease were just written by the caller's own transaction."""
        self._last = time.monotonic()

    async def report(self, stage: str, progress: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        async with self._c.sessions() as session:
            applied = await lifecycle.report_progress(session, self._lease, stage=stage,
                                                      progress=progress, lease_for=self.lease_for)
            await session.commit()
        if not applied:  # deleted, reset, or the lease went to another attempt
            raise DocumentGone(self._doc)

    async def keep_lease(self) -> None:
        """Renew the lease while the attempt runs. Progress alone is not enough: one embedding
        batch or a long extraction can outlast the lease, and the reconciler would then hand a
        live attempt to a second worker."""
        interval = max(1.0, self.lease_for.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._c.sessions() as session:
                    await lifecycle.renew_lease(session, self._lease, lease_for=self.lease_for)
                    await session.commit()
            except Exception:  # a database hiccup; the next round (or a progress report) renews
                log.warning("lease renewal failed", extra={"document_id": self._doc}, exc_info=True)


async def process_document(
    container: Container, document_id: str, *, worker: str = "", request_id: str | None = None
) -> Outcome:
    """Run one job: claim the document whose turn it is (fair across owners; `document_id`, the
    job's own document, is only where the job came from) and process it."""
    settings = container.settings
    async with container.sessions() as session:
        claimed = await scheduling.claim_next(
            session,
            document_id,
            max_attempts=settings.job_max_attempts,
            lease_for=timedelta(seconds=settings.job_lease_seconds),
            worker=worker,
            request_id=request_id,
        )
        await session.commit()
    if claimed is None:
        return Outcome("skipped", "nothing to claim (taken, finished, deleted or out of attempts)")
    doc, lease = claimed.document, claimed.lease
    document_id = doc.id

    started = time.monotonic()
    timings: dict[str, float] = {}
    progress = ProgressReporter(container, lease)
    keeper = asyncio.create_task(progress.keep_lease(), name=f"lease-{document_id}")

    async def stop_keeper() -> None:  # before the attempt's last write: nothing renews after it
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper

    try:
        try:
            outcome = await _run(container, doc, lease, progress, timings,
                                 job_id=claimed.job_id, started=started)
        finally:
            await stop_keeper()
    except asyncio.CancelledError:
        # The worker is shutting down (its grace period is over): hand the document back now
        # rather than leave it `processing` until its lease expires.
        await asyncio.shield(_release(container, lease, claimed.job_id, started))
        raise
    except DocumentGone:
        if await _taken_over(container, lease):
            # Another attempt holds (or finished) this version: its vectors have these same ids.
            outcome = Outcome("skipped", "another attempt took over this document")
        else:  # deleted, canceled or reprocessed: keep only what search still serves
            await _cleanup_vectors(container, doc, keep_version=await _searchable(container, doc.id))
            outcome = Outcome("skipped", "document deleted, canceled or reset during processing")
    except ExtractionError as exc:
        outcome = await _fail_or_retry(container, doc, lease, exc.message,
                                       transient=not exc.permanent, retryable=exc.retryable,
                                       admin_detail=exc.detail)
    except (VectorStoreError, EmbeddingError) as exc:
        transient = getattr(exc, "transient", False)
        outcome = await _fail_or_retry(container, doc, lease, SERVICE_DOWN if transient else str(exc),
                                       transient=transient, retryable=transient,
                                       admin_detail=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a bug or a database outage must fail this document, never the worker
        log.exception("ingestion crashed", extra={"document_id": doc.id})
        outcome = await _fail_or_retry(container, doc, lease, SERVER_ERROR, transient=True,
                                       retryable=True,
                                       admin_detail=f"{type(exc).__name__}: {exc}"[:1000])
    if not outcome.recorded:
        outcome.timings = {**timings, "total": round(time.monotonic() - started, 3)}
    JOBS_TOTAL.labels(outcome=outcome.status).inc()
    for stage in ("extract", "chunk", "embed", "index"):
        if stage in timings:
            JOB_STAGE_SECONDS.labels(stage=stage).observe(timings[stage])
    if not outcome.recorded:
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
        raise TransientFailure(outcome.detail, delay=outcome.retry_delay)
    return outcome


def retry_delay(settings: Settings, failing_for: float) -> float:
    """Seconds until the next try, for a document that has been failing for `failing_for` s.

    Waiting as long again as it has been failing doubles the delay each time (base, base, 2·base,
    4·base, …), capped at `job_retry_max_delay_seconds`."""
    return min(settings.job_retry_max_delay_seconds,
               max(settings.job_retry_base_seconds, failing_for))


async def _run(
    container: Container, doc: Document, lease: lifecycle.Lease, progress: ProgressReporter,
    timings: dict[str, float], *, job_id: str, started: float,
) -> Outcome:
    settings = container.settings
    runtime = await container.runtime.current()
    max_chars, reason = text_limit(settings, doc.size_bytes)
    limits = ExtractionLimits(
        max_pages=runtime.uploads.max_pages,
        timeout_seconds=settings.extraction_timeout_seconds,
        memory_limit_bytes=settings.extraction_memory_mb * 1024 * 1024,
        ocr_enabled=settings.ocr_enabled,
        ocr_engine=settings.ocr_engine,
        ocr_languages=settings.ocr_languages,
        ocr_dpi=settings.ocr_dpi,
        ocr_threads=settings.ocr_threads,
        ocr_max_pages=settings.ocr_max_pages,
        ocr_page_seconds=settings.ocr_page_timeout_seconds,
        max_chars=max_chars,
        max_chars_reason=reason,
    )

    # 1. Extract (in a sandboxed child process). The claim set stage "extracting", progress 0.
    t = time.monotonic()
    pending: set[asyncio.Task[None]] = set()

    def on_page(done: int, total: int, stage: str) -> None:  # on the event loop, from the sandbox
        # A scanned document's pages are read twice: their (empty) text layer in milliseconds, then
        # the page images by OCR in seconds each; the OCR pass reports as stage "ocr" over the band.
        if pending and not (stage == "ocr" and done == total):
            return  # the previous update is still being written; the next page will catch up
        pct = EXTRACT_BAND[0] + (EXTRACT_BAND[1] - EXTRACT_BAND[0]) * done // max(total, 1)
        task = asyncio.create_task(progress.report(stage, pct, force=stage == "ocr"))
        pending.add(task)
        task.add_done_callback(pending.discard)

    extracted = await extract_isolated(container.files.path(doc.storage_key), doc.kind, limits, on_page)
    await asyncio.gather(*pending, return_exceptions=True)
    timings["extract"] = round(time.monotonic() - t, 3)

    # 2. Chunk (CPU work, off the event loop) and store chunk rows for citations and keyword search.
    await progress.report("chunking", EXTRACT_BAND[1])
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
    try:
        await _write_chunks(container, doc, lease, progress, rows, page_count)
    except IntegrityError:
        # A delete that committed just before the insert: the rows' foreign key fails.
        async with container.sessions() as session:
            if await lifecycle.current_version(session, doc.id) is not None:
                raise
        raise DocumentGone(doc.id) from None
    progress.written()
    timings["chunk"] = round(time.monotonic() - t, 3)

    # 3. Embed and upsert in batches, into every target index (two during a re-index).
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

    # 4. Index: verify, flip to ready (search swaps to this version), then drop older versions.
    # Until the flip, search serves the previous version (a reprocess stays searchable).
    await progress.report("indexing", EMBED_BAND[1])
    t = time.monotonic()
    older = False  # whether vectors of other versions of this document are left to delete
    for target in targets:
        stored, others = await _stored_vectors(container, target.collection, doc)
        older = older or others > 0
        if stored != len(rows):
            raise VectorStoreError(
                f"The vector index holds {stored} of {len(rows)} passages; retrying.", transient=True
            )
    timings["index"] = round(time.monotonic() - t, 3)
    final = {**timings, "total": round(time.monotonic() - started, 3)}
    async with container.sessions() as session:
        ready = await lifecycle.mark_ready(session, lease, chunk_count=len(rows), page_count=page_count,
                                           embedding_collection=targets[0].collection, timings=timings)
        if ready:
            await repo.replace_chunks(session, doc.id, [], keep_version=doc.version)
            # The attempt's job row in the same transaction: one commit fewer per document.
            await lifecycle.finish_job(session, job_id, status="succeeded", error=None,
                                       duration_ms=int(final["total"] * 1000), stage_timings=final)
        await session.commit()
    if not ready:
        raise DocumentGone(doc.id)
    if older:  # a first version (most documents) has nothing to clean up: skip the store's query
        await _cleanup_vectors(container, doc, keep_version=doc.version)
    return Outcome("ready", f"{len(rows)} chunks from {page_count} pages", timings=final,
                   recorded=True)


async def _write_chunks(container: Container, doc: Document, lease: lifecycle.Lease,
                        progress: ProgressReporter, rows: list[dict[str, Any]],
                        page_count: int) -> None:
    async with container.sessions() as session:
        await _check_chunk_limits(session, container.settings, doc, len(rows))
        await repo.replace_chunks(session, doc.id, rows, keep_version=doc.searchable_version)
        await session.execute(
            update(Document).where(Document.id == doc.id).values(page_count=page_count)
        )
        # In the same transaction: a document canceled, deleted or reset meanwhile gets no rows;
        # and the stage moves to "embedding" before the first batch (on small documents that
        # batch is all the work) without a transaction of its own.
        if not await lifecycle.report_progress(session, lease, stage="embedding",
                                               progress=EMBED_BAND[0], lease_for=progress.lease_for):
            await session.rollback()
            raise DocumentGone(doc.id)
        await session.commit()


async def _stored_vectors(container: Container, collection: str, doc: Document) -> tuple[int, int]:
    """(vectors of this version, vectors of other versions) of ``doc`` in ``collection``, from one
    listing of the document's vector ids: they are ``{document_id}:{version}:{n}`` (`chunk_id`)."""
    ids = await container.vectors.ids(collection, scope=VectorScope.of_document(doc.owner_id, doc.id))
    prefix = f"{doc.id}:{doc.version}:"
    stored = sum(1 for i in ids if i.startswith(prefix))
    return stored, len(ids) - stored


def text_limit(settings: Settings, size_bytes: int) -> tuple[int, str]:
    """How many characters a file of `size_bytes` may give, and the setting that says so: the
    absolute `max_document_chars`, or less for a small file that would expand far beyond its size
    (a few KB of PDF whose pages share one dense content stream)."""
    by_size = max(settings.chars_allowance, int(size_bytes * settings.max_chars_per_file_byte))
    if by_size < settings.max_document_chars:
        return by_size, (f" for a file of this size (CITEWISE_MAX_CHARS_PER_FILE_BYTE = "
                         f"{settings.max_chars_per_file_byte:g} characters per byte)")
    return settings.max_document_chars, " (CITEWISE_MAX_DOCUMENT_CHARS)"


async def _check_chunk_limits(session: AsyncSession, settings: Settings, doc: Document,
                              chunks: int) -> None:
    """Fail before any embedding when the document, or its owner's documents together, would
    exceed what indexing may cost."""
    if chunks > settings.max_document_chunks:
        raise ExtractionError(
            f"This file would be split into {chunks:,} passages, more than the limit of "
            f"{settings.max_document_chunks:,} passages per document (CITEWISE_MAX_DOCUMENT_CHUNKS). "
            "Split it into smaller files, or ask an administrator to raise the limit.")
    others = await repo.chunks_used(session, doc.owner_id, excluding=doc.id)
    if others + chunks > settings.user_quota_chunks:
        raise ExtractionError(
            f"Indexing this file ({chunks:,} passages) would exceed your quota of "
            f"{settings.user_quota_chunks:,} indexed passages (CITEWISE_USER_QUOTA_CHUNKS); "
            f"your other documents use {others:,}. Delete documents you no longer need.")


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
        "id": chunk_id(doc.id, doc.version, d.n),
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


async def _searchable(container: Container, document_id: str) -> int | None:
    async with container.sessions() as session:
        stmt = select(Document.searchable_version).where(Document.id == document_id)
        return (await session.execute(stmt)).scalar_one_or_none()


async def _taken_over(container: Container, lease: lifecycle.Lease) -> bool:
    async with container.sessions() as session:
        return await lifecycle.current_version(session, lease.document_id) == lease.version


async def _fail_or_retry(container: Container, doc: Document, lease: lifecycle.Lease, message: str,
                         *, transient: bool, retryable: bool, admin_detail: str | None) -> Outcome:
    """``message`` is for the document's owner, ``admin_detail`` for the Jobs view (with it)."""
    settings = container.settings
    now = utcnow()
    failing_for = (now - doc.retry_since).total_seconds() if doc.retry_since else 0.0
    retry = transient and failing_for < settings.job_retry_window_seconds
    delay = retry_delay(settings, failing_for)
    if transient and not retry:
        message = f"{message} (gave up after retrying for {round(failing_for / 60)} min)"
    async with container.sessions() as session:
        if retry:
            applied = await lifecycle.retry_later(session, lease, error=WILL_RETRY,
                                                  delay=timedelta(seconds=delay), now=now)
        else:
            applied = await lifecycle.mark_failed(session, lease, error=message,
                                                  retryable=retryable, now=now)
        await session.commit()
    if not applied:  # deleted, reset, or the lease went to another attempt meanwhile
        return Outcome("skipped", f"document deleted or reset during processing ({message})",
                       admin_detail=admin_detail)
    if not retry:
        await purge_failed_vectors(container, doc)
    return Outcome("retry" if retry else "failed", message, admin_detail=admin_detail,
                   retry_delay=delay if retry else 0.0)


async def purge_failed_vectors(container: Container, doc: Document) -> bool:
    """Delete every vector of a `failed` document and clear its purge flag. False when the vector
    store is unreachable: the flag stays and the reconciler tries again."""
    try:
        await _cleanup_vectors(container, doc, keep_version=None)
    except VectorStoreError as exc:
        log.warning("vectors of a failed document not purged yet",
                    extra={"document_id": doc.id, "error": str(exc)})
        return False
    async with container.sessions() as session:
        await lifecycle.purged(session, doc.id, version=doc.version)
        await session.commit()
    return True


async def _release(container: Container, lease: lifecycle.Lease, job_id: str, started: float) -> None:
    try:
        async with container.sessions() as session:
            released = await lifecycle.release(session, lease)
            await lifecycle.finish_job(session, job_id, status="interrupted",
                                       error=lifecycle.RELEASED_ERROR,
                                       duration_ms=int((time.monotonic() - started) * 1000),
                                       stage_timings={})
            await session.commit()
    except Exception:  # the database is away too: the lease expires and the reconciler requeues
        log.warning("could not hand the document back", extra={"document_id": lease.document_id},
                    exc_info=True)
        return
    log.info("document handed back at shutdown",
             extra={"document_id": lease.document_id, "released": released})


_JOB_STATUS: dict[OutcomeStatus, lifecycle.JobStatus] = {
    "ready": "succeeded", "retry": "retrying", "failed": "failed", "skipped": "skipped"}


async def _record_job(container: Container, job_id: str, outcome: Outcome) -> None:
    status = _JOB_STATUS[outcome.status]
    error = None
    if outcome.status in ("failed", "retry"):  # the admin reads the owner's message and the cause
        error = "\n".join(filter(None, (outcome.detail, outcome.admin_detail)))
    async with container.sessions() as session:
        await lifecycle.finish_job(
            session, job_id, status=status, error=error,
            duration_ms=int(outcome.timings.get("total", 0) * 1000), stage_timings=outcome.timings)
        await session.commit()
