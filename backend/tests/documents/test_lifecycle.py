"""Every document lifecycle transition against real SQLite and PostgreSQL databases (built by the
migrations): it applies from the states it names, and changes nothing from any other state, for a
stale version, or for an attempt that no longer holds the lease."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import User
from app.documents import lifecycle
from app.documents.lifecycle import Lease
from app.documents.models import STATUSES, Chunk, Document, Job

Sessions = async_sessionmaker[AsyncSession]

NOW = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
LEASE = timedelta(seconds=60)
EXPIRED = NOW - timedelta(seconds=1)
LIVE = NOW + timedelta(seconds=30)
MAX = 3
OTHERS = {s: [o for o in STATUSES if o != s] for s in STATUSES}


@pytest.fixture
async def owner(sessions: Sessions) -> str:
    async with sessions() as s:
        user = User(email=f"lifecycle-{uuid.uuid4().hex[:12]}@example.com", password_hash="x")
        s.add(user)
        await s.commit()
        return user.id


async def add_doc(sessions: Sessions, owner: str, status: str, *, attempts: int = 1,
                  version: int = 1, lease: datetime | None = None, **extra: Any) -> Document:
    if status == "processing" and lease is None:
        lease = LIVE
    async with sessions() as s:
        doc = Document(owner_id=owner, filename="a.pdf", mime_type="application/pdf", kind="pdf",
                       size_bytes=10, content_hash=uuid.uuid4().hex, storage_key="k", status=status,
                       attempts=attempts, version=version, lease_expires_at=lease,
                       stage="embedding" if status == "processing" else None, progress=40,
                       updated_at=NOW - timedelta(hours=1), **extra)
        s.add(doc)
        await s.commit()
        return doc


async def load(sessions: Sessions, doc_id: str) -> Document:
    async with sessions() as s:
        doc = await s.get(Document, doc_id)
        assert doc is not None
        return doc


def snapshot(doc: Document) -> dict[str, Any]:
    return {c: getattr(doc, c) for c in Document.__table__.columns.keys()}


async def unchanged(sessions: Sessions, before: Document) -> bool:
    return snapshot(await load(sessions, before.id)) == snapshot(before)


async def run(sessions: Sessions, fn: Any, *args: Any, **kwargs: Any) -> Any:
    async with sessions() as s:
        result = await fn(s, *args, **kwargs)
        await s.commit()
        return result


async def jobs(sessions: Sessions, doc_id: str) -> list[Job]:
    async with sessions() as s:
        stmt = select(Job).where(Job.document_id == doc_id).order_by(Job.attempt)
        return list((await s.execute(stmt)).scalars())


# ---- claim -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "lease"), [("queued", None), ("processing", EXPIRED)])
async def test_claim_takes_queued_or_expired(sessions: Sessions, owner: str, status: str,
                                             lease: datetime | None) -> None:
    doc = await add_doc(sessions, owner, status, attempts=1, lease=lease, error="old",
                        finished_at=NOW - timedelta(days=1))
    claimed = await run(sessions, lifecycle.claim, doc.id, max_attempts=MAX, lease_for=LEASE,
                        worker="w:1", request_id="req-1", now=NOW)
    assert isinstance(claimed, lifecycle.Claimed)
    assert claimed.lease == Lease(document_id=doc.id, version=1, attempt=2)
    after = await load(sessions, doc.id)
    assert (after.status, after.stage, after.progress, after.error, after.attempts) == \
        ("processing", "extracting", 0, None, 2)
    assert after.lease_expires_at == NOW + LEASE and after.started_at == NOW
    assert after.finished_at is None and after.updated_at == NOW
    assert claimed.document.attempts == 2 and claimed.document.status == "processing"
    (job,) = await jobs(sessions, doc.id)
    assert (job.id, job.status, job.attempt, job.worker, job.request_id) == \
        (claimed.job_id, "running", 2, "w:1", "req-1")


@pytest.mark.parametrize(("status", "lease", "attempts"), [
    ("processing", LIVE, 1), ("ready", None, 1), ("failed", None, 1), ("queued", None, MAX),
    ("processing", EXPIRED, MAX)])
async def test_claim_refuses(sessions: Sessions, owner: str, status: str, lease: datetime | None,
                             attempts: int) -> None:
    doc = await add_doc(sessions, owner, status, attempts=attempts, lease=lease)
    assert await run(sessions, lifecycle.claim, doc.id, max_attempts=MAX, lease_for=LEASE,
                     now=NOW) is None
    assert await unchanged(sessions, doc)
    assert await jobs(sessions, doc.id) == []


async def test_claim_of_a_missing_document(sessions: Sessions) -> None:
    assert await run(sessions, lifecycle.claim, str(uuid.uuid4()), max_attempts=MAX,
                     lease_for=LEASE, now=NOW) is None


async def test_concurrent_claims_have_one_winner(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "queued", attempts=0)
    results = await asyncio.gather(*[
        run(sessions, lifecycle.claim, doc.id, max_attempts=MAX, lease_for=LEASE, worker=f"w:{i}")
        for i in range(4)])
    assert len([r for r in results if r is not None]) == 1
    assert (await load(sessions, doc.id)).attempts == 1
    assert len(await jobs(sessions, doc.id)) == 1


# ---- the attempt holding the lease --------------------------------------------------------------

def held(doc: Document) -> Lease:
    return Lease(document_id=doc.id, version=doc.version, attempt=doc.attempts)


STALE = {"older version": lambda lease: Lease(lease.document_id, lease.version - 1, lease.attempt),
         "other attempt": lambda lease: Lease(lease.document_id, lease.version, lease.attempt + 1),
         "other document": lambda lease: Lease(str(uuid.uuid4()), lease.version, lease.attempt)}


async def test_report_progress(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", version=2, attempts=2)
    assert await run(sessions, lifecycle.report_progress, held(doc), stage="chunking", progress=30,
                     lease_for=LEASE, now=NOW)
    after = await load(sessions, doc.id)
    assert (after.status, after.stage, after.progress) == ("processing", "chunking", 30)
    assert after.lease_expires_at == NOW + LEASE and after.updated_at == NOW
    for pct, stored in [(150, 100), (-5, 0)]:
        assert await run(sessions, lifecycle.report_progress, held(doc), stage="embedding",
                         progress=pct, lease_for=LEASE, now=NOW)
        assert (await load(sessions, doc.id)).progress == stored


@pytest.mark.parametrize("stale", list(STALE))
async def test_report_progress_needs_the_lease(sessions: Sessions, owner: str, stale: str) -> None:
    doc = await add_doc(sessions, owner, "processing", version=2, attempts=2)
    assert not await run(sessions, lifecycle.report_progress, STALE[stale](held(doc)),
                         stage="chunking", progress=30, lease_for=LEASE, now=NOW)
    assert await unchanged(sessions, doc)


@pytest.mark.parametrize("status", OTHERS["processing"])
async def test_report_progress_needs_processing(sessions: Sessions, owner: str, status: str) -> None:
    doc = await add_doc(sessions, owner, status)
    assert not await run(sessions, lifecycle.report_progress, held(doc), stage="chunking",
                         progress=30, lease_for=LEASE, now=NOW)
    assert await unchanged(sessions, doc)


async def test_renew_lease(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", lease=EXPIRED)
    assert await run(sessions, lifecycle.renew_lease, held(doc), lease_for=LEASE, now=NOW)
    after = await load(sessions, doc.id)
    assert after.lease_expires_at == NOW + LEASE
    assert (after.status, after.stage, after.progress) == ("processing", "embedding", 40)
    for stale in STALE.values():
        assert not await run(sessions, lifecycle.renew_lease, stale(held(doc)),
                             lease_for=LEASE * 2, now=NOW)
    assert (await load(sessions, doc.id)).lease_expires_at == NOW + LEASE


@pytest.mark.parametrize("status", OTHERS["processing"])
async def test_renew_lease_needs_processing(sessions: Sessions, owner: str, status: str) -> None:
    doc = await add_doc(sessions, owner, status)
    assert not await run(sessions, lifecycle.renew_lease, held(doc), lease_for=LEASE, now=NOW)
    assert await unchanged(sessions, doc)


# ---- leaving processing: ready, failed, retry later ----------------------------------------------

READY = {"chunk_count": 7, "page_count": 3, "embedding_collection": "c1",
         "timings": {"extract": 0.5, "total": 2.0}}


async def test_mark_ready(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", error="Temporary problem")
    assert await run(sessions, lifecycle.mark_ready, held(doc), now=NOW, **READY)
    after = await load(sessions, doc.id)
    assert (after.status, after.stage, after.progress, after.error) == ("ready", None, 100, None)
    assert (after.chunk_count, after.page_count, after.embedding_collection) == (7, 3, "c1")
    assert after.timings == READY["timings"]
    assert after.finished_at == NOW and after.updated_at == NOW and after.lease_expires_at is None


async def test_retry_later(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", attempts=2)
    assert await run(sessions, lifecycle.retry_later, held(doc), error="Temporary problem: x",
                     now=NOW)
    after = await load(sessions, doc.id)
    # The attempt is given back (an outage is not a lost attempt); the failure run starts now.
    assert (after.status, after.stage, after.progress, after.error, after.attempts) == \
        ("queued", None, 0, "Temporary problem: x", 1)
    assert after.lease_expires_at is None and after.updated_at == NOW and after.finished_at is None
    assert after.retry_since == NOW


async def test_retry_later_keeps_when_the_failures_began(sessions: Sessions, owner: str) -> None:
    began = NOW - timedelta(minutes=7)
    doc = await add_doc(sessions, owner, "processing", attempts=1, retry_since=began)
    assert await run(sessions, lifecycle.retry_later, held(doc), error="e", now=NOW)
    assert (await load(sessions, doc.id)).retry_since == began


async def test_mark_ready_ends_the_failure_run(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", retry_since=NOW - timedelta(minutes=3))
    assert await run(sessions, lifecycle.mark_ready, held(doc), now=NOW, **READY)
    assert (await load(sessions, doc.id)).retry_since is None


async def test_release(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", attempts=2)
    assert await run(sessions, lifecycle.release, held(doc), now=NOW)
    after = await load(sessions, doc.id)
    assert (after.status, after.stage, after.progress, after.attempts, after.lease_expires_at) == \
        ("queued", None, 0, 1, None)
    assert after.updated_at == NOW and after.error is None
    # Claimable again at once, by the same attempt number: no budget used by a graceful stop.
    claimed = await run(sessions, lifecycle.claim, doc.id, max_attempts=MAX, lease_for=LEASE, now=NOW)
    assert claimed is not None and claimed.lease.attempt == 2


async def add_chunks(sessions: Sessions, doc: Document, n: int = 3) -> None:
    async with sessions() as s:
        s.add_all([Chunk(id=f"{doc.id}:{doc.version}:{i}", document_id=doc.id, owner_id=doc.owner_id,
                         version=doc.version, n=i, text=f"t{i}", page_start=1, page_end=1,
                         char_start=0, char_end=2) for i in range(n)])
        await s.commit()


async def chunk_total(sessions: Sessions, doc_id: str) -> int:
    async with sessions() as s:
        return len((await s.execute(select(Chunk.id).where(Chunk.document_id == doc_id))).all())


async def test_mark_failed(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", retry_since=NOW - timedelta(minutes=20))
    await add_chunks(sessions, doc)
    assert await run(sessions, lifecycle.mark_failed, held(doc), error="Encrypted PDF", now=NOW)
    after = await load(sessions, doc.id)
    assert (after.status, after.stage, after.error) == ("failed", None, "Encrypted PDF")
    assert after.finished_at == NOW and after.updated_at == NOW and after.lease_expires_at is None
    # Nothing is left behind: no chunk rows, and the vectors are marked for the purge.
    assert await chunk_total(sessions, doc.id) == 0
    assert after.purge_pending and after.chunk_count == 0 and after.retry_since is None


async def test_purged(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "failed", purge_pending=True, version=2)
    other = await add_doc(sessions, owner, "failed", purge_pending=False)
    async with sessions() as s:
        pending = {d.id for d in await lifecycle.find_purge_pending(s, limit=10_000)}
    assert doc.id in pending and other.id not in pending
    assert not await run(sessions, lifecycle.purged, doc.id, version=1)  # a stale look
    assert await run(sessions, lifecycle.purged, doc.id, version=2)
    assert not (await load(sessions, doc.id)).purge_pending
    assert not await run(sessions, lifecycle.purged, doc.id, version=2)


LEAVING: dict[str, tuple[Any, dict[str, Any]]] = {
    "mark_ready": (lifecycle.mark_ready, READY),
    "retry_later": (lifecycle.retry_later, {"error": "e"}),
    "mark_failed": (lifecycle.mark_failed, {"error": "e"}),
    "release": (lifecycle.release, {}),
}


@pytest.mark.parametrize("transition", list(LEAVING))
@pytest.mark.parametrize("stale", list(STALE))
async def test_leaving_processing_needs_the_lease(sessions: Sessions, owner: str, transition: str,
                                                  stale: str) -> None:
    fn, kwargs = LEAVING[transition]
    doc = await add_doc(sessions, owner, "processing", version=2, attempts=2)
    assert not await run(sessions, fn, STALE[stale](held(doc)), now=NOW, **kwargs)
    assert await unchanged(sessions, doc)


@pytest.mark.parametrize("transition", list(LEAVING))
@pytest.mark.parametrize("status", OTHERS["processing"])
async def test_leaving_processing_needs_processing(sessions: Sessions, owner: str, transition: str,
                                                   status: str) -> None:
    fn, kwargs = LEAVING[transition]
    doc = await add_doc(sessions, owner, status)
    assert not await run(sessions, fn, held(doc), now=NOW, **kwargs)
    assert await unchanged(sessions, doc)


async def test_finish_job(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "queued", attempts=0)
    claimed = await run(sessions, lifecycle.claim, doc.id, max_attempts=MAX, lease_for=LEASE)
    assert await run(sessions, lifecycle.finish_job, claimed.job_id, status="succeeded", error=None,
                     duration_ms=1500, stage_timings={"total": 1.5}, now=NOW)
    (job,) = await jobs(sessions, doc.id)
    assert (job.status, job.error, job.duration_ms, job.stage_timings, job.finished_at) == \
        ("succeeded", None, 1500, {"total": 1.5}, NOW)
    assert not await run(sessions, lifecycle.finish_job, str(uuid.uuid4()), status="failed",
                         error="x", duration_ms=1, stage_timings={}, now=NOW)


async def test_current_version(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "ready", version=4)
    assert await run(sessions, lifecycle.current_version, doc.id) == 4
    assert await run(sessions, lifecycle.current_version, str(uuid.uuid4())) is None


# ---- the reconciler --------------------------------------------------------------------------------

async def test_find_stale(sessions: Sessions, owner: str) -> None:
    grace = NOW - timedelta(seconds=30)
    old_queued = await add_doc(sessions, owner, "queued")  # updated an hour before NOW
    expired = await add_doc(sessions, owner, "processing", lease=EXPIRED)
    fresh_queued = await add_doc(sessions, owner, "queued")
    async with sessions() as s:
        row = await s.get(Document, fresh_queued.id)
        assert row is not None
        row.updated_at = NOW
        await s.commit()
    live = await add_doc(sessions, owner, "processing", lease=LIVE)
    done = [await add_doc(sessions, owner, status) for status in ("ready", "failed")]
    async with sessions() as s:
        found = {d.id for d in await lifecycle.find_stale(s, now=NOW, queued_before=grace, limit=10_000)}
    assert {old_queued.id, expired.id} <= found
    assert not found & {fresh_queued.id, live.id, *(d.id for d in done)}


async def test_interrupt_attempts(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", attempts=3, lease=EXPIRED)
    async with sessions() as s:
        s.add_all([Job(document_id=doc.id, attempt=1, status="retrying"),
                   Job(document_id=doc.id, attempt=2, status="running"),
                   Job(document_id=doc.id, attempt=3, status="running"),
                   Job(document_id=doc.id, attempt=4, status="running")])
        await s.commit()
    assert await run(sessions, lifecycle.interrupt_attempts, doc.id, through_attempt=3, now=NOW) == 2
    by_attempt = {j.attempt: j for j in await jobs(sessions, doc.id)}
    assert [by_attempt[a].status for a in (1, 2, 3, 4)] == \
        ["retrying", "interrupted", "interrupted", "running"]
    assert by_attempt[2].finished_at == NOW and by_attempt[2].error == lifecycle.INTERRUPTED_ERROR
    assert await run(sessions, lifecycle.interrupt_attempts, doc.id, through_attempt=3, now=NOW) == 0


async def test_requeue_lost(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", attempts=2, lease=EXPIRED)
    assert await run(sessions, lifecycle.requeue_lost, held(doc), now=NOW)
    after = await load(sessions, doc.id)
    assert (after.status, after.stage, after.lease_expires_at, after.attempts, after.updated_at) == \
        ("queued", None, None, 2, NOW)


async def test_requeue_lost_refuses_a_live_lease(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "processing", lease=LIVE)
    assert not await run(sessions, lifecycle.requeue_lost, held(doc), now=NOW)
    assert await unchanged(sessions, doc)


@pytest.mark.parametrize("stale", list(STALE))
async def test_requeue_lost_refuses_a_reclaimed_or_reset_document(sessions: Sessions, owner: str,
                                                                  stale: str) -> None:
    doc = await add_doc(sessions, owner, "processing", version=2, attempts=2, lease=EXPIRED)
    assert not await run(sessions, lifecycle.requeue_lost, STALE[stale](held(doc)), now=NOW)
    assert await unchanged(sessions, doc)


@pytest.mark.parametrize("status", OTHERS["processing"])
async def test_requeue_lost_needs_processing(sessions: Sessions, owner: str, status: str) -> None:
    doc = await add_doc(sessions, owner, status, lease=EXPIRED)
    assert not await run(sessions, lifecycle.requeue_lost, held(doc), now=NOW)
    assert await unchanged(sessions, doc)


async def test_requeue(sessions: Sessions, owner: str) -> None:
    doc = await add_doc(sessions, owner, "queued", version=2)
    assert await run(sessions, lifecycle.requeue, doc.id, version=2, now=NOW)
    after = await load(sessions, doc.id)
    assert (after.status, after.updated_at) == ("queued", NOW)
    assert not await run(sessions, lifecycle.requeue, doc.id, version=1, now=NOW + LEASE)
    assert (await load(sessions, doc.id)).updated_at == NOW


@pytest.mark.parametrize("status", OTHERS["queued"])
async def test_requeue_needs_queued(sessions: Sessions, owner: str, status: str) -> None:
    doc = await add_doc(sessions, owner, status)
    assert not await run(sessions, lifecycle.requeue, doc.id, version=1, now=NOW)
    assert await unchanged(sessions, doc)


@pytest.mark.parametrize(("status", "lease"), [("queued", None), ("processing", EXPIRED)])
async def test_fail_exhausted(sessions: Sessions, owner: str, status: str,
                              lease: datetime | None) -> None:
    doc = await add_doc(sessions, owner, status, attempts=MAX, lease=lease)
    await add_chunks(sessions, doc)
    assert await run(sessions, lifecycle.fail_exhausted, doc.id, status=status, version=1,
                     max_attempts=MAX, now=NOW)
    after = await load(sessions, doc.id)
    assert (after.status, after.stage, after.error, after.lease_expires_at) == \
        ("failed", None, lifecycle.EXHAUSTED_ERROR, None)
    assert after.finished_at == NOW and after.updated_at == NOW
    assert await chunk_total(sessions, doc.id) == 0 and after.purge_pending


@pytest.mark.parametrize(("status", "seen", "attempts", "version", "lease"), [
    ("queued", "queued", MAX - 1, 1, None),  # attempts left
    ("processing", "processing", MAX, 1, LIVE),  # the last attempt is alive after all
    ("queued", "queued", MAX, 2, None),  # reset (a new version) since the reconciler looked
    ("processing", "queued", MAX, 1, EXPIRED),  # status changed since the reconciler looked
    ("ready", "ready", MAX, 1, None),
    ("failed", "failed", MAX, 1, None),
])
async def test_fail_exhausted_refuses(sessions: Sessions, owner: str, status: str, seen: str,
                                      attempts: int, version: int, lease: datetime | None) -> None:
    doc = await add_doc(sessions, owner, status, attempts=attempts, version=version, lease=lease)
    assert not await run(sessions, lifecycle.fail_exhausted, doc.id, status=seen, version=1,
                         max_attempts=MAX, now=NOW)
    assert await unchanged(sessions, doc)


# ---- reprocess and retry ----------------------------------------------------------------------------

@pytest.mark.parametrize("status", STATUSES)
async def test_reset_for_reprocess(sessions: Sessions, owner: str, status: str) -> None:
    doc = await add_doc(sessions, owner, status, attempts=MAX, version=3, error="boom",
                        finished_at=NOW - timedelta(days=1), retry_since=NOW - timedelta(hours=1))
    assert await run(sessions, lifecycle.reset_for_reprocess, doc.id, version=3, now=NOW)
    after = await load(sessions, doc.id)
    assert (after.status, after.version, after.attempts, after.stage, after.progress, after.error) \
        == ("queued", 4, 0, None, 0, None)
    assert after.retry_since is None
    assert after.lease_expires_at is None and after.finished_at is None and after.updated_at == NOW
    # The same click again (it saw version 3) changes nothing.
    assert not await run(sessions, lifecycle.reset_for_reprocess, doc.id, version=3, now=NOW)
    assert (await load(sessions, doc.id)).version == 4


@pytest.mark.parametrize("status", OTHERS["failed"])
async def test_retry_resets_only_failed(sessions: Sessions, owner: str, status: str) -> None:
    doc = await add_doc(sessions, owner, status)
    assert not await run(sessions, lifecycle.reset_for_reprocess, doc.id, version=1,
                         from_statuses=("failed",), now=NOW)
    assert await unchanged(sessions, doc)
    failed = await add_doc(sessions, owner, "failed")
    assert await run(sessions, lifecycle.reset_for_reprocess, failed.id, version=1,
                     from_statuses=("failed",), now=NOW)
    assert (await load(sessions, failed.id)).status == "queued"
