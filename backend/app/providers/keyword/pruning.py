"""Exact top-k pruning for BM25 keyword search (MaxScore), used by the SQLite keyword index.

A query's words are OR-ed, so exhaustive ranking scores every row holding any of them, while only
the best `limit` are returned. In BM25 a term adds at most ``idf * (k1 + 1)`` to a row's score
(its term-frequency factor ``tf * (k1 + 1) / (tf + k1 * norm)`` stays below ``k1 + 1`` whatever
the field weights and the row's length). Sort the terms by that bound, largest (rarest) first; once
the `limit`-th best score of some rows is known (``threshold``), a row holding none of the leading
terms, only trailing ones whose bounds sum to less than it, cannot enter the result. The index
then ranks only the rows holding one of the leading ("essential") terms, scored with *all* the
terms exactly as before, and widens the essential set until the bound holds: the result is the
exhaustive ranking's (same ids, same scores, ties by chunk id), never an approximation.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.providers.keyword.base import KeywordHit

# The bounds are compared with a margin far above floating-point rounding, so a row's score
# computed by the database can never exceed what the bound promised.
_SLACK = 1e-9


def essential_count(bounds: Sequence[float], threshold: float | None) -> int:
    """How many leading terms (`bounds` sorted largest first) a row must hold one of to possibly
    score `threshold` or more: the other terms' bounds sum to less than it. All of them when
    there is no threshold yet (fewer rows than the limit)."""
    if threshold is None:
        return len(bounds)
    essential, rest = len(bounds), 0.0
    while essential > 1 and (rest + bounds[essential - 1]) * (1 + _SLACK) < threshold:
        rest += bounds[essential - 1]
        essential -= 1
    return essential


def threshold_of(hits: Sequence[KeywordHit], limit: int) -> float | None:
    """The `limit`-th best score, once there are that many hits (a lower bound of the final one)."""
    return hits[limit - 1][1] if len(hits) >= limit else None


def certain_top(rows: Sequence[tuple[str, float, bool]], fetched: int, limit: int
                ) -> list[KeywordHit] | None:
    """The best `limit` passing rows, ties by chunk id, from the `fetched` best rows by score alone
    (`rows`: chunk id, score, whether the row passes the scope's conditions), or None when that
    window cannot tell: rows tied with the last one may have been cut anywhere, so only rows
    scoring above it are certain, and too few of them may pass. Fewer than `fetched` rows means
    every matching row is there."""
    complete = len(rows) < fetched
    cut = float("-inf") if complete else rows[-1][1]
    passing = sorted(((cid, score) for cid, score, ok in rows if ok and score > cut),
                     key=lambda h: (-h[1], h[0]))
    if complete or len(passing) >= limit:
        return passing[:limit]
    return None
