"""Which queued document runs next: round-robin across owners, first-in first-out within an owner.

The job queue (ARQ or the in-process runner) only says "a worker slot is free"; the message's
document id is a hint. The worker then claims the next document *from the database*:

1. the owners with claimable queued documents (not backing off after a failure, attempts left)
   are ordered by when one of their documents last started (never first, then oldest);
2. the first owner in that order gives its oldest queued document (created first, then by id:
   a reprocess keeps its place because it keeps its upload time);
3. `lifecycle.claim` takes it with its compare-and-set; if another worker won the race, pick again.

Claiming a document stamps `started_at`, which sends its owner to the back of the rotation, so one
owner's batch of 500 interleaves with everyone else's documents, and a user with one document
waits at most for the documents already running plus one document of each other owner ahead of
them in the rotation. Every queued document has had a job enqueued (upload, reprocess, retry,
reconciler), and each job claims at most one document, so the number of jobs never falls below
the number of queued documents: delivery stays at-least-once even though a job may run another
document than the one it was enqueued for.

`queue_positions` replays the same rotation to tell each queued document how many run before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.db import utcnow
from app.documents import lifecycle
from app.documents.models import Document, Job

# Claims lost to another worker before giving up on this job (the other worker got the document).
_CLAIM_RACES = 5


def _waiting(max_attempts: int) -> list[ColumnElement[bool]]:
    return [Document.status == "queued", Document.attempts < max_attempts]


def _claimable(now: datetime, max_attempts: int) -> list[ColumnElement[bool]]:
    return [*_waiting(max_attempts),
            or_(Document.not_before.is_(None), Document.not_before <= now)]


async def _last_started(session: AsyncSession, owners: Iterable[str]) -> dict[str, datetime | None]:
    owners = list(owners)
    if not owners:
        return {}
    stmt = (select(Document.owner_id, func.max(Document.started_at))
            .where(Document.owner_id.in_(owners)).group_by(Document.owner_id))
    last: dict[str, datetime | None] = dict.fromkeys(owners)
    last.update({owner: started for owner, started in (await session.execute(stmt)).all()})
    return last


def _rotation(last_started: dict[str, datetime | None]) -> list[str]:
    """Owners in the order they are served: never started first, then the longest ago."""
    return sorted(last_started, key=lambda o: (last_started[o] is not None,
                                               last_started[o] or datetime.min, o))


async def next_in_line(session: AsyncSession, *, max_attempts: int,
                       now: datetime | None = None) -> str | None:
    """The id of the document that should be claimed next, or None when nothing is claimable."""
    now = now or utcnow()
    owners_stmt = select(Document.owner_id).where(*_claimable(now, max_attempts)).distinct()
    owners = list((await session.execute(owners_stmt)).scalars())
    if not owners:
        return None
    owner = _rotation(await _last_started(session, owners))[0]
    stmt = (select(Document.id).where(Document.owner_id == owner, *_claimable(now, max_attempts))
            .order_by(Document.created_at, Document.id).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_next(session: AsyncSession, hint: str, *, max_attempts: int, lease_for: timedelta,
                     worker: str = "", request_id: str | None = None,
                     now: datetime | None = None) -> lifecycle.Claimed | None:
    """Claim the fairest queued document; else `hint` itself when its lease expired (a lost attempt
    the reconciler has not requeued yet). None when there is nothing to do for this job."""
    for _ in range(_CLAIM_RACES):
        candidate = await next_in_line(session, max_attempts=max_attempts, now=now)
        if candidate is None:
            break
        claimed = await lifecycle.claim(
            session, candidate, max_attempts=max_attempts, lease_for=lease_for, worker=worker,
            request_id=request_id if candidate == hint else None, now=now)
        if claimed is not None:
            return claimed
    return await lifecycle.claim(session, hint, max_attempts=max_attempts, lease_for=lease_for,
                                 worker=worker, request_id=request_id, now=now)


@dataclass(frozen=True, slots=True)
class QueueState:
    positions: dict[str, int]  # document id → 1-based place among the documents still to start
    slots: int  # documents that run at once (for the estimate)
    seconds_per_document: float | None  # recent mean duration of a successful attempt

    def position(self, document_id: str) -> int | None:
        return self.positions.get(document_id)

    def estimate_seconds(self, document_id: str) -> int | None:
        """Until the document is done: its round among the free slots times a recent mean."""
        place = self.positions.get(document_id)
        if place is None or self.seconds_per_document is None:
            return None
        rounds = (place - 1) // max(self.slots, 1) + 1
        return round(rounds * self.seconds_per_document)


async def queue_positions(session: AsyncSession, *, max_attempts: int,
                          now: datetime | None = None) -> dict[str, int]:
    """1-based position of every waiting document in the order `next_in_line` will take them
    (documents backing off after a failure keep their place)."""
    # The waiting documents and their owners' last starts in one statement, so one snapshot: read
    # apart (PostgreSQL reads each statement afresh), a document claimed in between would still
    # be listed as waiting while its own start sent its owner to the back of the rotation.
    started = aliased(Document)
    waiting_owners = select(Document.owner_id).where(*_waiting(max_attempts))
    last = (select(started.owner_id, func.max(started.started_at).label("last_started"))
            .where(started.owner_id.in_(waiting_owners)).group_by(started.owner_id).subquery())
    stmt = (select(Document.id, Document.owner_id, last.c.last_started)
            .join(last, last.c.owner_id == Document.owner_id).where(*_waiting(max_attempts))
            .order_by(Document.created_at, Document.id))
    per_owner: dict[str, list[str]] = defaultdict(list)
    last_started: dict[str, datetime | None] = {}
    for doc_id, owner, owner_started in (await session.execute(stmt)).all():
        per_owner[owner].append(doc_id)
        last_started[owner] = owner_started
    if not per_owner:
        return {}
    rotation = _rotation(last_started)
    positions: dict[str, int] = {}
    depth = max(len(docs) for docs in per_owner.values())
    for rank in range(depth):  # round `rank`: each owner in rotation order gives one document
        for owner in rotation:
            docs = per_owner[owner]
            if rank < len(docs):
                positions[docs[rank]] = len(positions) + 1
    return positions


async def mean_job_seconds(session: AsyncSession, *, recent: int = 50) -> float | None:
    """Mean duration of the last `recent` successful attempts, None before the first one."""
    last = (select(Job.duration_ms).where(and_(Job.status == "succeeded", Job.duration_ms.is_not(None)))
            .order_by(Job.created_at.desc()).limit(recent).subquery())
    mean = (await session.execute(select(func.avg(last.c.duration_ms)))).scalar_one_or_none()
    return None if mean is None else float(mean) / 1000
