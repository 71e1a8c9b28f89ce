"""The scheduler against real SQLite and PostgreSQL: workers claim round-robin across owners (FIFO
within an owner), and `queue_positions` predicts exactly the order in which they will claim."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.util import await_only

from app.auth.models import User
from app.documents import lifecycle, scheduling
from app.documents.models import Document

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2030, 1, 2, 3, 0, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
MAX = 3


@pytest.fixture(autouse=True)
async def empty_queue(sessions: Sessions) -> None:
    # Other modules share these databases: the scheduler looks at every owner's documents.
    async with sessions() as s:
        await s.execute(delete(Document))
        await s.commit()


async def add_owner(sessions: Sessions) -> str:
    async with sessions() as s:
        user = User(email=f"sched-{uuid.uuid4().hex[:12]}@example.com", password_hash="x")
        s.add(user)
        await s.commit()
        return user.id


async def add_docs(sessions: Sessions, owner: str, count: int, *, minute: int,
                   status: str = "queued", started: datetime | None = None) -> list[str]:
    docs = []
    async with sessions() as s:
        for i in range(count):
            doc = Document(owner_id=owner, filename=f"{i}.txt", mime_type="text/plain", kind="text",
                           size_bytes=10, content_hash=uuid.uuid4().hex, storage_key="k",
                           status=status, started_at=started,
                           created_at=T0 + timedelta(minutes=minute, seconds=i))
            s.add(doc)
            docs.append(doc)
        await s.commit()
    return [d.id for d in docs]


async def claim_all(sessions: Sessions, *, start: datetime) -> list[str]:
    """Claim until nothing is left, one second apart, and return the order."""
    order = []
    now = start
    while True:
        async with sessions() as s:
            claimed = await scheduling.claim_next(s, "no-such-document", max_attempts=MAX,
                                                  lease_for=LEASE, now=now)
            await s.commit()
        if claimed is None:
            return order
        order.append(claimed.document.id)
        now += timedelta(seconds=1)


async def test_round_robin_across_owners_and_positions_match_claims(sessions: Sessions) -> None:
    a, b, c = [await add_owner(sessions) for _ in range(3)]
    # A uploaded a batch first and has had documents processed; B never had one; C was served
    # before A.
    await add_docs(sessions, a, 1, minute=0, status="ready", started=T0 + timedelta(minutes=5))
    await add_docs(sessions, c, 1, minute=0, status="ready", started=T0 + timedelta(minutes=4))
    a_docs = await add_docs(sessions, a, 6, minute=1)
    b_docs = await add_docs(sessions, b, 1, minute=9)
    c_docs = await add_docs(sessions, c, 2, minute=8)

    async with sessions() as s:
        positions = await scheduling.queue_positions(s, max_attempts=MAX)
    order = await claim_all(sessions, start=T0 + timedelta(minutes=10))

    # B (never served) first, then C (served longest ago), then A; then round by round.
    assert order == [b_docs[0], c_docs[0], a_docs[0], c_docs[1], a_docs[1], *a_docs[2:]]
    assert positions == {doc_id: i + 1 for i, doc_id in enumerate(order)}


async def test_a_late_single_document_goes_before_a_batch(sessions: Sessions) -> None:
    a, b = await add_owner(sessions), await add_owner(sessions)
    a_docs = await add_docs(sessions, a, 40, minute=0)
    now = T0 + timedelta(minutes=1)
    async with sessions() as s:  # two workers take A's first two documents
        for _ in range(2):
            assert (await scheduling.claim_next(s, a_docs[0], max_attempts=MAX, lease_for=LEASE,
                                                now=now)) is not None
        await s.commit()
    b_doc = (await add_docs(sessions, b, 1, minute=2))[0]
    async with sessions() as s:
        positions = await scheduling.queue_positions(s, max_attempts=MAX)
        assert positions[b_doc] == 1
        assert [positions[d] for d in a_docs[2:]] == list(range(2, 40))
        # The job of A's 10th document claims B's: jobs are slots, not tied to their document.
        claimed = await scheduling.claim_next(s, a_docs[9], max_attempts=MAX, lease_for=LEASE,
                                              now=now + timedelta(minutes=2))
        assert claimed is not None and claimed.document.id == b_doc
        await s.commit()


async def test_a_claim_while_positions_are_read_never_sends_a_document_back(
        sessions: Sessions) -> None:
    """B's only document is claimed by a worker while its owner's place is being read. Positions
    are one snapshot: before the claim B is first in line, after it B is not in line; never
    "queued, second", behind the batch of an owner who has started (PostgreSQL reads each
    statement afresh, so the waiting list and the owners' last starts must be one statement)."""
    a, b = await add_owner(sessions), await add_owner(sessions)
    a_docs = await add_docs(sessions, a, 5, minute=0)
    async with sessions() as s:
        assert await scheduling.claim_next(s, a_docs[0], max_attempts=MAX, lease_for=LEASE,
                                           now=T0 + timedelta(minutes=1)) is not None
        await s.commit()
    b_doc = (await add_docs(sessions, b, 1, minute=2))[0]

    async def claim_b() -> None:
        async with sessions() as other:
            claimed = await lifecycle.claim(other, b_doc, max_attempts=MAX, lease_for=LEASE,
                                            now=T0 + timedelta(minutes=3))
            assert claimed is not None
            await other.commit()

    engine = sessions.kw["bind"].sync_engine
    fired: list[str] = []

    def claim_after_first_read(_conn: object, _cursor: object, statement: str,
                               *args: object) -> None:
        # The worker's claim lands right after the positions' first statement.
        if not fired and statement.lstrip().upper().startswith("SELECT"):
            fired.append("claimed")
            await_only(claim_b())

    event.listen(engine, "after_cursor_execute", claim_after_first_read)
    try:
        async with sessions() as s:
            positions = await scheduling.queue_positions(s, max_attempts=MAX)
    finally:
        event.remove(engine, "after_cursor_execute", claim_after_first_read)
    assert fired
    assert positions.get(b_doc) in (None, 1), positions
    first_of_a = 2 if b_doc in positions else 1
    assert [positions[d] for d in a_docs[1:]] == list(range(first_of_a, first_of_a + 4))


async def test_backoff_and_exhausted_documents_are_skipped(sessions: Sessions) -> None:
    a, b = await add_owner(sessions), await add_owner(sessions)
    await add_docs(sessions, b, 1, minute=0, status="ready", started=T0)  # B was served: A first
    a_doc = (await add_docs(sessions, a, 1, minute=0))[0]
    b_doc = (await add_docs(sessions, b, 1, minute=1))[0]
    now = T0 + timedelta(minutes=5)
    async with sessions() as s:
        claimed = await scheduling.claim_next(s, a_doc, max_attempts=MAX, lease_for=LEASE, now=now)
        assert claimed is not None and claimed.document.id == a_doc
        assert await lifecycle.retry_later(s, claimed.lease, error="x", delay=timedelta(seconds=30),
                                           now=now)
        await s.commit()
    async with sessions() as s:
        # A's document backs off: B's is next, and then nothing until A's backoff has passed.
        first = await scheduling.claim_next(s, a_doc, max_attempts=MAX, lease_for=LEASE, now=now)
        assert first is not None and first.document.id == b_doc
        assert await scheduling.claim_next(s, a_doc, max_attempts=MAX, lease_for=LEASE,
                                           now=now + timedelta(seconds=10)) is None
        again = await scheduling.claim_next(s, b_doc, max_attempts=MAX, lease_for=LEASE,
                                            now=now + timedelta(seconds=31))
        # A transient failure gives its attempt back (see lifecycle.retry_later): attempt 1 again.
        assert again is not None and again.document.id == a_doc and again.lease.attempt == 1
        await s.commit()
        status = (await s.execute(select(Document.status).where(Document.id == a_doc))).scalar_one()
        assert status == "processing"


async def test_reconciler_leaves_waiting_documents_alone(sessions: Sessions) -> None:
    a = await add_owner(sessions)
    await add_docs(sessions, a, 3, minute=0)
    async with sessions() as s:
        assert await lifecycle.count_queued(s, max_attempts=MAX) == 3
        stale = await lifecycle.find_stale(s, now=T0 + timedelta(hours=1),
                                           queued_before=T0 + timedelta(hours=1))
        assert len(stale) == 3  # examined; the registry enqueues only what the queue lacks
