"""keyword index: BM25 statistics per owner and space, kept on PostgreSQL

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

0017 keeps each owner's statistics whole. A reader whose scope takes only some of an owner's
spaces (the owner keeps private documents next to the collection the reader shares) still had its
N, average length and every term's document frequency computed in the statement, from the
postings of the documents listed (app/providers/keyword/postgres_fts.py): the largest stage of that
reader's search (docs/benchmarks.md §5b). They are now kept per space too, exact in the same
transaction as every chunk write and every move of a document:

* `keyword_stats.space`: the space of each document's chunks (its collection id, '' for the
  private space). A chunk delete reads it here: when a document's deletion cascades to its chunks,
  the document's row is already gone;
* `keyword_space_stats(owner_id, space, chunks, length)`;
* `keyword_space_lexemes(owner_id, space, lexeme, chunks)`.

Locks: every writer of an owner's statistics holds the owner's `keyword_owner_stats` row (0017).
A chunk insert first takes its documents' rows in share mode, so a move of one of them (an UPDATE,
which holds the row) either waits for the insert to commit and then counts its chunks, or goes
first and the insert reads the new space; taking the documents before the owner's row keeps the
order a move takes them in (document, then owner), so the two cannot deadlock. A chunk delete
takes its documents the same way (so that a transaction deleting a document's old chunks and then
inserting its new ones holds the document before the owner's row), then, under the owner's row,
reads the space the last move wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from app.core.migrations import revision_module

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The chunks' documents, in share mode and id order, before any statistics row (see above).
_LOCK_DOCUMENTS = """
    PERFORM 1 FROM documents WHERE id IN (SELECT document_id FROM {rows}) ORDER BY id FOR SHARE;
"""
# 0017's statements, each statistic also written per space (the document's, read once per
# statement from `documents`, which the lock above holds still). Lexemes are unnested once per
# chunk (u) and counted per owner and per space from there.
_ADD = """
    INSERT INTO keyword_owner_stats AS o (owner_id, chunks, length)
    SELECT owner_id, count(*), sum(keyword_token_count(tsv)) FROM {rows}
    GROUP BY owner_id ORDER BY owner_id
    ON CONFLICT (owner_id) DO UPDATE
        SET chunks = o.chunks + excluded.chunks, length = o.length + excluded.length;
    WITH r AS (
        SELECT n.owner_id, n.id, n.document_id, n.tsv, keyword_token_count(n.tsv) AS length,
               coalesce(d.collection_id, '') AS space
        FROM {rows} n JOIN documents d ON d.id = n.document_id OFFSET 0
    ), u AS MATERIALIZED (
        SELECT r.owner_id, r.space, r.id, x.lexeme, x.weights, r.length FROM r, unnest(r.tsv) x
    ), documents_added AS (
        INSERT INTO keyword_stats AS s (document_id, owner_id, space, chunks, length)
        SELECT document_id, owner_id, space, count(*), sum(length) FROM r
        GROUP BY document_id, owner_id, space
        ON CONFLICT (document_id) DO UPDATE SET chunks = s.chunks + excluded.chunks,
            length = s.length + excluded.length, space = excluded.space
    ), spaces_added AS (
        INSERT INTO keyword_space_stats AS s (owner_id, space, chunks, length)
        SELECT owner_id, space, count(*), sum(length) FROM r GROUP BY owner_id, space
        ON CONFLICT (owner_id, space) DO UPDATE
            SET chunks = s.chunks + excluded.chunks, length = s.length + excluded.length
    ), postings_added AS (
        INSERT INTO keyword_postings (owner_id, lexeme, chunk_id, tf_heading, tf_text, length)
        SELECT owner_id, lexeme, id, cardinality(array_positions(weights, 'A')),
               cardinality(array_positions(weights, 'D')), length
        FROM u
    ), owner_lexemes AS (
        INSERT INTO keyword_lexeme_stats AS k (owner_id, lexeme, chunks)
        SELECT owner_id, lexeme, count(*) FROM u GROUP BY owner_id, lexeme
        ON CONFLICT (owner_id, lexeme) DO UPDATE SET chunks = k.chunks + excluded.chunks
    )
    INSERT INTO keyword_space_lexemes AS k (owner_id, space, lexeme, chunks)
    SELECT owner_id, space, lexeme, count(*) FROM u GROUP BY owner_id, space, lexeme
    ON CONFLICT (owner_id, space, lexeme) DO UPDATE SET chunks = k.chunks + excluded.chunks;
"""
# The owners' rows first (0017), then every count down; the per-document rows (which say each
# chunk's space) last.
_REMOVE = """
    PERFORM 1 FROM keyword_owner_stats WHERE owner_id IN (SELECT owner_id FROM {rows})
    ORDER BY owner_id FOR UPDATE;
    UPDATE keyword_owner_stats o SET chunks = o.chunks - d.chunks, length = o.length - d.length
    FROM (SELECT owner_id, count(*) AS chunks, sum(keyword_token_count(tsv)) AS length
          FROM {rows} GROUP BY owner_id) d
    WHERE o.owner_id = d.owner_id;
    DELETE FROM keyword_owner_stats
    WHERE chunks <= 0 AND owner_id IN (SELECT owner_id FROM {rows});
    WITH r AS (
        SELECT o.owner_id, o.id, o.document_id, o.tsv, keyword_token_count(o.tsv) AS length,
               s.space
        FROM {rows} o LEFT JOIN keyword_stats s ON s.document_id = o.document_id OFFSET 0
    ), u AS MATERIALIZED (
        SELECT r.owner_id, r.space, r.id, x.lexeme FROM r, unnest(r.tsv) x
    ), documents_removed AS (
        UPDATE keyword_stats s SET chunks = s.chunks - d.chunks, length = s.length - d.length
        FROM (SELECT document_id, count(*) AS chunks, sum(length) AS length FROM r
              GROUP BY document_id) d
        WHERE s.document_id = d.document_id
    ), spaces_removed AS (
        UPDATE keyword_space_stats s SET chunks = s.chunks - d.chunks, length = s.length - d.length
        FROM (SELECT owner_id, space, count(*) AS chunks, sum(length) AS length FROM r
              GROUP BY owner_id, space) d
        WHERE s.owner_id = d.owner_id AND s.space = d.space
    ), postings_removed AS (
        DELETE FROM keyword_postings p USING u
        WHERE p.owner_id = u.owner_id AND p.lexeme = u.lexeme AND p.chunk_id = u.id
    ), owner_lexemes AS (
        UPDATE keyword_lexeme_stats k SET chunks = k.chunks - d.chunks
        FROM (SELECT owner_id, lexeme, count(*) AS chunks FROM u GROUP BY owner_id, lexeme) d
        WHERE k.owner_id = d.owner_id AND k.lexeme = d.lexeme
    )
    UPDATE keyword_space_lexemes k SET chunks = k.chunks - d.chunks
    FROM (SELECT owner_id, space, lexeme, count(*) AS chunks FROM u
          GROUP BY owner_id, space, lexeme) d
    WHERE k.owner_id = d.owner_id AND k.space = d.space AND k.lexeme = d.lexeme;
    DELETE FROM keyword_lexeme_stats k
    USING (SELECT DISTINCT r.owner_id, u.lexeme FROM {rows} r, unnest(r.tsv) u) d
    WHERE k.owner_id = d.owner_id AND k.lexeme = d.lexeme AND k.chunks <= 0;
    DELETE FROM keyword_space_lexemes k
    USING (SELECT DISTINCT r.owner_id, s.space, u.lexeme
           FROM {rows} r JOIN keyword_stats s ON s.document_id = r.document_id, unnest(r.tsv) u) d
    WHERE k.owner_id = d.owner_id AND k.space = d.space AND k.lexeme = d.lexeme AND k.chunks <= 0;
    DELETE FROM keyword_space_stats k
    USING (SELECT DISTINCT r.owner_id, s.space
           FROM {rows} r JOIN keyword_stats s ON s.document_id = r.document_id) d
    WHERE k.owner_id = d.owner_id AND k.space = d.space AND k.chunks <= 0;
    DELETE FROM keyword_stats WHERE chunks <= 0 AND document_id IN (SELECT document_id FROM {rows});
"""
# Documents moved between spaces (an UPDATE of their collection, by the app or by a collection's
# deletion setting it to NULL): their chunks, tokens and lexemes leave the old spaces for the new
# ones, all the statement's moves at once (a bulk move of thousands of small documents shares most
# lexeme rows: one write per owner, space and lexeme, not per document). The owners' rows first
# (0017), after which every statement sees the chunks committed before it. Statement-level, since
# a trigger with transition tables cannot name columns: most updates of `documents` (status,
# progress) move nothing and leave at the first test.
_MOVE = """
DECLARE
    emptied_owner text[];
    emptied_space text[];
    emptied_lexeme text[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                   WHERE o.collection_id IS DISTINCT FROM n.collection_id) THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM keyword_owner_stats WHERE owner_id IN (
        SELECT n.owner_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.collection_id IS DISTINCT FROM n.collection_id)
    ORDER BY owner_id FOR UPDATE;
    -- Planned for each statement's own moves (EXECUTE): a plan cached for a bulk move read all
    -- of `chunks` and `keyword_stats` for every later move of one document (150 ms).
    EXECUTE $move$
    WITH m AS MATERIALIZED (
        SELECT n.id, coalesce(o.collection_id, '') AS was, coalesce(n.collection_id, '') AS dest
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.collection_id IS DISTINCT FROM n.collection_id
    ), d AS (  -- documents without chunks have no row: nothing of theirs to move
        UPDATE keyword_stats s SET space = m.dest FROM m WHERE s.document_id = m.id
        RETURNING s.document_id, s.owner_id, m.was, m.dest, s.chunks, s.length
    ), spaces AS (
        SELECT owner_id, space, sum(chunks) AS chunks, sum(length) AS length FROM (
            SELECT owner_id, was AS space, -chunks AS chunks, -length AS length FROM d
            UNION ALL SELECT owner_id, dest, chunks, length FROM d) x
        GROUP BY owner_id, space
    ), spaces_written AS (
        INSERT INTO keyword_space_stats AS k (owner_id, space, chunks, length)
        SELECT owner_id, space, chunks, length FROM spaces WHERE chunks <> 0
        ON CONFLICT (owner_id, space) DO UPDATE
            SET chunks = k.chunks + excluded.chunks, length = k.length + excluded.length
    ), l AS MATERIALIZED (
        SELECT d.owner_id, d.was, d.dest, u.lexeme, count(*) AS chunks
        FROM d JOIN chunks c ON c.document_id = d.document_id, unnest(c.tsv) u
        GROUP BY d.owner_id, d.was, d.dest, u.lexeme
    ), lexemes AS (
        SELECT owner_id, space, lexeme, sum(chunks) AS chunks FROM (
            SELECT owner_id, was AS space, lexeme, -chunks AS chunks FROM l
            UNION ALL SELECT owner_id, dest, lexeme, chunks FROM l) x
        GROUP BY owner_id, space, lexeme
    ), lexemes_written AS (
        INSERT INTO keyword_space_lexemes AS k (owner_id, space, lexeme, chunks)
        SELECT owner_id, space, lexeme, chunks FROM lexemes WHERE chunks <> 0
        ON CONFLICT (owner_id, space, lexeme) DO UPDATE SET chunks = k.chunks + excluded.chunks
        RETURNING k.owner_id, k.space, k.lexeme, k.chunks
    )
    SELECT array_agg(owner_id), array_agg(space), array_agg(lexeme)
    FROM lexemes_written WHERE chunks <= 0
    $move$ INTO emptied_owner, emptied_space, emptied_lexeme;
    -- Rows left at zero go by key: an old space may hold tens of thousands of lexemes.
    DELETE FROM keyword_space_lexemes k
    USING unnest(emptied_owner, emptied_space, emptied_lexeme) AS e(owner_id, space, lexeme)
    WHERE k.owner_id = e.owner_id AND k.space = e.space AND k.lexeme = e.lexeme
      AND k.chunks <= 0;
    DELETE FROM keyword_space_stats k
    USING (SELECT DISTINCT n.owner_id, coalesce(o.collection_id, '') AS space
           FROM old_rows o JOIN new_rows n ON n.id = o.id
           WHERE o.collection_id IS DISTINCT FROM n.collection_id) e
    WHERE k.owner_id = e.owner_id AND k.space = e.space AND k.chunks <= 0;
    RETURN NULL;
END
"""
_FUNCTIONS = {
    "keyword_index_insert": _LOCK_DOCUMENTS.format(rows="new_rows") + _ADD.format(rows="new_rows"),
    # A chunk delete takes its documents too: reprocessing deletes a document's old chunks and
    # inserts the new ones in one transaction, whose owner row must not come before the document.
    # (Deleted with their document, the rows are gone from this transaction's view: no lock.)
    "keyword_index_delete": _LOCK_DOCUMENTS.format(rows="old_rows") + _REMOVE.format(rows="old_rows"),
    "keyword_index_update": _LOCK_DOCUMENTS.format(rows="new_rows")
                            + _REMOVE.format(rows="old_rows") + _ADD.format(rows="new_rows"),
    "keyword_index_truncate": "TRUNCATE keyword_postings, keyword_stats, keyword_owner_stats, "
                              "keyword_lexeme_stats, keyword_space_stats, keyword_space_lexemes;",
}
_MOVE_TRIGGER = (
    "CREATE TRIGGER keyword_space_move AFTER UPDATE ON documents "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION keyword_space_move()"
)


def _replace_functions(bodies: dict[str, str]) -> None:
    for name, body in bodies.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {body} RETURN NULL; END $$")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # No chunk write and no move while the statistics are filled from what is there.
    op.execute("LOCK TABLE documents, chunks IN SHARE MODE")
    op.execute("ALTER TABLE keyword_stats ADD COLUMN space varchar(36) NOT NULL DEFAULT ''")
    op.execute("CREATE TABLE keyword_space_stats (owner_id varchar(36) NOT NULL, "
               "space varchar(36) NOT NULL, chunks bigint NOT NULL, length bigint NOT NULL, "
               "PRIMARY KEY (owner_id, space))")
    op.execute("CREATE TABLE keyword_space_lexemes (owner_id varchar(36) NOT NULL, "
               "space varchar(36) NOT NULL, lexeme text NOT NULL, chunks integer NOT NULL, "
               "PRIMARY KEY (owner_id, space, lexeme))")
    # Updated in place on every upload, delete and move: vacuumed as 0016 and 0017 do theirs.
    op.execute("ALTER TABLE keyword_space_lexemes SET (autovacuum_vacuum_scale_factor = 0.02, "
               "autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0.02, "
               "autovacuum_analyze_threshold = 5000)")
    op.execute("UPDATE keyword_stats s SET space = d.collection_id FROM documents d "
               "WHERE d.id = s.document_id AND d.collection_id IS NOT NULL")
    op.execute("INSERT INTO keyword_space_stats (owner_id, space, chunks, length) "
               "SELECT owner_id, space, sum(chunks), sum(length) FROM keyword_stats "
               "GROUP BY owner_id, space")
    op.execute("INSERT INTO keyword_space_lexemes (owner_id, space, lexeme, chunks) "
               "SELECT p.owner_id, s.space, p.lexeme, count(*) FROM keyword_postings p "
               "JOIN keyword_stats s ON s.document_id = split_part(p.chunk_id, ':', 1) "
               "GROUP BY p.owner_id, s.space, p.lexeme")
    _replace_functions(_FUNCTIONS)
    op.execute(f"CREATE FUNCTION keyword_space_move() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"{_MOVE} $$")
    op.execute(_MOVE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS keyword_space_move ON documents")
    op.execute("DROP FUNCTION IF EXISTS keyword_space_move()")
    _replace_functions(revision_module("0017_keyword_owner_statistics.py")._FUNCTIONS)
    op.execute("DROP TABLE IF EXISTS keyword_space_lexemes")
    op.execute("DROP TABLE IF EXISTS keyword_space_stats")
    op.execute("ALTER TABLE keyword_stats DROP COLUMN IF EXISTS space")
