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
A search reads only the postings of its own terms, never the chunks' text.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.providers.keyword.base import KeywordHit, KeywordScope, check_dialect, query_terms

# k1 and b are the usual BM25 constants (FTS5's too). A query word found in a chunk's heading path
# weighs 3x one found in its text (BM25F-style, the same weight as FTS5's, chosen on SciFact train;
# docs/benchmarks.md §2). The IDF is Lucene's ln(1 + (N - df + 0.5) / (df + 0.5)): positive even
# for a word in most chunks of a small scope, where FTS5's form would go to zero.
K1, B, HEADING_WEIGHT = 1.2, 0.75, 3.0

_SQL = """
WITH terms AS (
    SELECT DISTINCT lexeme FROM unnest(tsvector_to_array(to_tsvector('english', :words))) AS lexeme
), stats AS (
    SELECT coalesce(sum(chunks), 0)::float8 AS n,
           coalesce(sum(length)::float8 / nullif(sum(chunks), 0), 1.0) AS avgdl
    FROM keyword_stats WHERE owner_id = :owner {stats_scope}
), constants AS (
    SELECT CAST(:k1 AS float8) AS k1, CAST(:b AS float8) AS b
), hits AS MATERIALIZED (
    SELECT p.lexeme, p.chunk_id, (CAST(:heading_weight AS float8) * p.tf_heading + p.tf_text)::float8 AS tf,
           p.length::float8 AS length
    FROM terms t JOIN keyword_postings p ON p.owner_id = :owner AND p.lexeme = t.lexeme
    {hits_scope}
), idf AS (
    SELECT h.lexeme, ln(1.0 + (greatest(s.n, count(*)) - count(*) + 0.5) / (count(*) + 0.5)) AS idf
    FROM hits h CROSS JOIN stats s GROUP BY h.lexeme, s.n
)
SELECT h.chunk_id,
       sum(i.idf * h.tf * (c.k1 + 1) / (h.tf + c.k1 * (1 - c.b + c.b * h.length / greatest(s.avgdl, 1.0))))
         AS score
FROM hits h JOIN idf i ON i.lexeme = h.lexeme CROSS JOIN stats s CROSS JOIN constants c
GROUP BY h.chunk_id ORDER BY score DESC, h.chunk_id LIMIT :limit
"""
_ALL = text(_SQL.format(stats_scope="", hits_scope=""))
_SCOPED = text(_SQL.format(
    stats_scope="AND document_id IN :scope",
    hits_scope="WHERE p.chunk_id IN (SELECT id FROM chunks WHERE owner_id = :owner "
               "AND document_id IN :scope)",
)).bindparams(bindparam("scope", expanding=True))
_EXCLUDING = text(_SQL.format(
    stats_scope="AND document_id NOT IN :scope",
    hits_scope="WHERE p.chunk_id NOT IN (SELECT id FROM chunks WHERE owner_id = :owner "
               "AND document_id IN :scope)",
)).bindparams(bindparam("scope", expanding=True))
_NON_WORD = re.compile(r"\W")


class PostgresKeywordIndex:
    async def search(
        self, session: AsyncSession, scope: KeywordScope, query: str, *, limit: int
    ) -> list[KeywordHit]:
        check_dialect(session, "postgresql")
        # Only word characters reach to_tsvector (which has no syntax anyway); PostgreSQL's
        # 'english' configuration then stems them and drops its own stop words.
        words = " ".join(w for w in (_NON_WORD.sub("", t) for t in query_terms(query)) if w)
        if not words:
            return []
        params: dict[str, object] = {"words": words, "owner": scope.owner_id, "limit": limit,
                                     "k1": K1, "b": B, "heading_weight": HEADING_WEIGHT}
        stmt = _ALL
        if scope.document_ids is not None:
            params["scope"] = sorted(scope.document_ids)
            stmt = _SCOPED
        elif scope.exclude_document_ids is not None:
            params["scope"] = sorted(scope.exclude_document_ids)
            stmt = _EXCLUDING
        return [(r[0], float(r[1])) for r in (await session.execute(stmt, params)).all()]
