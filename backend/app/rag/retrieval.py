"""THE retrieval function. Every path that reads chunks for a user (search, chat) goes through
`retrieve`: it asks the access rule (`app.access.rules.plan_for`) for the caller's readable set —
their private documents and those of the collections they can read, or the selection they named —
queries each owner's vectors (`VectorScope`) and keyword rows (`KeywordScope`) within it, fuses
both, and re-checks every hit against the database (document still exists, is ready, is readable
by the caller now, and the chunk is from its current version)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import ReadPlan, plan_for
from app.collections.models import Collection
from app.core.metrics import RETRIEVAL_SECONDS
from app.documents.locations import location
from app.documents.models import Chunk, Document
from app.platform.container import Container
from app.platform.index import ActiveIndex
from app.providers.keyword.base import KeywordHit, KeywordScope, merge_hits, split_scopes
from app.providers.vectorstore.base import VectorScope

Fusion = Literal["score", "rrf"]
RRF_K = 60


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    chunk_id: str
    document_id: str
    filename: str
    page: int
    page_end: int
    text: str
    heading_path: list[str]
    score: float
    dense_score: float | None
    keyword_rank: int | None
    collection_id: str | None = None  # None: the reader's private space
    collection_name: str | None = None
    location: str | None = None  # "p. 12", or the section where the format has no pages


@dataclass
class RetrievalResult:
    chunks: list[RetrievedChunk]
    best_dense: float
    not_found: bool
    timings: dict[str, float] = field(default_factory=dict)


async def retrieve(
    session: AsyncSession, container: Container, *, owner_id: str, query: str, k: int,
    document_ids: Sequence[str] | None = None, collection_ids: Sequence[str] | None = None,
    candidates: int | None = None, fusion: Fusion = "score", weight: float | None = None,
    floor: float | None = None,
) -> RetrievalResult:
    """`owner_id` is the reader. Without `document_ids`/`collection_ids`, everything they can read;
    with them, only those (each must be readable: 404 otherwise)."""
    runtime = await container.runtime.current()
    candidates = candidates or container.settings.retrieval_candidates
    weight = runtime.retrieval.hybrid_weight if weight is None else weight
    floor = runtime.retrieval.relevance_floor if floor is None else floor
    timings: dict[str, float] = {}
    started = time.perf_counter()

    async def embed() -> tuple[ActiveIndex, list[float]]:
        t = time.perf_counter()
        active = await container.index.active()
        qvec = await active.embedder.embed_query(query)
        timings["embed_ms"] = _ms(t)
        return active, qvec

    # The keyword search's session is opened and readied (`KeywordIndex.prepare`: SQLite reads
    # the terms' statistics, PostgreSQL makes its planner settings) while the access rule decides
    # the scopes; the query's embedding runs in the model's thread meanwhile. Neither needs the
    # access decision, and each would otherwise wait for it (docs/benchmarks.md §5b, 2026-12-02
    # and 2026-12-06).
    planned: asyncio.Future[ReadPlan] = asyncio.get_running_loop().create_future()
    ways = container.settings.keyword_statements or container.keywords.side_by_side

    async def keyword_side() -> list[KeywordHit]:
        async with AsyncExitStack() as stack:
            async def readied() -> tuple[AsyncSession, object | None]:
                own = await stack.enter_async_context(container.sessions())
                return own, await container.keywords.prepare(own, query)

            first = await readied()
            plan = await planned
            t = time.perf_counter()
            scopes = [KeywordScope(owner_id=p.owner_id, document_ids=p.document_ids,
                                   exclude_document_ids=p.exclude_document_ids, spaces=p.spaces)
                      for p in plan.partitions]

            async def search(group: list[KeywordScope],
                             ready: tuple[AsyncSession, object | None] | None) -> list[KeywordHit]:
                own, prepared = ready or await readied()
                return await container.keywords.search(own, group, query, limit=candidates,
                                                       prepared=prepared)

            # Each scope is ranked with its own statistics, so a search of some of them ranks
            # each row exactly as a search of all: a reader's many partitions are split into a
            # few statements, run side by side on sessions of their own (and beside the dense
            # side), and merged. Only the first session is readied in advance: most searches
            # (one owner's) need no other, and a connection held idle is one fewer for the
            # other requests.
            found = merge_hits(await _gather([
                asyncio.ensure_future(search(group, first if i == 0 else None))
                for i, group in enumerate(split_scopes(scopes, ways))]), candidates)
            timings["keyword_ms"] = _ms(t)
            return found

    embedding = asyncio.ensure_future(embed())
    keywords = asyncio.ensure_future(keyword_side())
    try:
        plan = await plan_for(session, owner_id, document_ids=document_ids,
                              collection_ids=collection_ids)
    except BaseException:
        _drop(embedding)
        _drop(keywords)
        raise
    timings["access_ms"] = _ms(started)  # the readable set: roles and owner partitions

    if not plan.partitions:  # nothing readable in scope (an empty collection, no documents yet)
        _drop(embedding)
        _drop(keywords)
        return RetrievalResult(chunks=[], best_dense=0.0, not_found=True, timings=timings)
    planned.set_result(plan)

    async def dense_side() -> dict[str, float]:
        active, qvec = await embedding
        t = time.perf_counter()
        # One search per owner partition of the readable set; cosine scores compare. Ids and
        # scores only: every id that can be returned is re-checked in the database below.
        # With many owners holding much of the collection, the store may search them together
        # (Chroma's union index: one search instead of one per owner, `chroma_union`).
        parts = await container.vectors.nearest_each(active.collection, qvec, k=candidates, scopes=[
            VectorScope(owner_id=p.owner_id, document_ids=p.document_ids,
                        exclude_document_ids=p.exclude_document_ids, share=p.share)
            for p in plan.partitions],
            share=plan.share if container.settings.vector_union_index else None)
        timings["vector_ms"] = _ms(t)
        return dict(merge_hits(parts, candidates))

    # Both sides wait on threads (ONNX + Chroma, the database driver): run them side by side. The
    # first error propagates as itself (callers map VectorStoreError etc.), and stops the other.
    dense, keyword = await _gather((asyncio.ensure_future(dense_side()), keywords))

    fused = fuse(dense, keyword, fusion=fusion, weight=weight)
    t = time.perf_counter()
    rows = await _load_readable(session, plan, [cid for cid, _ in fused[: max(k * 3, 20)]])
    timings["recheck_ms"] = _ms(t)

    keyword_rank = {cid: i for i, (cid, _) in enumerate(keyword)}
    chunks: list[RetrievedChunk] = []
    for cid, score in fused:
        row = rows.get(cid)
        if row is None:  # deleted, not ready, another version, or not the caller's: never returned
            continue
        chunk, filename, collection_id, collection_name, kind = row
        chunks.append(RetrievedChunk(
            chunk_id=cid, document_id=chunk.document_id, filename=filename, page=chunk.page_start,
            page_end=chunk.page_end, text=chunk.text, heading_path=list(chunk.heading_path or []),
            score=round(score, 4), dense_score=dense.get(cid), keyword_rank=keyword_rank.get(cid),
            collection_id=collection_id, collection_name=collection_name,
            location=location(kind, chunk.page_start, chunk.heading_path or []),
        ))
        if len(chunks) >= k:
            break
    best = max((c.dense_score for c in chunks if c.dense_score is not None), default=0.0)
    RETRIEVAL_SECONDS.observe(time.perf_counter() - started)
    return RetrievalResult(chunks=chunks, best_dense=best, not_found=not chunks or best < floor,
                           timings=timings)


def fuse(dense: dict[str, float], keyword: Sequence[tuple[str, float]], *, fusion: Fusion,
         weight: float) -> list[tuple[str, float]]:
    """Combine dense and keyword results. `score`: each side's scores min-max normalised per query,
    then `weight * dense + (1 - weight) * keyword` (a side that missed a chunk adds 0);
    `rrf`: reciprocal rank fusion."""
    scores: dict[str, float] = {}
    if fusion == "rrf":
        for rank, cid in enumerate(sorted(dense, key=dense.__getitem__, reverse=True)):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (cid, _) in enumerate(keyword):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    else:
        for side, w in ((dense, weight), (dict(keyword), 1.0 - weight)):
            if not side or w <= 0:
                continue
            lo, hi = min(side.values()), max(side.values())
            span = hi - lo
            for cid, s in side.items():
                norm = (s - lo) / span if span > 0 else 1.0
                scores[cid] = scores.get(cid, 0.0) + w * norm
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


async def _load_readable(session: AsyncSession, plan: ReadPlan, chunk_ids: Sequence[str]
                         ) -> dict[str, tuple[Chunk, str, str | None, str | None, str]]:
    if not chunk_ids:
        return {}
    # Look the rows up by primary key only and check readability, status and version on them here:
    # with the owner in the WHERE clause, SQLite and PostgreSQL (before ANALYZE) chose the owner
    # index and walked all of the owner's chunks (ms on SQLite, seconds on PostgreSQL at 5k docs).
    stmt = (
        select(Chunk, Document.filename, Document.owner_id, Document.collection_id,
               Document.searchable_version, Collection.name, Document.kind)
        .join(Document, Document.id == Chunk.document_id)
        .outerjoin(Collection, Collection.id == Document.collection_id)
        .where(Chunk.id.in_(list(chunk_ids)))
    )
    # The searchable version: the ready one, or during a reprocess the previous one.
    return {
        c.id: (c, filename, collection_id, collection_name, kind)
        for c, filename, doc_owner, collection_id, searchable, collection_name, kind
        in (await session.execute(stmt)).all()
        if plan.allows(doc_owner, collection_id, c.document_id) and c.owner_id == doc_owner
        and searchable == c.version
    }


async def _gather(tasks: Sequence[asyncio.Future[Any]]) -> list[Any]:
    """All results, or the first error as itself with the other tasks cancelled."""
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


def _drop(task: asyncio.Future[Any]) -> None:
    """A task whose result is no longer wanted: cancelled, or its error (if it already failed)
    marked as seen, so that asyncio does not log it as never retrieved."""
    if task.done():
        if not task.cancelled():
            task.exception()
    else:
        task.cancel()


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)
