"""The keyword-index protocol: full-text search over the `chunks` table, always within named owners.

The index itself lives in the database, beside the ORM tables, and is maintained by the database
(not by application code): on SQLite the FTS5 table `chunks_fts` is kept in step with `chunks` by
triggers, on PostgreSQL `chunks.tsv` is a generated column with a GIN index. Both are created by
the migrations (0001, reshaped by 0002-0004); each implementation's docstring says exactly which
columns and tokens its SQL relies on. Writing, replacing or deleting chunk rows is all the
"indexing" there is, so the protocol has only `search`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from app.providers.scopes import admits

KeywordHit = tuple[str, float]  # (chunk id, relevance: higher is better, comparable within a query)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that match nearly every chunk; dropping them keeps OR-queries fast and focused.
_STOP = frozenset(
    "a an and are as at be but by can could did do does for from had has have how i if in into is "
    "it its me my no not of on or our so such than that the their them then there these they this "
    "those to was we were what when where which who whom why will with would you your about".split()
)
MAX_TERMS = 32


def query_terms(query: str) -> list[str]:
    """The query's distinct lower-cased words (letters and digits), stop words and one-letter
    words dropped unless nothing else is left; at most `MAX_TERMS`. Both implementations OR them."""
    words = [w.lower() for w in _WORD.findall(query)]
    terms = [w for w in words if w not in _STOP and len(w) > 1] or words
    return list(dict.fromkeys(terms))[:MAX_TERMS]


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordScope:
    """The chunks a search may return: always one owner's, optionally only of `document_ids`
    (None: all of the owner's documents) or all but `exclude_document_ids`. Like `VectorScope`,
    a reader's readable set is one scope per owner (`app.access`); it cannot be built without an
    owner."""

    owner_id: str
    document_ids: frozenset[str] | None = None
    exclude_document_ids: frozenset[str] | None = None
    # Set by the access rule when the document condition is exactly the owner's documents in
    # these spaces (collection ids, '' for the private space) as it listed them: an index may
    # take the scope's statistics from the spaces (PostgreSQL, migration 0019). The condition
    # alone decides which rows are returned.
    spaces: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.owner_id, str) or not self.owner_id:
            raise ValueError(f"a keyword scope needs an owner id, got {self.owner_id!r}")
        if self.document_ids is not None and self.exclude_document_ids is not None:
            raise ValueError("document_ids and exclude_document_ids are exclusive")
        if self.spaces is not None and (
                self.whole or not isinstance(self.spaces, frozenset) or not self.spaces
                or not all(isinstance(s, str) for s in self.spaces)):
            raise ValueError("spaces: a non-empty frozenset of space ids, with a document condition")
        for ids in (self.document_ids, self.exclude_document_ids):
            if ids is None:
                continue
            if not isinstance(ids, frozenset):
                raise TypeError(f"document ids must be a frozenset or None, got {type(ids).__name__}")
            if not ids or not all(isinstance(d, str) and d for d in ids):
                raise ValueError("document ids must be non-empty ids (None: no restriction)")

    @property
    def whole(self) -> bool:
        """All of the owner's documents: no document condition."""
        return self.document_ids is None and self.exclude_document_ids is None

    def keeps(self, document_id: str) -> bool:
        """Whether the scope's document conditions admit `document_id` (of this owner)."""
        return admits(document_id, self.document_ids, self.exclude_document_ids)


def scope_list(scope: KeywordScope | Sequence[KeywordScope]) -> tuple[KeywordScope, ...]:
    """One scope or several, each of a different owner (a reader's readable set has one scope per
    owner; two scopes of one owner would be ambiguous about whose statistics rank a row)."""
    scopes = (scope,) if isinstance(scope, KeywordScope) else tuple(scope)
    for s in scopes:
        if not isinstance(s, KeywordScope):
            raise TypeError(f"expected KeywordScope, got {type(s).__name__}")
    if len({s.owner_id for s in scopes}) != len(scopes):
        raise ValueError("one keyword scope per owner")
    return scopes


def split_scopes(scopes: Sequence[KeywordScope], ways: int) -> list[list[KeywordScope]]:
    """`scopes` dealt into at most `ways` groups of at least two scopes each, to be searched side
    by side and merged with `merge_hits`. Two at least: FTS5 ranks a lone scope with its terms in
    the query's order, several in one fixed order, and the sums may differ in the last bit."""
    ways = max(1, min(ways, len(scopes) // 2))
    return [list(scopes[i::ways]) for i in range(ways)]


def merge_hits(found: Sequence[Sequence[tuple[str, float]]], limit: int) -> list[tuple[str, float]]:
    """The best `limit` (id, score) pairs of several searches of disjoint scopes, best first, ties
    by id: for keyword hits the order one search of all of them gives (every scope is ranked with
    its own statistics); retrieval merges a reader's vector partitions the same way."""
    return sorted((h for hits in found for h in hits), key=lambda h: (-h[1], h[0]))[:limit]


@runtime_checkable
class KeywordIndex(Protocol):
    # How many statements a search of several owners is best split into (`split_scopes`), run
    # side by side on connections of their own; `keyword_statements` overrides it.
    side_by_side: int

    async def prepare(self, session: AsyncSession, query: str) -> object | None:
        """What a search of `query` can do before its scopes are known, to hand to `search` as
        `prepared` on the same session: SQLite reads the terms' statistics; PostgreSQL makes the
        ranking's planner settings for the rest of `session`'s transaction (so call it on a
        session of the search's own) and reads the query's lexemes. None when there is
        nothing."""
        ...

    async def compact(self, session: AsyncSession, *, pages: int) -> bool:
        """One bounded step of upkeep while nothing else is written (the embedded job runner
        calls it when idle): SQLite merges FTS5's segments, about `pages` pages per step,
        committed. True when nothing is left to do. Searches give the same results either way."""
        ...

    async def search(
        self, session: AsyncSession, scope: KeywordScope | Sequence[KeywordScope], query: str, *,
        limit: int, exhaustive: bool = False, prepared: object | None = None
    ) -> list[KeywordHit]:
        """Up to ``limit`` (chunk id, score) pairs within ``scope`` — or within the union of several
        scopes, one per owner — best first (ties by chunk id). Every row is scored exactly as a
        search of its own scope alone would score it (each scope keeps its own statistics), so
        the result is those searches' results merged by score and cut to ``limit``. An index may
        skip rows that cannot reach the top ``limit`` (SQLite does: `pruning`); ``exhaustive``
        ranks every matching row instead, for the same result (tests and benchmarks compare).
        A query without usable words, or no scope, returns ``[]``. The caller re-checks every
        hit (document still ready, chunk of its current version) in the database. `prepared`
        is what `prepare` returned for the same query (the result does not depend on it)."""
        ...


def check_dialect(session: AsyncSession, expected: str) -> None:
    """An index's SQL only works on its own database: fail clearly if wired to another one."""
    actual = session.get_bind().dialect.name
    if actual != expected:
        raise RuntimeError(f"this keyword index needs {expected}, the session is bound to {actual}")
