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

# A query word found in a chunk's heading path weighs 3x one found in its text (BM25F-style field
# weight). Chosen on SciFact *train* (titles as headings; 2-4 within 0.005 nDCG@10): keyword-only
# +0.009 on train, +0.006 on test over one field; the hybrid default is unchanged
# (docs/benchmarks.md §2). bm25()'s weights follow the FTS5 columns: heading, text, owner_key.
# bm25() is lower-is-better: negated, so scores are higher-is-better like PostgreSQL's.
# The owner_key column only narrows the MATCH to the scopes' rows: weight 0, so a row's score is
# the same whichever owner tokens the MATCH names (FTS5 takes N and each term's document frequency
# from the whole table, never from the MATCH: one statement over several owners ranks every row
# exactly as that owner's own search would).
_SQL = ("SELECT chunk_id, -bm25(chunks_fts, 3.0, 1.0, 0.0) AS score FROM chunks_fts "
        "WHERE chunks_fts MATCH :q AND ({scopes}) ORDER BY score DESC, chunk_id LIMIT :limit")


def owner_key(owner_id: str) -> str:
    """The FTS5 token of an owner: must match `_OWNER_KEY` in migration 0004 ("u" + the id's
    letters and digits + "0"; the trailing digit keeps the porter stemmer off the token)."""
    return "u" + owner_id.lower().replace("-", "").replace('"', "") + "0"


def _statement(scopes: Sequence[KeywordScope]) -> tuple[TextClause, dict[str, object]]:
    """The row conditions of every scope, OR-ed: `owner_id = :o<i>` and, for a narrowed scope,
    its document list (the owner token only narrows the MATCH; this keeps the result exact)."""
    parts: list[str] = []
    params: dict[str, object] = {}
    expanding: list[BindParameter[object]] = []
    for i, sc in enumerate(scopes):
        params[f"o{i}"] = sc.owner_id
        cond = f"owner_id = :o{i}"
        ids = sc.document_ids if sc.document_ids is not None else sc.exclude_document_ids
        if ids is not None:
            params[f"d{i}"] = sorted(ids)
            expanding.append(bindparam(f"d{i}", expanding=True))
            cond += f" AND document_id {'IN' if sc.document_ids is not None else 'NOT IN'} :d{i}"
        parts.append(f"({cond})")
    stmt = text(_SQL.format(scopes=" OR ".join(parts)))
    return (stmt.bindparams(*expanding) if expanding else stmt), params


class SqliteFts5KeywordIndex:
    async def search(
        self, session: AsyncSession, scope: KeywordScope | Sequence[KeywordScope], query: str, *,
        limit: int
    ) -> list[KeywordHit]:
        check_dialect(session, "sqlite")
        scopes = scope_list(scope)
        terms = query_terms(query)
        # Each term a quoted FTS5 string (the words hold only letters and digits; quotes are
        # stripped anyway), so no query text is ever read as FTS5 syntax.
        either = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        if not either or not scopes:
            return []
        # Requiring one of the scopes' owner tokens lets FTS5 rank only their rows (see migration
        # 0004); the `owner_id` conditions keep the result correct whatever the tokens match.
        owners = " OR ".join(f'"{owner_key(o)}"' for o in sorted({s.owner_id for s in scopes}))
        stmt, params = _statement(scopes)
        params |= {"q": f"owner_key : ({owners}) AND ({either})", "limit": limit}
        return [(r[0], float(r[1])) for r in (await session.execute(stmt, params)).all()]
