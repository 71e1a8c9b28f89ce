"""keyword index: the parts of identifiers are indexed too

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

Both keyword indexes split text at every character that is not a letter or digit, so a camel-case
identifier stays one token: "how do I center a string?" never met `drawCentredString`, nor "file
url to path" `fileURLToPath` (issue 14). `chunks.index_terms` now holds the parts of the text's
identifiers (`app.providers.keyword.identifiers.index_terms`, filled when a chunk row is written;
here for the rows that exist), and both indexes index it after the text, in the text field:

* SQLite: `chunks_fts.text` is `text || char(10) || index_terms` (the table and its triggers of
  migration 0004 rebuilt, otherwise unchanged);
* PostgreSQL: the generated column `tsv` of 0012 reads `text || ' ' || index_terms`, and the
  postings and statistics of 0011 are rebuilt from it.

This migration imports `index_terms` from the application: the parts it writes for existing rows
are the ones new rows get.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.providers.keyword.identifiers import index_terms

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000

# ---- SQLite: migration 0004's table and triggers, the text column fed with the parts ----------
_TRIGGERS = ("chunks_fts_insert", "chunks_fts_delete", "chunks_fts_update")
_OWNER_KEY = "'u' || lower(replace({row}owner_id, '-', '')) || '0'"  # as in 0004


def _heading(row: str) -> str:
    col = f"{row}heading_path"
    return (f"CASE WHEN json_valid({col}) THEN (SELECT group_concat(value, ' ') FROM json_each({col})) "
            f"ELSE {col} END")


def _text(row: str, with_terms: bool) -> str:
    return f"{row}text || char(10) || {row}index_terms" if with_terms else f"{row}text"


def _fts5(with_terms: bool) -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS chunks_fts")
    op.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "heading, text, owner_key, chunk_id UNINDEXED, owner_id UNINDEXED, document_id UNINDEXED, "
        "tokenize='porter unicode61')")
    columns = "rowid, heading, text, owner_key, chunk_id, owner_id, document_id"
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "
        f"INSERT INTO chunks_fts({columns}) VALUES (new.rowid, coalesce({_heading('new.')}, ''), "
        f"{_text('new.', with_terms)}, {_OWNER_KEY.format(row='new.')}, new.id, new.owner_id, "
        "new.document_id); END")
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "
        "DELETE FROM chunks_fts WHERE rowid = old.rowid; END")
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE ON chunks BEGIN "
        f"UPDATE chunks_fts SET heading = coalesce({_heading('new.')}, ''), "
        f"text = {_text('new.', with_terms)}, owner_key = {_OWNER_KEY.format(row='new.')}, "
        "owner_id = new.owner_id, document_id = new.document_id, chunk_id = new.id "
        "WHERE rowid = old.rowid; END")
    op.execute(
        f"INSERT INTO chunks_fts({columns}) SELECT rowid, coalesce({_heading('')}, ''), "
        f"{_text('', with_terms)}, {_OWNER_KEY.format(row='')}, id, owner_id, document_id "
        "FROM chunks")


# ---- PostgreSQL: 0012's generated column, the text with the parts ------------------------------
def _words(expr: str) -> str:
    return f"regexp_replace({expr}, '[^[:alnum:]]+', ' ', 'g')"


_HEADING = "coalesce(heading_path::jsonb::text, '')"


def _tsv(with_terms: bool) -> str:
    body = "text || ' ' || index_terms" if with_terms else "text"
    return (f"setweight(to_tsvector('english', {_words(_HEADING)}), 'A') || "
            f"setweight(to_tsvector('english', {_words(body)}), 'D')")


_REBUILD = [  # 0011's postings and statistics, recomputed from the whole table (as in 0012)
    "TRUNCATE keyword_postings, keyword_stats",
    "INSERT INTO keyword_postings (owner_id, lexeme, chunk_id, tf_heading, tf_text, length) "
    "SELECT r.owner_id, u.lexeme, r.id, cardinality(array_positions(u.weights, 'A')), "
    "cardinality(array_positions(u.weights, 'D')), keyword_token_count(r.tsv) "
    "FROM chunks r, unnest(r.tsv) u",
    "INSERT INTO keyword_stats (document_id, owner_id, chunks, length) "
    "SELECT document_id, owner_id, count(*), sum(keyword_token_count(tsv)) FROM chunks "
    "GROUP BY document_id, owner_id",
]


def _postgres(with_terms: bool) -> None:
    # Dropping and re-adding the generated column rewrites the table without firing 0011's
    # triggers, so the postings are rebuilt explicitly afterwards.
    op.execute("ALTER TABLE chunks DROP COLUMN tsv")
    op.execute(f"ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({_tsv(with_terms)}) "
               "STORED")
    for statement in _REBUILD:
        op.execute(statement)


def _backfill() -> None:
    """`index_terms` of the existing rows, in batches by id."""
    bind = op.get_bind()
    select = sa.text("SELECT id, text FROM chunks WHERE id > :after ORDER BY id LIMIT :n")
    update = sa.text("UPDATE chunks SET index_terms = :terms WHERE id = :id")
    after = ""
    while rows := bind.execute(select, {"after": after, "n": _BATCH}).all():
        changes = [{"id": cid, "terms": terms} for cid, text in rows if (terms := index_terms(text))]
        if changes:
            bind.execute(update, changes)
        after = rows[-1][0]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if not postgres:  # the FTS table is rebuilt below: no trigger work per backfilled row
        for trigger in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.add_column("chunks", sa.Column("index_terms", sa.Text(), nullable=False, server_default=""))
    if postgres:  # 0011's postings triggers: rebuilt once below instead of per updated row
        op.execute("ALTER TABLE chunks DISABLE TRIGGER USER")
    _backfill()
    if postgres:
        op.execute("ALTER TABLE chunks ENABLE TRIGGER USER")
        _postgres(with_terms=True)
    else:
        _fts5(with_terms=True)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _postgres(with_terms=False)
    else:
        _fts5(with_terms=False)
    op.drop_column("chunks", "index_terms")
