"""Keyword search on SQLite: FTS5 with bm25 ranking.

Relies on the schema of migrations 0003 and 0004 (alembic/versions/): the virtual table
``chunks_fts(heading, text, owner_key, chunk_id UNINDEXED, owner_id UNINDEXED, document_id
UNINDEXED)`` with ``tokenize='porter unicode61'`` (stemming, diacritics folded), filled and kept in
step with ``chunks`` by the triggers ``chunks_fts_insert/_update/_delete``. ``heading`` holds the
heading path's strings, ``text`` the chunk text, ``owner_key`` one token per row: `owner_key()`
below must produce exactly what the triggers' ``_OWNER_KEY`` expression in 0004 writes. Changing
either side needs a migration that rebuilds the table.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.providers.keyword.base import KeywordHit, KeywordScope, check_dialect, query_terms

# A query word found in a chunk's heading path weighs 3x one found in its text (BM25F-style field
# weight). Chosen on SciFact *train* (titles as headings; 2-4 within 0.005 nDCG@10): keyword-only
# +0.009 on train, +0.006 on test over one field; the hybrid default is unchanged
# (docs/benchmarks.md §2). bm25()'s weights follow the FTS5 columns: heading, text, owner_key.
# bm25() is lower-is-better: negated, so scores are higher-is-better like PostgreSQL's.
# The owner_key column only narrows the MATCH to the caller's rows: weight 0.
_SQL = ("SELECT chunk_id, -bm25(chunks_fts, 3.0, 1.0, 0.0) AS score FROM chunks_fts "
        "WHERE chunks_fts MATCH :q "
        "AND owner_id = :owner {scope} ORDER BY score DESC, chunk_id LIMIT :limit")
_ALL = text(_SQL.format(scope=""))
_SCOPED = text(_SQL.format(scope="AND document_id IN :scope")).bindparams(
    bindparam("scope", expanding=True))
_EXCLUDING = text(_SQL.format(scope="AND document_id NOT IN :scope")).bindparams(
    bindparam("scope", expanding=True))


def owner_key(owner_id: str) -> str:
    """The FTS5 token of an owner: must match `_OWNER_KEY` in migration 0004 ("u" + the id's
    letters and digits + "0"; the trailing digit keeps the porter stemmer off the token)."""
    return "u" + owner_id.lower().replace("-", "").replace('"', "") + "0"


class SqliteFts5KeywordIndex:
    async def search(
        self, session: AsyncSession, scope: KeywordScope, query: str, *, limit: int
    ) -> list[KeywordHit]:
        check_dialect(session, "sqlite")
        terms = query_terms(query)
        # Each term a quoted FTS5 string (the words hold only letters and digits; quotes are
        # stripped anyway), so no query text is ever read as FTS5 syntax.
        either = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        if not either:
            return []
        # Requiring the owner's token lets FTS5 rank only the caller's rows (see migration 0004);
        # the `owner_id = :owner` condition keeps the result correct whatever the token matches.
        match = f'owner_key : "{owner_key(scope.owner_id)}" AND ({either})'
        params: dict[str, object] = {"q": match, "owner": scope.owner_id, "limit": limit}
        stmt = _ALL
        if scope.document_ids is not None:
            params["scope"] = sorted(scope.document_ids)
            stmt = _SCOPED
        elif scope.exclude_document_ids is not None:
            params["scope"] = sorted(scope.exclude_document_ids)
            stmt = _EXCLUDING
        return [(r[0], float(r[1])) for r in (await session.execute(stmt, params)).all()]
