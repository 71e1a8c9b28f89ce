"""keyword index: each owner's BM25 statistics kept whole on PostgreSQL

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

A search over owners read whole (app/providers/keyword/postgres_fts.py) computed, in every
statement, each owner's chunk count and total length (an aggregate over one `keyword_stats` row per
document: 5,183 rows per owner at 100k chunks) and every term's document frequency (by
materializing and grouping all the postings the query reads). For a reader of 11 owners that was
~40 % of the statement (docs/benchmarks.md §5b, 2026-12-01). Two tables now hold them, kept exact
by the statement-level triggers of 0011 in the same transaction as every chunk write:

* `keyword_owner_stats(owner_id, chunks, length)`: chunks and tokens per owner;
* `keyword_lexeme_stats(owner_id, lexeme, chunks)`: per owner and lexeme, how many chunks hold it.

The owner's row is written first in every trigger (rows locked in owner order): it serializes the
statistics writes of one owner's concurrent transactions, so their lexeme rows cannot deadlock;
different owners never share a row. A scope narrowed to some documents keeps computing its
statistics from its own postings (they are statistics of that scope, not of the owner).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from app.core.migrations import revision_module

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_V0011 = revision_module("0011_keyword_bm25_postgres.py")
# 0011's per-document statistics (`keyword_stats`), unchanged: the second statement of its
# insert body, the second and third of its delete body.
_DOCUMENTS_ADD = _V0011._ADD.split(";")[1] + ";\n"
_DOCUMENTS_REMOVE = ";".join(_V0011._REMOVE.split(";")[1:3]) + ";\n"
# The owner's row first (see above). Each posting's lexeme is counted as it is written
# (RETURNING): the chunks' tsvectors are unnested once. A chunk's length is computed once per
# chunk (OFFSET 0 keeps the subquery from being flattened): 0011 computed it once per posting,
# unnesting the whole tsvector again for each of its ~90 lexemes (4.9 s of the 5 s that 1,000
# chunks' postings took; 0.8 s now).
_ADD = """
    INSERT INTO keyword_owner_stats AS o (owner_id, chunks, length)
    SELECT owner_id, count(*), sum(keyword_token_count(tsv)) FROM {rows}
    GROUP BY owner_id ORDER BY owner_id
    ON CONFLICT (owner_id) DO UPDATE
        SET chunks = o.chunks + excluded.chunks, length = o.length + excluded.length;
    WITH added AS (
        INSERT INTO keyword_postings (owner_id, lexeme, chunk_id, tf_heading, tf_text, length)
        SELECT r.owner_id, u.lexeme, r.id, cardinality(array_positions(u.weights, 'A')),
               cardinality(array_positions(u.weights, 'D')), r.length
        FROM (SELECT owner_id, id, tsv, keyword_token_count(tsv) AS length FROM {rows} OFFSET 0) r,
             unnest(r.tsv) u
        RETURNING owner_id, lexeme)
    INSERT INTO keyword_lexeme_stats AS k (owner_id, lexeme, chunks)
    SELECT owner_id, lexeme, count(*) FROM added GROUP BY owner_id, lexeme
    ON CONFLICT (owner_id, lexeme) DO UPDATE SET chunks = k.chunks + excluded.chunks;
""" + _DOCUMENTS_ADD  # noqa: S608 (fixed SQL of migrations 0011 and 0017 only)
_REMOVE = """
    PERFORM 1 FROM keyword_owner_stats WHERE owner_id IN (SELECT owner_id FROM {rows})
    ORDER BY owner_id FOR UPDATE;
    UPDATE keyword_owner_stats o SET chunks = o.chunks - d.chunks, length = o.length - d.length
    FROM (SELECT owner_id, count(*) AS chunks, sum(keyword_token_count(tsv)) AS length
          FROM {rows} GROUP BY owner_id) d
    WHERE o.owner_id = d.owner_id;
    DELETE FROM keyword_owner_stats
    WHERE chunks <= 0 AND owner_id IN (SELECT owner_id FROM {rows});
    WITH removed AS (
        DELETE FROM keyword_postings p
        USING (SELECT r.owner_id, u.lexeme, r.id FROM {rows} r, unnest(r.tsv) u) x
        WHERE p.owner_id = x.owner_id AND p.lexeme = x.lexeme AND p.chunk_id = x.id
        RETURNING p.owner_id, p.lexeme)
    UPDATE keyword_lexeme_stats k SET chunks = k.chunks - d.chunks
    FROM (SELECT owner_id, lexeme, count(*) AS chunks FROM removed GROUP BY owner_id, lexeme) d
    WHERE k.owner_id = d.owner_id AND k.lexeme = d.lexeme;
    DELETE FROM keyword_lexeme_stats k
    USING (SELECT DISTINCT r.owner_id, u.lexeme FROM {rows} r, unnest(r.tsv) u) d
    WHERE k.owner_id = d.owner_id AND k.lexeme = d.lexeme AND k.chunks <= 0;
""" + _DOCUMENTS_REMOVE  # noqa: S608 (fixed SQL only)
_FUNCTIONS = {
    "keyword_index_insert": _ADD.format(rows="new_rows"),
    "keyword_index_delete": _REMOVE.format(rows="old_rows"),
    "keyword_index_update": _REMOVE.format(rows="old_rows") + _ADD.format(rows="new_rows"),
    "keyword_index_truncate": "TRUNCATE keyword_postings, keyword_stats, keyword_owner_stats, "
                              "keyword_lexeme_stats;",
}


def _replace_functions(bodies: dict[str, str]) -> None:
    for name, body in bodies.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {body} RETURN NULL; END $$")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE TABLE keyword_owner_stats (owner_id varchar(36) PRIMARY KEY, "
               "chunks bigint NOT NULL, length bigint NOT NULL)")
    op.execute("CREATE TABLE keyword_lexeme_stats (owner_id varchar(36) NOT NULL, "
               "lexeme text NOT NULL, chunks integer NOT NULL, PRIMARY KEY (owner_id, lexeme))")
    # Rows are updated in place on every upload and delete: vacuum them as 0016 does the others.
    op.execute("ALTER TABLE keyword_lexeme_stats SET (autovacuum_vacuum_scale_factor = 0.02, "
               "autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0.02, "
               "autovacuum_analyze_threshold = 5000)")
    # Lock out chunk writes while the two tables are filled from what is there.
    op.execute("LOCK TABLE chunks IN SHARE MODE")
    op.execute("INSERT INTO keyword_owner_stats (owner_id, chunks, length) "
               "SELECT owner_id, sum(chunks), sum(length) FROM keyword_stats GROUP BY owner_id")
    op.execute("INSERT INTO keyword_lexeme_stats (owner_id, lexeme, chunks) "
               "SELECT owner_id, lexeme, count(*) FROM keyword_postings GROUP BY owner_id, lexeme")
    _replace_functions(_FUNCTIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace_functions(_V0011._FUNCTIONS)
    op.execute("DROP TABLE IF EXISTS keyword_lexeme_stats")
    op.execute("DROP TABLE IF EXISTS keyword_owner_stats")
