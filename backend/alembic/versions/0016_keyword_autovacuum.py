"""keyword index: autovacuum keeps the postings index-only on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

The keyword statement (app/providers/keyword/postgres_fts.py) reads `keyword_postings` through its
primary key, which INCLUDEs every column it needs, and each whole owner's statistics from
`keyword_stats` through `ix_keyword_stats_owner` (INCLUDE chunks, length): index-only scans. A row
on a page that is not all-visible in the visibility map costs a heap fetch anyway, and only VACUUM
sets those bits: the reader's statement took 186 ms before `VACUUM` and 68 ms after it on a freshly
loaded corpus (docs/benchmarks.md §5b). With PostgreSQL's defaults, autovacuum waits for 1,000 +
20 % of the table's rows to be inserted (or 50 + 20 % dead), so up to a sixth of the postings stay
heap fetches. These per-table storage parameters make it come after a small share instead.

`keyword_postings` (~90 rows per chunk; a 40-chunk document writes ~4,000 postings):
* vacuum after 1 % of the table is inserted, plus 5,000 rows (about one document, so that a tiny
  installation is not vacuumed after every upload). An insert-only vacuum reads mostly the pages not
  yet all-visible (new postings are appended) and, with no dead rows, skips the index passes, so
  vacuuming 20× as often costs about as much in total as the default;
* vacuum after 2 % of the table is dead, plus 5,000 rows: deleted and reprocessed documents'
  postings clear the bits of their pages too, but a vacuum with dead rows scans the whole primary
  key (as large as the table), so not quite as often as for inserts;
* analyze after 2 % changed, plus 5,000 rows: ANALYZE samples a fixed 30,000 rows whatever the
  table's size, and the statement's plan uses the statistics of the very lexemes it searches.

`keyword_stats` (one row per document, a few pages): the same factors with thresholds of 100 rows
(about 100 uploads); vacuuming a table this small costs next to nothing.

autovacuum_naptime (60 s by default) still bounds how soon a vacuum follows an upload. SQLite has
neither (its FTS5 index is read without a visibility check): nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _params(threshold: int) -> dict[str, str]:
    return {
        "autovacuum_vacuum_insert_scale_factor": "0.01",
        "autovacuum_vacuum_insert_threshold": str(threshold),
        "autovacuum_vacuum_scale_factor": "0.02",
        "autovacuum_vacuum_threshold": str(threshold),
        "autovacuum_analyze_scale_factor": "0.02",
        "autovacuum_analyze_threshold": str(threshold),
    }


STORAGE_PARAMETERS: dict[str, dict[str, str]] = {
    "keyword_postings": _params(5000),
    "keyword_stats": _params(100),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, params in STORAGE_PARAMETERS.items():
        settings = ", ".join(f"{name} = {value}" for name, value in params.items())
        op.execute(f"ALTER TABLE {table} SET ({settings})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, params in STORAGE_PARAMETERS.items():
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(params)})")
