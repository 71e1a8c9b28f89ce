"""keyword index: PostgreSQL splits words the way SQLite's FTS5 does

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

PostgreSQL's text-search parser keeps "3.5", "mg/kg", "BRCA1/2" as single tokens and reads the
"-6" of "IL-6" as a negative number, while the query side (`query_terms`, like FTS5's unicode61
tokenizer) splits on every character that is not a letter or digit: "IL-6" is `il` + `6`. Such
query words then never met their document on PostgreSQL, and BM25 hybrid ranking there fell
behind SQLite's (docs/benchmarks.md §2). `chunks.tsv` now feeds `to_tsvector` the text with every
run of non-alphanumeric characters replaced by a space (Unicode-aware under the database's
UTF-8 ctype), which is what unicode61 does; the stemmer and stop words stay PostgreSQL's
'english'. The postings of migration 0011 are rebuilt from the new column. SQLite is untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _words(expr: str) -> str:
    return f"regexp_replace({expr}, '[^[:alnum:]]+', ' ', 'g')"


_HEADING = "coalesce(heading_path::jsonb::text, '')"
_SPLIT = (f"setweight(to_tsvector('english', {_words(_HEADING)}), 'A') || "
          f"setweight(to_tsvector('english', {_words('text')}), 'D')")
_0003 = ("setweight(to_tsvector('english', coalesce(heading_path::jsonb::text, '')), 'A') || "
         "setweight(to_tsvector('english', text), 'D')")

# Migration 0011's postings and statistics, recomputed from the whole table.
_REBUILD = [
    "TRUNCATE keyword_postings, keyword_stats",
    "INSERT INTO keyword_postings (owner_id, lexeme, chunk_id, tf_heading, tf_text, length) "
    "SELECT r.owner_id, u.lexeme, r.id, cardinality(array_positions(u.weights, 'A')), "
    "cardinality(array_positions(u.weights, 'D')), keyword_token_count(r.tsv) "
    "FROM chunks r, unnest(r.tsv) u",
    "INSERT INTO keyword_stats (document_id, owner_id, chunks, length) "
    "SELECT document_id, owner_id, count(*), sum(keyword_token_count(tsv)) FROM chunks "
    "GROUP BY document_id, owner_id",
]


def _column(expr: str) -> None:
    # Dropping and re-adding the generated column rewrites the table without firing the
    # row triggers of 0011, so the postings are rebuilt explicitly afterwards.
    op.execute("ALTER TABLE chunks DROP COLUMN tsv")
    op.execute(f"ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expr}) STORED")
    for statement in _REBUILD:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _column(_SPLIT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _column(_0003)
