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

_SQL = """
WITH terms AS (
    SELECT DISTINCT lexeme FROM unnest(tsvector_to_array(to_tsvector('english', :words))) AS lexeme
), stats AS (
{stats}
), constants AS (
    SELECT CAST(:k1 AS float8) AS k1, CAST(:b AS float8) AS b
), hits AS MATERIALIZED (
{hits}
), idf AS (
    SELECT h.part, h.lexeme,
           ln(1.0 + (greatest(s.n, count(*)) - count(*) + 0.5) / (count(*) + 0.5)) AS idf
    FROM hits h JOIN stats s ON s.part = h.part GROUP BY h.part, h.lexeme, s.n
)
SELECT h.chunk_id,
       sum(i.idf * h.tf * (c.k1 + 1) / (h.tf + c.k1 * (1 - c.b + c.b * h.length / greatest(s.avgdl, 1.0))))
         AS score
FROM hits h JOIN idf i ON i.part = h.part AND i.lexeme = h.lexeme JOIN stats s ON s.part = h.part
     CROSS JOIN constants c
GROUP BY h.chunk_id ORDER BY score DESC, h.chunk_id LIMIT :limit
"""
# One branch per scope (`part` i, owner :o<i>): its own N and average length, its own postings.
_STATS = """    SELECT {i} AS part, coalesce(sum(chunks), 0)::float8 AS n,
           coalesce(sum(length)::float8 / nullif(sum(chunks), 0), 1.0) AS avgdl
    FROM keyword_stats WHERE owner_id = :o{i}{stats_scope}"""
_HITS = """    SELECT {i} AS part, p.lexeme, p.chunk_id,
           (CAST(:heading_weight AS float8) * p.tf_heading + p.tf_text)::float8 AS tf,
           p.length::float8 AS length
    FROM terms t JOIN keyword_postings p ON p.owner_id = :o{i} AND p.lexeme = t.lexeme{hits_scope}"""
_NON_WORD = re.compile(r"\W")


def _statement(scopes: Sequence[KeywordScope]) -> tuple[TextClause, dict[str, object]]:
    """BM25 over the union of `scopes` in one statement: every statistic (N, average length,
    document frequency) is computed per scope, exactly as a search of that scope alone."""
    stats: list[str] = []
    hits: list[str] = []
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
        hits.append(_HITS.format(i=i, hits_scope=hits_scope))
    stmt = text(_SQL.format(stats="\n    UNION ALL\n".join(stats),
                            hits="\n    UNION ALL\n".join(hits)))
    return (stmt.bindparams(*expanding) if expanding else stmt), params


class PostgresKeywordIndex:
    async def search(
        self, session: AsyncSession, scope: KeywordScope | Sequence[KeywordScope], query: str, *,
        limit: int, exhaustive: bool = False
    ) -> list[KeywordHit]:
        # Every search here ranks every matching row: MaxScore pruning inside this statement did
        # not pay off on PostgreSQL (docs/benchmarks.md §5b, 2026-11-30): the postings must all
        # be read for the document frequencies anyway, and the planner's row estimates for the
        # CTEs a pruned statement needs led it into nested loops (15-30 s on some queries).
        del exhaustive
        check_dialect(session, "postgresql")
        scopes = scope_list(scope)
        # Only word characters reach to_tsvector (which has no syntax anyway); PostgreSQL's
        # 'english' configuration then stems them and drops its own stop words.
        words = " ".join(w for w in (_NON_WORD.sub("", t) for t in query_terms(query)) if w)
        if not words or not scopes:
            return []
        stmt, params = _statement(scopes)
        params |= {"words": words, "limit": limit, "k1": K1, "b": B,
                   "heading_weight": HEADING_WEIGHT}
        return [(r[0], float(r[1])) for r in (await session.execute(stmt, params)).all()]
