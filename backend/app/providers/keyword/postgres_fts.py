"""Keyword search on PostgreSQL: BM25 over the postings migration 0011 maintains.

Relies on the schema of migrations 0003, 0011 and 0012 (alembic/versions/): ``chunks.tsv`` is the
generated column ``setweight(to_tsvector('english', words(heading path)), 'A') ||
setweight(to_tsvector('english', words(text)), 'D')``, where words() replaces every run of
non-alphanumeric characters by a space, as FTS5's unicode61 tokenizer and `query_terms` split
("IL-6" is ``il`` + ``6``, "3.5" is ``3`` + ``5``); from it, triggers keep ``keyword_postings`` (one row
per chunk and distinct lexeme: occurrences in the heading path and in the text, the chunk's length
in tokens; primary key ``(owner_id, lexeme, chunk_id)``) and ``keyword_stats`` (chunks and tokens
per document). The ``'english'`` configuration here (stemming, its own stop words) must be the one
that column is built with.

The score is Okapi BM25, like FTS5's ``bm25()`` on SQLite, with every statistic taken **within the
search's scope** (the owner, and the documents the scope names or excludes): N and the average
length from ``keyword_stats``, each term's document frequency from the postings the query reads.
A search reads only the postings of its own terms, never the chunks' text. A search over several
scopes (a reader's owner partitions) is one statement with one branch per scope (``part``): each
scope keeps its own statistics, the scores are merged by the final ORDER BY.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import BindParameter, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.providers.keyword.base import (
    KeywordHit,
    KeywordScope,
    check_dialect,
    query_terms,
    scope_list,
)

# k1 and b are the usual BM25 constants (FTS5's too). A query word found in a chunk's heading path
# weighs 3x one found in its text (BM25F-style, the same weight as FTS5's, chosen on SciFact train;
# docs/benchmarks.md §2). The IDF is Lucene's ln(1 + (N - df + 0.5) / (df + 0.5)): positive even
# for a word in most chunks of a small scope, where FTS5's form would go to zero.
K1, B, HEADING_WEIGHT = 1.2, 0.75, 3.0

_LEXEMES = ("SELECT DISTINCT lexeme FROM unnest(tsvector_to_array(to_tsvector('english', :words))) "
            "AS lexeme ORDER BY lexeme")
# Everything a ranking reads comes from one statement, so from one snapshot: the statistics, the
# bounds computed from them, and the rows. The postings of the query's lexemes in the scopes are
# read once (document frequencies, candidates and scores all come from them); {ranked} picks the
# ones to score as `hits`: all of them (exhaustive), or those of the chunks holding an essential
# lexeme (pruned). Scoring, grouping and sorting are what cost, not reading the postings.
_SQL = """
WITH terms(lexeme, n) AS (
    SELECT * FROM unnest(CAST(:lexemes AS text[])) WITH ORDINALITY
), stats AS (
{stats}
), postings AS MATERIALIZED (
{postings}
), weights AS (
    SELECT d.key, s.avgdl, ln(1.0 + (greatest(s.n, d.df) - d.df + 0.5) / (d.df + 0.5)) AS idf
    FROM (SELECT part, key, count(*) AS df FROM postings GROUP BY part, key) d
         JOIN stats s ON s.part = d.part
), scored AS (
    SELECT p.part, p.key, p.n, p.chunk_id,
           w.idf * p.tf * (CAST(:k1 AS float8) + 1)
             / (p.tf + CAST(:k1 AS float8) * (1 - CAST(:b AS float8)
                + CAST(:b AS float8) * p.length / greatest(w.avgdl, 1.0))) AS score
    FROM postings p JOIN weights w ON w.key = p.key
), {ranked}
SELECT chunk_id, {total} AS score, {threshold} AS threshold
FROM hits GROUP BY chunk_id ORDER BY score DESC, chunk_id LIMIT :limit
"""
_EXHAUSTIVE = "hits AS (SELECT chunk_id, n, score FROM scored)"
# MaxScore (app/providers/keyword/pruning.py) within the statement: per scope, the lexemes sorted by
# their bound idf * (k1 + 1); the smallest ones whose bounds sum to less than the threshold are
# not essential. The threshold is :theta, or at first half the largest bound of any lexeme (on
# SciFact claims over 1 and 11 partitions, one statement was enough for 28-29 queries in 30 with
# it, 2-27 with the whole bound). Only the chunks holding an essential lexeme are grouped and
# sorted.
_PRUNED = """threshold AS (
    SELECT coalesce(CAST(:theta AS float8), max(idf) * (CAST(:k1 AS float8) + 1) / 2) AS theta FROM weights
), essential AS (
    SELECT r.key FROM (
        SELECT key,
               row_number() OVER (PARTITION BY key / 1000 ORDER BY idf DESC, key DESC) AS rank,
               sum(idf) OVER (PARTITION BY key / 1000 ORDER BY idf, key) * (CAST(:k1 AS float8) + 1)
                 AS below
        FROM weights) r CROSS JOIN threshold t
    WHERE r.rank = 1 OR r.below * (1 + CAST(:slack AS float8)) >= t.theta
), hits AS (
    SELECT s.chunk_id, s.n, s.score FROM scored s
    WHERE s.chunk_id IN (SELECT c.chunk_id FROM scored c JOIN essential e ON e.key = c.key)
)"""
# One branch per scope (`part` i, owner :o<i>): its own N and average length, its own postings.
_STATS = """    SELECT {i} AS part, coalesce(sum(chunks), 0)::float8 AS n,
           coalesce(sum(length)::float8 / nullif(sum(chunks), 0), 1.0) AS avgdl
    FROM keyword_stats WHERE owner_id = :o{i}{stats_scope}"""
_POSTINGS = """    SELECT {i} AS part, {i} * 1000 + t.n AS key, t.n, p.chunk_id,
           (CAST(:heading_weight AS float8) * p.tf_heading + p.tf_text)::float8 AS tf,
           p.length::float8 AS length
    FROM terms t JOIN keyword_postings p ON p.owner_id = :o{i} AND p.lexeme = t.lexeme{hits_scope}"""
_NON_WORD = re.compile(r"\W")
# Bounds are compared with this relative margin, far above floating-point rounding.
_SLACK = 1e-9


def _statement(scopes: Sequence[KeywordScope], lexemes: int, pruned: bool
               ) -> tuple[TextClause, dict[str, object]]:
    """BM25 over the union of `scopes` in one statement: every statistic (N, average length,
    document frequency) is computed per scope, exactly as a search of that scope alone. A chunk's
    score adds its lexemes' contributions in one fixed order (:l0, :l1, ...; a missing one adds
    0), so pruned and exhaustive statements give the same scores to the last bit."""
    stats: list[str] = []
    postings: list[str] = []
    params: dict[str, object] = {}
    expanding: list[BindParameter[object]] = []
    for i, sc in enumerate(scopes):
        params[f"o{i}"] = sc.owner_id
        stats_scope = hits_scope = ""
        ids = sc.document_ids if sc.document_ids is not None else sc.exclude_document_ids
        if ids is not None:
            op = "IN" if sc.document_ids is not None else "NOT IN"
            params[f"d{i}"] = sorted(ids)
            expanding.append(bindparam(f"d{i}", expanding=True))
            stats_scope = f" AND document_id {op} :d{i}"
            # Only fixed SQL and numbered placeholders are formatted in; every value is bound.
            hits_scope = (f"\n    WHERE p.chunk_id {op} (SELECT id FROM chunks "  # noqa: S608
                          f"WHERE owner_id = :o{i} AND document_id IN :d{i})")
        stats.append(_STATS.format(i=i, stats_scope=stats_scope))
        postings.append(_POSTINGS.format(i=i, hits_scope=hits_scope))
    total = " + ".join(f"coalesce(sum(score) FILTER (WHERE n = {n}), 0)"
                       for n in range(1, lexemes + 1))
    stmt = text(_SQL.format(stats="\n    UNION ALL\n".join(stats),
                            postings="\n    UNION ALL\n".join(postings),
                            ranked=_PRUNED if pruned else _EXHAUSTIVE, total=total,
                            threshold="(SELECT theta FROM threshold)" if pruned else "NULL"))
    return (stmt.bindparams(*expanding) if expanding else stmt), params


class PostgresKeywordIndex:
    async def search(
        self, session: AsyncSession, scope: KeywordScope | Sequence[KeywordScope], query: str, *,
        limit: int, exhaustive: bool = False
    ) -> list[KeywordHit]:
        check_dialect(session, "postgresql")
        scopes = scope_list(scope)
        # Only word characters reach to_tsvector (which has no syntax anyway); PostgreSQL's
        # 'english' configuration then stems them and drops its own stop words.
        words = " ".join(w for w in (_NON_WORD.sub("", t) for t in query_terms(query)) if w)
        if not words or not scopes or limit <= 0:
            return []
        lexemes = list((await session.execute(text(_LEXEMES), {"words": words})).scalars())
        if not lexemes:
            return []
        params = {"lexemes": lexemes, "limit": limit, "k1": K1, "b": B,
                  "heading_weight": HEADING_WEIGHT, "slack": _SLACK}
        # Pruned with the statement's own first threshold, then with the limit-th score that
        # found (the bound did not hold: the threshold was above it), then exhaustive. Each
        # statement checks its bound against its own result, in its own snapshot: a pruned result
        # is returned only if its limit-th score reaches the threshold it pruned with.
        theta: float | None = None
        for _ in range(0 if exhaustive else 2):
            hits, used = await _ranked(session, scopes, len(lexemes), params | {"theta": theta})
            if len(hits) < limit or used is None:
                break  # fewer rows hold an essential lexeme: no threshold to prune with
            if hits[-1][1] >= used:
                return hits
            theta = hits[-1][1]
        return (await _ranked(session, scopes, len(lexemes), params, pruned=False))[0]


async def _ranked(session: AsyncSession, scopes: Sequence[KeywordScope], lexemes: int,
                  params: dict[str, object], *, pruned: bool = True
                  ) -> tuple[list[KeywordHit], float | None]:
    """The best `limit` rows and the threshold the statement pruned with (None: exhaustive)."""
    stmt, scope_params = _statement(scopes, lexemes, pruned)
    rows = (await session.execute(stmt, scope_params | params)).all()
    used = float(rows[0][2]) if rows and rows[0][2] is not None else None
    return [(r[0], float(r[1])) for r in rows], used
