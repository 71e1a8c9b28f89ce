"""Keyword search on PostgreSQL: ``tsvector`` full text with ``ts_rank_cd`` ranking.

Relies on the schema of migration 0003 (alembic/versions/): the generated column
``chunks.tsv = setweight(to_tsvector('english', heading path), 'A') ||
setweight(to_tsvector('english', text), 'D')`` with the GIN index ``ix_chunks_tsv``; PostgreSQL
keeps it current on every insert and update of ``chunks``. The ``'english'`` configuration here
(stemming, its own stop words) must be the one that column is built with. Migration 0004 changed
nothing here: the planner combines the ``owner_id`` condition and the ``tsv`` index by itself.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.providers.keyword.base import KeywordHit, KeywordScope, check_dialect, query_terms

# A query word found in a chunk's heading path weighs 3x one found in its text (BM25F-style field
# weight, chosen on SciFact train; docs/benchmarks.md §2). ts_rank_cd's weights are {D, C, B, A}
# (each at most 1): text is D, the heading path A. Normalisation 1 divides by 1 + log(length).
# Braces are doubled because the statement goes through str.format below.
_SQL = ("SELECT id, ts_rank_cd('{{0.1, 0.1, 0.1, 0.3}}', tsv, q, 1) AS score FROM chunks, "
        "to_tsquery('english', :q) AS q "
        "WHERE owner_id = :owner AND tsv @@ q {scope} ORDER BY score DESC, id LIMIT :limit")
_ALL = text(_SQL.format(scope=""))
_SCOPED = text(_SQL.format(scope="AND document_id IN :scope")).bindparams(
    bindparam("scope", expanding=True))
_EXCLUDING = text(_SQL.format(scope="AND document_id NOT IN :scope")).bindparams(
    bindparam("scope", expanding=True))
_NON_WORD = re.compile(r"\W")


class PostgresKeywordIndex:
    async def search(
        self, session: AsyncSession, scope: KeywordScope, query: str, *, limit: int
    ) -> list[KeywordHit]:
        check_dialect(session, "postgresql")
        # Only word characters reach to_tsquery, joined by its OR operator: no tsquery syntax
        # (& ! : * ( ) quotes) can come from the query text.
        cleaned = [_NON_WORD.sub("", t) for t in query_terms(query)]
        either = " | ".join(t for t in cleaned if t)
        if not either:
            return []
        params: dict[str, object] = {"q": either, "owner": scope.owner_id, "limit": limit}
        stmt = _ALL
        if scope.document_ids is not None:
            params["scope"] = sorted(scope.document_ids)
            stmt = _SCOPED
        elif scope.exclude_document_ids is not None:
            params["scope"] = sorted(scope.exclude_document_ids)
            stmt = _EXCLUDING
        return [(r[0], float(r[1])) for r in (await session.execute(stmt, params)).all()]
