"""Vectors of deleted documents, deleted for sure: a deletion records a `VectorPurge` row in its
own transaction, tries the vector store after the commit, and the reconciler retries whatever is
left (the store was down) until it answers. Search never returns such vectors meanwhile (its
database re-check drops chunks without a document), but they would otherwise stay forever."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import new_id
from app.documents.models import Document, VectorPurge
from app.platform.container import Container
from app.providers.vectorstore.base import VectorScope, VectorStoreError

log = logging.getLogger("citewise.jobs")


class Pending(NamedTuple):
    id: str  # the VectorPurge row
    owner_id: str
    document_id: str


def record(session: AsyncSession, docs: Sequence[Document]) -> list[Pending]:
    """Note the documents' vectors as to be deleted; the caller deletes the documents and commits."""
    pending = [Pending(new_id(), doc.owner_id, doc.id) for doc in docs]
    session.add_all(VectorPurge(id=p.id, owner_id=p.owner_id, document_id=p.document_id)
                    for p in pending)
    return pending


async def run(container: Container, purges: Sequence[Pending]) -> bool:
    """Delete these documents' vectors from every target collection, then their rows. False when
    the vector store is unreachable: the rows stay for the next reconciler pass."""
    if not purges:
        return True
    by_owner: dict[str, set[str]] = {}
    for purge in purges:
        by_owner.setdefault(purge.owner_id, set()).add(purge.document_id)
    try:
        for target in await container.index.targets():
            for owner, documents in by_owner.items():
                scope = VectorScope(owner_id=owner, document_ids=frozenset(documents))
                await container.vectors.delete(target.collection, scope=scope)
    except VectorStoreError as exc:
        log.warning("vectors of deleted documents not purged yet",
                    extra={"documents": len(purges), "error": str(exc)})
        return False
    async with container.sessions() as session:
        await session.execute(delete(VectorPurge).where(VectorPurge.id.in_([p.id for p in purges])))
        await session.commit()
    return True


async def run_pending(container: Container, *, limit: int = 100) -> int:
    """The reconciler's pass: purge what earlier deletions could not. Returns how many are done."""
    async with container.sessions() as session:
        stmt = select(VectorPurge).order_by(VectorPurge.created_at).limit(limit)
        pending = [Pending(r.id, r.owner_id, r.document_id)
                   for r in (await session.execute(stmt)).scalars()]
    if not pending or not await run(container, pending):
        return 0
    log.info("purged vectors of deleted documents", extra={"purged": len(pending)})
    return len(pending)
