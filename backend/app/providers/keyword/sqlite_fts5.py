"""Keyword search on SQLite: FTS5 with bm25 ranking.

Relies on the schema of migrations 0003, 0004 and 0015 (alembic/versions/): the virtual table
``chunks_fts(heading, text, owner_key, chunk_id UNINDEXED, owner_id UNINDEXED, document_id
UNINDEXED)`` with ``tokenize='porter unicode61'`` (stemming, diacritics folded), filled and kept in
step with ``chunks`` by the triggers ``chunks_fts_insert/_update/_delete``. ``heading`` holds the
heading path's strings, ``text`` the chunk text followed by its identifiers' parts
(``chunks.index_terms``, 0015), ``owner_key`` one token per row: `owner_key()` below must
produce exactly what the triggers' ``_OWNER_KEY`` expression in 0004 (and 0015) writes. Changing
either side needs a migration that rebuilds the table. The score bounds also read FTS5's own
"averages" record (``chunks_fts_data`` id 1: the row count bm25() uses) and its "structure"
record (id 10), which every committed write changes: the terms' row counts are kept until then,
and every ranking reads both, to tell whether it saw the index its bounds were computed from.

A search of several owner partitions ranks only the rows that can reach the top ``limit``
(MaxScore, `app.providers.keyword.pruning`), by bm25() alone first, and reads the stored columns
(chunk id, the scopes' owner and document conditions) of the best few only; the result is the
exhaustive ranking's, to the last bit (docs/benchmarks.md §5b).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.providers.keyword.base import (
    KeywordHit,
    KeywordScope,
    check_dialect,
    query_terms,
    scope_list,
)
from app.providers.keyword.pruning import certain_top, essential_count, threshold_of

# A query word found in a chunk's heading path weighs 3x one found in its text (BM25F-style field
# weight). Chosen on SciFact *train* (titles as headings; 2-4 within 0.005 nDCG@10): keyword-only
# +0.009 on train, +0.006 on test over one field; the hybrid default is unchanged
# (docs/benchmarks.md §2). bm25()'s weights follow the FTS5 columns: heading, text, owner_key.
# bm25() is lower-is-better: negated, so scores are higher-is-better like PostgreSQL's.
# The owner_key column only narrows the MATCH to the scopes' rows: weight 0, so a row's score is
# the same whichever owner tokens the MATCH names (FTS5 takes N and each term's document frequency
# from the whole table, never from the MATCH: one statement over several owners ranks every row
# exactly as that owner's own search would).
# FTS5's bm25() constants (fts5_aux.c), for the terms' score bounds: idf * (K1 + 1).
K1 = 1.2
# FTS5's "averages" record (its first varint is bm25()'s own N: the row count; then tokens per
# column) and its "structure" record (the index's segments and a counter of the segments ever
# written), which every committed write to the index changes (an insert, a delete, a merge).
# Together they name the state of the index: read along with the statistics and with every
# ranking, they tell whether all of them saw the same index, whichever connections read them (the
# statistics may be read on another connection: `prepare`), and they key the kept term counts
# (`_TermCounts`).
_STRUCTURE = "(SELECT block FROM chunks_fts_data WHERE id = 10)"
_STATE = "(SELECT block FROM chunks_fts_data WHERE id = 1), " + _STRUCTURE  # noqa: S608 (fixed SQL)
# The ranking with the scopes' conditions on every row: reads each matching row's stored columns.
_FILTERED = ("SELECT chunk_id, -bm25(chunks_fts, 3.0, 1.0, 0.0) AS score, " + _STATE + " "
             "FROM chunks_fts WHERE chunks_fts MATCH :q AND ({scopes}) "
             "ORDER BY score DESC, chunk_id LIMIT :limit")
# The best :n rows by score alone (the owner tokens already narrow the MATCH), and only then
# their stored columns: chunk id, owner and document, which `KeywordScope.keeps` checks
# here (`pruning.certain_top`): the scopes' document lists are already in memory, whereas binding
# them made SQLite build a table of every listed id for each statement (a reader's narrowed
# partitions list thousands).
_WINDOW = ("WITH top AS (SELECT rowid AS r, -bm25(chunks_fts, 3.0, 1.0, 0.0) AS score "
           "FROM chunks_fts WHERE chunks_fts MATCH :q ORDER BY score DESC LIMIT :n) "
           "SELECT f.chunk_id, top.score, f.owner_id, f.document_id, " + _STATE + " "
           "FROM top JOIN chunks_fts f ON f.rowid = top.r ORDER BY top.score DESC")
# A negative page count merges every segment, not only those of a level with enough of them.
_MERGE = "INSERT INTO chunks_fts(chunks_fts, rank) VALUES('merge', :pages)"
# At most this many terms' counts kept; past it, the counts start over.
_COUNTS_KEPT = 50_000
# The window's size, as a multiple of the limit; past the last one, rank with the conditions.
_WINDOWS = (4, 32)


def owner_key(owner_id: str) -> str:
    """The FTS5 token of an owner: must match `_OWNER_KEY` in migration 0004 ("u" + the id's
    letters and digits + "0"; the trailing digit keeps the porter stemmer off the token)."""
    return "u" + owner_id.lower().replace("-", "").replace('"', "") + "0"


def _conditions(scopes: Sequence[KeywordScope]) -> tuple[str, dict[str, object]]:
    """The row conditions of every scope, OR-ed: `owner_id = :o<i>` and, for a narrowed scope,
    its document list (the owner token only narrows the MATCH; this keeps the result exact).
    A list is one JSON parameter read by `json_each`, not a placeholder per id: a reader's
    partitions may name thousands of documents, and a statement with a placeholder for each took
    a quarter of the keyword search (docs/benchmarks.md §5b)."""
    parts: list[str] = []
    params: dict[str, object] = {}
    for i, sc in enumerate(scopes):
        params[f"o{i}"] = sc.owner_id
        cond = f"owner_id = :o{i}"
        ids = sc.document_ids if sc.document_ids is not None else sc.exclude_document_ids
        if ids is not None:
            params[f"d{i}"] = json.dumps(sorted(ids))
            op = "IN" if sc.document_ids is not None else "NOT IN"
            # Only fixed SQL and numbered placeholders are formatted in; the ids are bound.
            cond += f" AND document_id {op} (SELECT value FROM json_each(:d{i}))"  # noqa: S608
        parts.append(f"({cond})")
    return " OR ".join(parts), params


def _statement(sql: str, scopes: Sequence[KeywordScope]) -> tuple[TextClause, dict[str, object]]:
    conds, params = _conditions(scopes)
    return text(sql.format(scopes=conds)), params


def _phrases(terms: Sequence[str]) -> str:
    # Each term a quoted FTS5 string (the words hold only letters and digits; quotes are
    # stripped anyway), so no query text is ever read as FTS5 syntax.
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


def _match(owners: str, essential: Sequence[str], others: Sequence[str]) -> str:
    """Rows of the owners holding an essential term, scored with every term: the others are
    OR-ed with the owner tokens, so they count where present without being required. bm25()
    adds the phrases' contributions in the order they appear (the owner tokens add 0), so the
    exhaustive expression (no others) sums the same numbers in the same order: same scores to
    the last bit."""
    expr = f"{owners} AND ({_phrases(essential)})"
    return f"{expr} AND ({_phrases(others)} OR {owners})" if others else expr


def _varint(data: bytes, start: int = 0) -> tuple[int, int]:
    """SQLite's variable-length integer at `start` in `data` (big-endian 7-bit groups, the ninth
    byte whole), the encoding of FTS5's records, and the offset after it."""
    value = 0
    for i, byte in enumerate(data[start : start + 8], start):
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i + 1
    return (value << 8) | data[start + 8], start + 9


def _segments(structure: bytes) -> int:
    """How many segments FTS5's structure record lists: after its 4-byte cookie, the number of
    levels, then of segments."""
    if len(structure) < 5:
        return 0  # no record: nothing was ever written
    _, after_levels = _varint(structure, 4)
    return _varint(structure, after_levels)[0]


State = tuple[bytes, bytes]  # FTS5's averages and structure records (`_STATE`)


def _state(columns: Sequence[Any]) -> State:
    return (bytes(columns[0] or b""), bytes(columns[1] or b""))


@dataclass
class _TermCounts:
    """How many rows hold each term, as bm25() takes them, kept for the state of the index they
    were read at (its averages and structure records). Counting a common term walks its whole
    doclist (a few ms for a reader's search of many owners, docs/benchmarks.md §5b), and queries
    share their common words; any committed write changes the state, and the counts start over."""

    state: State | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def keep(self, state: State, counts: dict[str, int]) -> None:
        if state != self.state or len(self.counts) + len(counts) > _COUNTS_KEPT:
            self.state, self.counts = state, {}
        self.counts.update(counts)


@dataclass(frozen=True, slots=True)
class Statistics:
    """bm25()'s inputs for a query's terms (`_statistics`), and the state of the index they
    were read at."""

    terms: list[str]
    state: State
    rows: int
    counts: list[int]  # per term, in `terms`' order


class SqliteFts5KeywordIndex:
    # In this process: two statements compete for the GIL and repeat the term statistics
    # (p50 +14 % for a reader of 11 owners, docs/benchmarks.md §5b). One statement.
    side_by_side = 1

    def __init__(self) -> None:
        self._counts = _TermCounts()

    async def prepare(self, session: AsyncSession, query: str) -> Statistics | None:
        """The terms' statistics, which need no scopes: read while the access rule decides
        them, so that a search of several owners does not wait for them (`search(prepared=)`)."""
        check_dialect(session, "sqlite")
        terms = query_terms(query)
        return Statistics(terms, *await _statistics(session, terms, self._counts)) if terms else None

    async def search(
        self, session: AsyncSession, scope: KeywordScope | Sequence[KeywordScope], query: str, *,
        limit: int, exhaustive: bool = False, prepared: object | None = None
    ) -> list[KeywordHit]:
        check_dialect(session, "sqlite")
        scopes = scope_list(scope)
        terms = query_terms(query)
        if not terms or not scopes or limit <= 0:
            return []
        ready = prepared if isinstance(prepared, Statistics) and prepared.terms == terms else None
        # Plain reads run outside a transaction (app.core.db), each statement on the latest
        # data: the bounds hold only if no write was committed between the statistics and the
        # rankings (`_STATE`). Otherwise once more with statistics read anew, then the
        # exhaustive ranking (whose bounds prune nothing, so one statement's data is all it needs).
        for pruned in (not exhaustive, not exhaustive, False):
            hits, consistent = await self._ranked(session, scopes, terms, limit, pruned, ready)
            if consistent or not pruned:
                return hits
            ready = None
        raise AssertionError("unreachable: the last attempt is exhaustive")

    async def compact(self, session: AsyncSession, *, pages: int) -> bool:
        """One step of merging the index's segments into one: FTS5's incremental `merge` of every
        segment (what `optimize` does at once), about `pages` pages written, committed. True
        when one segment (or none) is left. Each committed write adds a segment and FTS5 merges
        only a level's worth at a time, so a grown index keeps ten or so, and a search reads
        each term's postings from every one: merged into one, a reader's window statement took
        8 % less (docs/benchmarks.md §5b, 2026-12-06)."""
        check_dialect(session, "sqlite")
        if await _segment_count(session) <= 1:
            return True
        await session.execute(text(_MERGE), {"pages": -abs(pages)})
        await session.commit()
        return await _segment_count(session) <= 1

    async def _ranked(self, session: AsyncSession, scopes: Sequence[KeywordScope],
                      terms: Sequence[str], limit: int, pruned: bool, ready: Statistics | None
                      ) -> tuple[list[KeywordHit], bool]:
        """The best `limit` rows, and whether every statement read the statistics' data."""
        # Requiring one of the scopes' owner tokens lets FTS5 rank only their rows (see migration
        # 0004); the `owner_id` conditions keep the result correct whatever the tokens match.
        owners = "owner_key : (" + " OR ".join(
            f'"{owner_key(o)}"' for o in sorted({s.owner_id for s in scopes})) + ")"
        if len(scopes) == 1:
            # One partition: its matches are few enough that the statistics statement would
            # cost more than the rows it saves (docs/benchmarks.md §5b), so no bounds: every
            # matching row is ranked, in the query's term order, by score alone first.
            state, ranked, bounds = None, list(terms), [math.inf] * len(terms)
        else:
            state, rows, counts = (
                (ready.state, ready.rows, ready.counts) if ready is not None
                else await _statistics(session, terms, self._counts))
            # Rarest first: largest score bound first (the IDF falls as the count grows), and
            # one fixed phrase order for every statement, pruned or not.
            order = sorted(range(len(terms)), key=lambda i: (counts[i], terms[i]))
            ranked = [terms[i] for i in order]
            bounds = [_idf(rows, counts[i]) * (K1 + 1) for i in order]
        # A first guess of the threshold: the largest bound (one rare term's worth; the best of
        # SciFact bench queries' rows hold several). Too high costs a second round, too low
        # ranks more rows than needed; either way the loop below ends exact.
        essential = essential_count(bounds, bounds[0]) if pruned else len(ranked)
        window, consistent = pruned, True
        while True:
            q = _match(owners, ranked[:essential], ranked[essential:])
            hits, seen = await _window(session, scopes, q, limit) if window else (None, set())
            if hits is None:  # the window could not tell: rank with the conditions on every row
                window = False
                stmt, params = _statement(_FILTERED, scopes)
                found = (await session.execute(stmt, params | {"q": q, "limit": limit})).all()
                hits = [(r[0], float(r[1])) for r in found]
                seen |= {_state(r[2:]) for r in found}
            consistent = consistent and (state is None or seen <= {state})
            needed = essential_count(bounds, threshold_of(hits, limit))
            if needed <= essential:
                return hits, consistent
            essential = needed


async def _statistics(session: AsyncSession, terms: Sequence[str], kept: _TermCounts
                      ) -> tuple[State, int, list[int]]:
    """bm25()'s inputs for the bounds, with the state of the index they were read at: the table's
    row count and, per term, how many rows hold it (both over the whole table, as bm25() takes
    them). Counts kept for the state of the index this statement reads are not counted again."""
    state, known = kept.state, kept.counts  # as before the statement (others may replace them)
    for again in (True, False, False):
        missing = [t for t in terms if t not in known]
        # Only numbered placeholders are formatted in; the terms are bound.
        counts = "".join(f", (SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH :t{i})"  # noqa: S608
                         for i in range(len(missing)))
        found = (await session.execute(
            text(f"SELECT {_STATE}{counts}"),
            {f"t{i}": _phrases([t]) for i, t in enumerate(missing)})).one()
        now = _state(found[:2])
        fresh = dict(zip(missing, (int(n) for n in found[2:]), strict=True))
        kept.keep(now, fresh)
        if now == state or len(missing) == len(terms):
            return (now, _varint(found[0])[0] if found[0] else 0,
                    [fresh[t] if t in fresh else known[t] for t in terms])
        # Written since the kept counts were read: count the others at this state, or (written
        # once more) all of them.
        state, known = (now, fresh) if again else (None, {})
    raise AssertionError("unreachable: the last attempt counts every term")


async def _window(session: AsyncSession, scopes: Sequence[KeywordScope], q: str, limit: int
                  ) -> tuple[list[KeywordHit] | None, set[State]]:
    """The best `limit` rows from a window ranked by score alone, widened while it cannot tell
    (None when the last cannot either), and the states of the index the statements saw."""
    by_owner = {sc.owner_id: sc for sc in scopes}
    seen: set[State] = set()
    for size in _WINDOWS:
        n = limit * size
        rows = (await session.execute(text(_WINDOW), {"q": q, "n": n})).all()
        seen |= {_state(r[4:]) for r in rows}
        # A row of an owner without a scope is one the owner tokens matched by a collision.
        hits = certain_top([(r[0], float(r[1]), r[2] in by_owner and by_owner[r[2]].keeps(r[3]))
                            for r in rows], n, limit)
        if hits is not None:
            return hits, seen
    return None, seen


async def _segment_count(session: AsyncSession) -> int:
    return _segments(bytes(await session.scalar(text("SELECT " + _STRUCTURE)) or b""))


def _idf(rows: int, count: int) -> float:
    """bm25()'s IDF (fts5_aux.c): log((N - n + 0.5) / (n + 0.5)), at least 1e-6."""
    idf = math.log((rows - count + 0.5) / (count + 0.5)) if rows > count else 0.0
    return idf if idf > 0.0 else 1e-6
