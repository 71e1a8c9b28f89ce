"""keyword index covers heading paths

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The dense side embeds "heading > path + text"; the keyword side now indexes the same words, so a
question naming a section finds its passages by keyword too.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_TEXT = {
    True: "coalesce(new.heading_path, '') || ' ' || new.text",
    False: "new.text",
}


def _sqlite_triggers(with_headings: bool) -> None:
    indexed = _SQLITE_TEXT[with_headings]
    for trigger in ("chunks_fts_insert", "chunks_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        "INSERT INTO chunks_fts(rowid, text, chunk_id, owner_id, document_id) "
        f"VALUES (new.rowid, {indexed}, new.id, new.owner_id, new.document_id); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE ON chunks BEGIN "
        f"UPDATE chunks_fts SET text = {indexed}, owner_id = new.owner_id, "
        "document_id = new.document_id, chunk_id = new.id WHERE rowid = old.rowid; END"
    )
    source = "coalesce(heading_path, '') || ' ' || text" if with_headings else "text"
    op.execute("DELETE FROM chunks_fts")
    op.execute(
        "INSERT INTO chunks_fts(rowid, text, chunk_id, owner_id, document_id) "
        f"SELECT rowid, {source}, id, owner_id, document_id FROM chunks"
    )


def _pg_column(with_headings: bool) -> None:
    expr = ("to_tsvector('english', coalesce(heading_path::text, '') || ' ' || text)"
            if with_headings else "to_tsvector('english', text)")
    op.execute("DROP INDEX IF EXISTS ix_chunks_tsv")
    op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS tsv")
    op.execute(f"ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expr}) STORED")
    op.execute("CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_column(True)
    else:
        _sqlite_triggers(True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_column(False)
    else:
        _sqlite_triggers(False)
