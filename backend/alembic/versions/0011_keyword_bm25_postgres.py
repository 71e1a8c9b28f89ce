"""keyword index: BM25 on PostgreSQL (postings and per-document statistics)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

`ts_rank_cd` has no inverse document frequency and ranking by it means reading every matching
chunk's tsvector (docs/benchmarks.md §2). PostgreSQL now keeps what BM25 needs, maintained by the
database from `chunks.tsv` (still the generated column of 0003) by statement-level triggers:

* `keyword_postings(owner_id, lexeme, chunk_id, tf_heading, tf_text, length)`: one row per distinct
  lexeme of a chunk, with its occurrences in the heading path (weight A) and in the text (weight
  D), and the chunk's length in tokens. The primary key `(owner_id, lexeme, chunk_id)` is the
  inverted index: a query reads only its own terms' postings, within one owner.
* `keyword_stats(document_id, owner_id, chunks, length)`: chunk count and total tokens per
  document, so the number of chunks and their average length under any owner/document filter
  come from a few rows.

The ranking itself (IDF from the postings read, weights, k1, b) is in
app/providers/keyword/postgres_fts.py. The GIN index on `tsv` is no longer used and is dropped.
SQLite is untouched: FTS5 ranks with bm25 already.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENS = """
CREATE FUNCTION keyword_token_count(v tsvector) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT coalesce(sum(cardinality(positions)), 0)::integer FROM unnest(v) $$
"""

# Postings of the chunks in `rows` (a transition table); each lexeme's positions carry the weight
# of their field: A = heading path, D = text (0003's generated column).
_ADD = """
    INSERT INTO keyword_postings (owner_id, lexeme, chunk_id, tf_heading, tf_text, length)
    SELECT r.owner_id, u.lexeme, r.id,
           cardinality(array_positions(u.weights, 'A')), cardinality(array_positions(u.weights, 'D')),
           keyword_token_count(r.tsv)
    FROM {rows} r, unnest(r.tsv) u;
    INSERT INTO keyword_stats AS s (document_id, owner_id, chunks, length)
    SELECT document_id, owner_id, count(*), sum(keyword_token_count(tsv)) FROM {rows}
    GROUP BY document_id, owner_id
    ON CONFLICT (document_id) DO UPDATE
        SET chunks = s.chunks + excluded.chunks, length = s.length + excluded.length;
"""
_REMOVE = """
    DELETE FROM keyword_postings p
    USING (SELECT r.owner_id, u.lexeme, r.id FROM {rows} r, unnest(r.tsv) u) x
    WHERE p.owner_id = x.owner_id AND p.lexeme = x.lexeme AND p.chunk_id = x.id;
    UPDATE keyword_stats s SET chunks = s.chunks - d.chunks, length = s.length - d.length
    FROM (SELECT document_id, count(*) AS chunks, sum(keyword_token_count(tsv)) AS length
          FROM {rows} GROUP BY document_id) d
    WHERE s.document_id = d.document_id;
    DELETE FROM keyword_stats WHERE chunks <= 0 AND document_id IN (SELECT document_id FROM {rows});
"""
_FUNCTIONS = {
    "keyword_index_insert": _ADD.format(rows="new_rows"),
    "keyword_index_delete": _REMOVE.format(rows="old_rows"),
    "keyword_index_update": _REMOVE.format(rows="old_rows") + _ADD.format(rows="new_rows"),
    "keyword_index_truncate": "TRUNCATE keyword_postings, keyword_stats;",
}
# Statement-level: one INSERT of a document's chunks is one pass over its rows.
_TRIGGERS = {
    "keyword_index_insert": "AFTER INSERT ON chunks REFERENCING NEW TABLE AS new_rows",
    "keyword_index_delete": "AFTER DELETE ON chunks REFERENCING OLD TABLE AS old_rows",
    "keyword_index_update": "AFTER UPDATE ON chunks REFERENCING OLD TABLE AS old_rows "
                            "NEW TABLE AS new_rows",
    "keyword_index_truncate": "AFTER TRUNCATE ON chunks",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_TOKENS)
    op.execute(
        "CREATE TABLE keyword_postings ("
        "owner_id varchar(36) NOT NULL, lexeme text NOT NULL, chunk_id varchar(120) NOT NULL, "
        "tf_heading smallint NOT NULL, tf_text smallint NOT NULL, length integer NOT NULL, "
        "PRIMARY KEY (owner_id, lexeme, chunk_id) INCLUDE (tf_heading, tf_text, length))"
    )
    op.execute(
        "CREATE TABLE keyword_stats ("
        "document_id varchar(36) PRIMARY KEY, owner_id varchar(36) NOT NULL, "
        "chunks integer NOT NULL, length bigint NOT NULL)"
    )
    op.execute("CREATE INDEX ix_keyword_stats_owner ON keyword_stats (owner_id) INCLUDE (chunks, length)")
    for name, body in _FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
                   "RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} {_TRIGGERS[name]} FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION {name}()")
    # The chunks already there (an upgrade of a running installation).
    for statement in _ADD.format(rows="chunks").split(";"):
        if statement.strip():
            op.execute(statement)
    op.execute("DROP INDEX IF EXISTS ix_chunks_tsv")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _FUNCTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON chunks")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TABLE IF EXISTS keyword_postings")
    op.execute("DROP TABLE IF EXISTS keyword_stats")
    op.execute("DROP FUNCTION IF EXISTS keyword_token_count(tsvector)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_chunks_tsv ON chunks USING gin (tsv)")
