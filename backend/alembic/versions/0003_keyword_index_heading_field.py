"""keyword index: headings as their own weighted field

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

0002 indexed "heading path + text" as one field. Now the heading path is a separate field so the
keyword ranking can weight a match in a heading above one in the body (BM25F-style; the weights are
in the keyword SQL of app/providers/keyword/, chosen on SciFact train, see docs/benchmarks.md §2):

* SQLite: `chunks_fts` gets two indexed columns, `heading` (the heading path's strings, decoded
  from JSON so non-ASCII titles tokenize as words, not as `\\u00e9` escapes) and `text`;
  `bm25(chunks_fts, w_heading, w_text)` weights them.
* PostgreSQL: `tsv` becomes `setweight(heading, 'A') || setweight(text, 'D')` (the heading JSON
  cast through jsonb, which decodes its unicode escapes);
  `ts_rank_cd('{D, C, B, A}', ...)` weights them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("chunks_fts_insert", "chunks_fts_delete", "chunks_fts_update")


def _heading(row: str) -> str:
    """The heading path's strings joined by spaces (the column holds a JSON array)."""
    col = f"{row}heading_path"
    return (f"CASE WHEN json_valid({col}) THEN (SELECT group_concat(value, ' ') FROM json_each({col})) "
            f"ELSE {col} END")


def _sqlite_upgrade() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS chunks_fts")
    op.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "heading, text, chunk_id UNINDEXED, owner_id UNINDEXED, document_id UNINDEXED, "
        "tokenize='porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        "INSERT INTO chunks_fts(rowid, heading, text, chunk_id, owner_id, document_id) "
        f"VALUES (new.rowid, coalesce({_heading('new.')}, ''), new.text, new.id, new.owner_id, "
        "new.document_id); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "
        "DELETE FROM chunks_fts WHERE rowid = old.rowid; END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE ON chunks BEGIN "
        f"UPDATE chunks_fts SET heading = coalesce({_heading('new.')}, ''), text = new.text, "
        "owner_id = new.owner_id, document_id = new.document_id, chunk_id = new.id "
        "WHERE rowid = old.rowid; END"
    )
    op.execute(
        "INSERT INTO chunks_fts(rowid, heading, text, chunk_id, owner_id, document_id) "
        f"SELECT rowid, coalesce({_heading('')}, ''), text, id, owner_id, document_id FROM chunks"
    )


def _sqlite_downgrade() -> None:
    """Back to 0002: one `text` column holding "heading path JSON + text"."""
    indexed = "coalesce(new.heading_path, '') || ' ' || new.text"
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS chunks_fts")
    op.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "text, chunk_id UNINDEXED, owner_id UNINDEXED, document_id UNINDEXED, "
        "tokenize='porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        "INSERT INTO chunks_fts(rowid, text, chunk_id, owner_id, document_id) "
        f"VALUES (new.rowid, {indexed}, new.id, new.owner_id, new.document_id); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "
        "DELETE FROM chunks_fts WHERE rowid = old.rowid; END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE ON chunks BEGIN "
        f"UPDATE chunks_fts SET text = {indexed}, owner_id = new.owner_id, "
        "document_id = new.document_id, chunk_id = new.id WHERE rowid = old.rowid; END"
    )
    op.execute(
        "INSERT INTO chunks_fts(rowid, text, chunk_id, owner_id, document_id) "
        "SELECT rowid, coalesce(heading_path, '') || ' ' || text, id, owner_id, document_id "
        "FROM chunks"
    )


def _pg_column(expr: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_chunks_tsv")
    op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS tsv")
    op.execute(f"ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expr}) STORED")
    op.execute("CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_column("setweight(to_tsvector('english', coalesce(heading_path::jsonb::text, '')), 'A') || "
                   "setweight(to_tsvector('english', text), 'D')")
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_column("to_tsvector('english', coalesce(heading_path::text, '') || ' ' || text)")
    else:
        _sqlite_downgrade()
