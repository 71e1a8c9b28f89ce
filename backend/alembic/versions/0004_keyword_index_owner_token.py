"""keyword index: the owner as an indexed token (SQLite)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Keyword search filtered `owner_id` (an UNINDEXED FTS5 column) row by row, after FTS5 had found
and ranked the matches of *every* owner: at 100k chunks over 20 owners that was ~160 ms a query.
Now `chunks_fts` also holds one `owner_key` token per row (see `app.providers.keyword.sqlite_fts5.owner_key`), and
the MATCH expression requires it, so FTS5 intersects posting lists and ranks only the caller's
rows. The `owner_id = :owner` condition stays in the SQL: the token makes the search fast, the
column keeps it correct. PostgreSQL is unchanged (its planner combines `owner_id` and `tsv`).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("chunks_fts_insert", "chunks_fts_delete", "chunks_fts_update")
# Must match app.providers.keyword.sqlite_fts5.owner_key: "u" + the id's letters and digits + "0". The trailing
# digit keeps the porter stemmer from touching the token (its rules only strip letter suffixes).
_OWNER_KEY = "'u' || lower(replace({row}owner_id, '-', '')) || '0'"


def _heading(row: str) -> str:
    """The heading path's strings joined by spaces (the column holds a JSON array), as in 0003."""
    col = f"{row}heading_path"
    return (f"CASE WHEN json_valid({col}) THEN (SELECT group_concat(value, ' ') FROM json_each({col})) "
            f"ELSE {col} END")


def _create(with_owner_key: bool) -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS chunks_fts")
    key_col, key_ins, key_new, key_old, key_set = (
        ("owner_key, ", "owner_key, ", _OWNER_KEY.format(row="new.") + ", ",
         _OWNER_KEY.format(row="") + ", ", f"owner_key = {_OWNER_KEY.format(row='new.')}, ")
        if with_owner_key else ("", "", "", "", ""))
    op.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        f"heading, text, {key_col}chunk_id UNINDEXED, owner_id UNINDEXED, document_id UNINDEXED, "
        "tokenize='porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        f"INSERT INTO chunks_fts(rowid, heading, text, {key_ins}chunk_id, owner_id, document_id) "
        f"VALUES (new.rowid, coalesce({_heading('new.')}, ''), new.text, {key_new}new.id, "
        "new.owner_id, new.document_id); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "
        "DELETE FROM chunks_fts WHERE rowid = old.rowid; END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE ON chunks BEGIN "
        f"UPDATE chunks_fts SET heading = coalesce({_heading('new.')}, ''), text = new.text, "
        f"{key_set}owner_id = new.owner_id, document_id = new.document_id, chunk_id = new.id "
        "WHERE rowid = old.rowid; END"
    )
    op.execute(
        f"INSERT INTO chunks_fts(rowid, heading, text, {key_ins}chunk_id, owner_id, document_id) "
        f"SELECT rowid, coalesce({_heading('')}, ''), text, {key_old}id, owner_id, document_id "
        "FROM chunks"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _create(with_owner_key=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _create(with_owner_key=False)
