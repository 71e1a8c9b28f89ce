"""document_spaces: how many documents each owner has in each space, kept by the database

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

A reader's search is planned per owner partition (app/access/rules.py): which owners hold
documents of the collections in scope, and whether all of an owner's documents are in scope (then
the owner's vectors and keyword rows are searched without a document filter). That used to be two
aggregate queries over `documents` on every request (all 57k of a reader's documents at 100k
chunks). `document_spaces(owner_id, space, documents)` — `space` is the collection id, or '' for the
owner's private space — answers both from a few rows.

Triggers on `documents` keep it exact in the same transaction as the change (upload, delete, move
between spaces, a collection's deletion setting `collection_id` to NULL, a user's deletion
cascading), so it is never stale, in any process. Rows with no documents left are removed.
On PostgreSQL inserts and deletes are counted per statement (transition tables, like 0011), moves
per row; a move locks the two counter rows in key order so two opposite moves cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = (
    "CREATE TABLE document_spaces ("
    "owner_id varchar(36) NOT NULL, space varchar(36) NOT NULL, documents integer NOT NULL, "
    "PRIMARY KEY (space, owner_id))"
)
_INDEX = "CREATE INDEX ix_document_spaces_owner ON document_spaces (owner_id, space)"
_FILL = (
    "INSERT INTO document_spaces (owner_id, space, documents) "
    "SELECT owner_id, coalesce(collection_id, ''), count(*) FROM documents GROUP BY 1, 2"
)

# ---- SQLite: row triggers ------------------------------------------------------------------------

_SQLITE_ADD = (
    "INSERT INTO document_spaces (owner_id, space, documents) "
    "VALUES (new.owner_id, coalesce(new.collection_id, ''), 1) "
    "ON CONFLICT (space, owner_id) DO UPDATE SET documents = documents + 1;"
)
_SQLITE_REMOVE = (
    "UPDATE document_spaces SET documents = documents - 1 "
    "WHERE owner_id = old.owner_id AND space = coalesce(old.collection_id, ''); "
    "DELETE FROM document_spaces WHERE owner_id = old.owner_id "
    "AND space = coalesce(old.collection_id, '') AND documents <= 0;"
)
_SQLITE_TRIGGERS = {
    "document_spaces_insert": f"AFTER INSERT ON documents BEGIN {_SQLITE_ADD} END",
    "document_spaces_delete": f"AFTER DELETE ON documents BEGIN {_SQLITE_REMOVE} END",
    "document_spaces_update": (
        "AFTER UPDATE OF owner_id, collection_id ON documents "
        "WHEN old.owner_id IS NOT new.owner_id OR old.collection_id IS NOT new.collection_id "
        f"BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END"
    ),
}

# ---- PostgreSQL ----------------------------------------------------------------------------------

_PG_ADD = """
    INSERT INTO document_spaces AS s (owner_id, space, documents)
    SELECT owner_id, coalesce(collection_id, ''), count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 2, 1
    ON CONFLICT (space, owner_id) DO UPDATE SET documents = s.documents + excluded.documents;
"""
_PG_REMOVE = """
    UPDATE document_spaces s SET documents = s.documents - d.n
    FROM (SELECT owner_id, coalesce(collection_id, '') AS space, count(*) AS n FROM old_rows
          GROUP BY 1, 2) d
    WHERE s.owner_id = d.owner_id AND s.space = d.space;
    DELETE FROM document_spaces WHERE documents <= 0
        AND (space, owner_id) IN (SELECT coalesce(collection_id, ''), owner_id FROM old_rows);
"""
# A move: -1 on the old space, +1 on the new one, the smaller (space, owner) key first.
_PG_MOVE = """
DECLARE
    was text := coalesce(OLD.collection_id, '');
    dest text := coalesce(NEW.collection_id, '');
BEGIN
    IF (was, OLD.owner_id) < (dest, NEW.owner_id) THEN
        UPDATE document_spaces SET documents = documents - 1 WHERE space = was AND owner_id = OLD.owner_id;
    END IF;
    INSERT INTO document_spaces AS s (owner_id, space, documents) VALUES (NEW.owner_id, dest, 1)
    ON CONFLICT (space, owner_id) DO UPDATE SET documents = s.documents + 1;
    IF (was, OLD.owner_id) > (dest, NEW.owner_id) THEN
        UPDATE document_spaces SET documents = documents - 1 WHERE space = was AND owner_id = OLD.owner_id;
    END IF;
    DELETE FROM document_spaces WHERE space = was AND owner_id = OLD.owner_id AND documents <= 0;
    RETURN NULL;
END
"""
_PG_FUNCTIONS = {
    "document_spaces_insert": f"BEGIN {_PG_ADD} RETURN NULL; END",
    "document_spaces_delete": f"BEGIN {_PG_REMOVE} RETURN NULL; END",
    "document_spaces_move": _PG_MOVE,
    "document_spaces_truncate": "BEGIN TRUNCATE document_spaces; RETURN NULL; END",
}
_PG_TRIGGERS = {
    "document_spaces_insert": "AFTER INSERT ON documents REFERENCING NEW TABLE AS new_rows "
                              "FOR EACH STATEMENT",
    "document_spaces_delete": "AFTER DELETE ON documents REFERENCING OLD TABLE AS old_rows "
                              "FOR EACH STATEMENT",
    "document_spaces_move": "AFTER UPDATE OF owner_id, collection_id ON documents FOR EACH ROW "
                            "WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id "
                            "OR OLD.collection_id IS DISTINCT FROM NEW.collection_id)",
    "document_spaces_truncate": "AFTER TRUNCATE ON documents FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.execute(_TABLE)
    op.execute(_INDEX)
    if op.get_bind().dialect.name == "postgresql":
        for name, body in _PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$")
            op.execute(f"CREATE TRIGGER {name} {_PG_TRIGGERS[name]} EXECUTE FUNCTION {name}()")
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(_FILL)  # the documents already there (an upgrade of a running installation)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON documents")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS document_spaces")
