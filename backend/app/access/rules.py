"""THE access rule: which documents a user may read, and what they may do to them.

A user may read
* the documents of their private space (`owner_id = user AND collection_id IS NULL`), and
* every document of a collection in which they, or a group they belong to, hold a role.

Roles rank `viewer < editor < owner`; a user holding several (directly and through groups) has the
strongest. A viewer reads, searches and chats; an editor also uploads into the collection, moves
documents in or out, deletes and reprocesses them; an owner also renames, deletes the collection and
manages its members. In the private space the uploader can do everything.

`access_for` reads the caller's roles from the database on every request: nothing is cached across
requests, so a membership change takes effect on the next one. Every read path (document list,
detail, file, chunks, search, chat retrieval, citations in conversation history) decides through
`Access`: `Access.condition()` in SQL, `Access.can_read()` on a loaded row, and `read_plan()` for
retrieval, which turns the readable set into one vector/keyword scope per owner (from the
per-owner, per-space document counts the database keeps in `document_spaces`, migration 0013);
`plan_for()` is both steps for a user, the default scope's in one statement.

Another user's object is "not found" (404) when the caller cannot read it; a member whose role is
too weak for an action gets 403 (they already know the object exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.collections.models import ROLES, Collection, CollectionMember, GroupMember
from app.core.errors import Forbidden, NotFound
from app.documents.models import Document

Role = str  # one of ROLES
PRIVATE = "owner"  # the uploader's rights over their private space


def rank(role: Role | None) -> int:
    """0 for no role, then viewer 1, editor 2, owner 3."""
    return ROLES.index(role) + 1 if role in ROLES else 0


def stronger(a: Role | None, b: Role | None) -> Role | None:
    return a if rank(a) >= rank(b) else b


@dataclass(frozen=True, slots=True)
class Access:
    """What one user may read, as of this request."""

    user_id: str
    roles: Mapping[str, Role]  # collection id -> the user's strongest role in it

    @property
    def collections(self) -> frozenset[str]:
        return frozenset(self.roles)

    def role_in(self, collection_id: str | None, owner_id: str) -> Role | None:
        """The user's role over a document in `collection_id` uploaded by `owner_id`."""
        if collection_id is None:
            return PRIVATE if owner_id == self.user_id else None
        return self.roles.get(collection_id)

    def can_read(self, doc: Document) -> bool:
        return self.role_in(doc.collection_id, doc.owner_id) is not None

    def condition(self) -> ColumnElement[bool]:
        """SQL over `documents`: the rows this user may read."""
        private = and_(Document.owner_id == self.user_id, Document.collection_id.is_(None))
        if not self.roles:
            return private
        return or_(private, Document.collection_id.in_(sorted(self.roles)))


def _memberships(user_id: str) -> ColumnElement[bool]:
    """The `collection_members` rows that give `user_id` a role: their own, and their groups'."""
    groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    return or_(CollectionMember.user_id == user_id, CollectionMember.group_id.in_(groups))


def _access(user_id: str, rows: Iterable[tuple[str, Role]]) -> Access:
    """From (collection id, role) rows: the strongest role per collection."""
    roles: dict[str, Role] = {}
    for collection_id, role in rows:
        best = stronger(roles.get(collection_id), role)
        if best is not None:
            roles[collection_id] = best
    return Access(user_id=user_id, roles=roles)


async def access_for(session: AsyncSession, user_id: str) -> Access:
    """The user's roles in every collection they can read, directly or through their groups."""
    stmt = select(CollectionMember.collection_id, CollectionMember.role).where(
        _memberships(user_id))
    return _access(user_id, (await session.execute(stmt)).all())


# ---- documents -----------------------------------------------------------------------------------

async def readable_document(session: AsyncSession, access: Access, document_id: str) -> Document:
    doc = await session.get(Document, document_id)
    if doc is None or not access.can_read(doc):
        raise NotFound("Document not found.")
    return doc


async def writable_document(session: AsyncSession, access: Access, document_id: str) -> Document:
    """A document the user may change (delete, reprocess, move): uploader of a private one,
    editor or owner of its collection. 404 if unreadable, 403 for a viewer."""
    doc = await readable_document(session, access, document_id)
    if rank(access.role_in(doc.collection_id, doc.owner_id)) < rank("editor"):
        raise Forbidden("Viewers cannot change this collection's documents.",
                        code="insufficient_role")
    return doc


async def readable_ids(session: AsyncSession, access: Access, ids: Iterable[str]) -> set[str]:
    """Which of `ids` name documents the user may read now (for citations in history)."""
    unique = sorted({i for i in ids if i})
    if not unique:
        return set()
    stmt = select(Document.id).where(Document.id.in_(unique), access.condition())
    return set((await session.execute(stmt)).scalars())


# ---- collections ---------------------------------------------------------------------------------

async def collection_with_role(session: AsyncSession, access: Access, collection_id: str,
                               needed: Role) -> Collection:
    """The collection if the user holds at least `needed` in it: 404 for non-members (even if it
    exists), 403 for a member whose role is weaker."""
    role = access.roles.get(collection_id)
    coll = await session.get(Collection, collection_id) if role is not None else None
    if coll is None or role is None:
        raise NotFound("Collection not found.")
    if rank(role) < rank(needed):
        raise Forbidden(f"This needs the {needed} role in the collection (you are {role}).",
                        code="insufficient_role")
    return coll


# ---- retrieval -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Partition:
    """One owner's documents within a reader's scope: all of them, only `document_ids`, or all but
    `exclude_document_ids` (vectors and keyword rows are stored per owner)."""

    owner_id: str
    document_ids: frozenset[str] | None = None
    exclude_document_ids: frozenset[str] | None = None
    share: float | None = None  # of the owner's documents, when narrowed (a search's hint)
    documents: int = 0  # how many of the owner's documents are in scope (when counted)
    # When narrowed to whole spaces (no document named outside them): those spaces, as the
    # document lists were read (the keyword index may rank with their kept statistics).
    spaces: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """What one search or chat question may draw on: the partitions to query and the rule the
    database re-check applies to every hit."""

    access: Access
    partitions: tuple[Partition, ...]
    private: bool  # the caller's private space is in scope
    collections: frozenset[str]  # collections in scope (all readable ones by default)
    documents: frozenset[str]  # documents named explicitly (each readable)
    # About what share of all documents the partitions hold, for a search of many owners: a
    # store may then search them together (`VectorStore.nearest_each`). None: not counted.
    share: float | None = None

    def allows(self, owner_id: str, collection_id: str | None, document_id: str) -> bool:
        if self.access.role_in(collection_id, owner_id) is None:
            return False
        if document_id in self.documents:
            return True
        if collection_id is None:
            return self.private and owner_id == self.access.user_id
        return collection_id in self.collections


async def check_selection(session: AsyncSession, access: Access,
                          document_ids: Sequence[str] | None, collection_ids: Sequence[str] | None
                          ) -> tuple[frozenset[str], frozenset[str]]:
    """A caller-named scope (documents, collections), each readable by the caller, or 404."""
    docs = list(dict.fromkeys(document_ids or []))
    colls = list(dict.fromkeys(collection_ids or []))
    if any(c not in access.roles for c in colls):
        raise NotFound("One or more of the selected collections were not found.")
    if docs:
        found = set((await session.execute(
            select(Document.id).where(Document.id.in_(docs), access.condition()))).scalars())
        if len(found) != len(docs):
            raise NotFound("One or more of the selected documents were not found.")
    return frozenset(docs), frozenset(colls)


async def read_plan(session: AsyncSession, access: Access, *,
                    document_ids: Sequence[str] | None = None,
                    collection_ids: Sequence[str] | None = None) -> ReadPlan:
    """The scope of a search or a question. Without a selection: everything the user can read.
    With one: the named documents and collections only (each must be readable, or 404)."""
    docs, colls = await check_selection(session, access, document_ids, collection_ids)
    private = not docs and not colls
    if private:
        colls = access.collections
    plan = ReadPlan(access=access, partitions=(), private=private, collections=colls,
                    documents=docs)
    named = await _named(session, plan)
    return await _planned(session, plan, await _space_rows(session, plan, named), named)


async def plan_for(session: AsyncSession, user_id: str, *,
                   document_ids: Sequence[str] | None = None,
                   collection_ids: Sequence[str] | None = None) -> ReadPlan:
    """`read_plan` for `user_id`'s access as of now (`access_for`). The default scope (no
    selection) reads the roles and the readable spaces' counts in one statement: the access step
    of every search and question is then one round trip before the partitions' lists (a round
    trip waits for a core the query's embedding keeps busy: docs/benchmarks.md §5b, 2026-12-06)."""
    if document_ids or collection_ids:
        return await read_plan(session, await access_for(session, user_id),
                               document_ids=document_ids, collection_ids=collection_ids)
    readable = select(CollectionMember.collection_id).where(_memberships(user_id))
    roles = select(literal(_ROLE_ROW), CollectionMember.collection_id, CollectionMember.role,
                   literal(0), literal(0)).where(_memberships(user_id))
    spaces = select(literal(_SPACE_ROW), *_space_columns()).where(
        _space_owners([user_id], readable))
    rows = (await session.execute(union_all(roles, spaces))).all()
    access = _access(user_id, ((r[1], r[2]) for r in rows if r[0] == _ROLE_ROW))
    plan = ReadPlan(access=access, partitions=(), private=True, collections=access.collections,
                    documents=frozenset())
    return await _planned(session, plan, [r[1:] for r in rows if r[0] == _SPACE_ROW], {})


async def _planned(session: AsyncSession, plan: ReadPlan, rows: Sequence[_SpaceRow],
                   named: Mapping[str, tuple[str, str]]) -> ReadPlan:
    """`plan` with its partitions, from its owners' `document_spaces` rows."""
    partitions, total = await _partitions(session, plan, rows, named)
    share = None
    if len(partitions) >= MANY_OWNERS and total:
        share = min(1.0, sum(p.documents for p in partitions) / total)
    return ReadPlan(access=plan.access, partitions=partitions, private=plan.private,
                    collections=plan.collections, documents=plan.documents, share=share)


# Documents per owner and space ('' = the owner's private space), kept exact by triggers on
# `documents` (migration 0013): the partition plan reads a few of its rows instead of aggregating
# the reader's documents on every request. Not an ORM model: the database writes it.
document_spaces = Table(
    "document_spaces", MetaData(),
    Column("owner_id", String(36), primary_key=True),
    Column("space", String(36), primary_key=True),
    Column("documents", Integer, nullable=False),
)
PRIVATE_SPACE = ""
# A plan over this many owners says what share of all documents it holds (`ReadPlan.share`).
MANY_OWNERS = 3
# Spaces listed per statement: SQLite allows 500 terms in a compound SELECT.
MAX_UNION = 400


# PostgreSQL plans the lists' union (an index range per space, a few thousand ids each) with
# parallel workers, whose start costs more than they save: 8.0–10.4 ms against 5.2–5.5 serial
# on an idle server, and 21.6 ms p50 under a search's own load (docs/benchmarks.md §5b,
# 2026-12-06). Transaction-local, as PgBouncer's transaction pooling requires.
_SERIAL = text("SELECT set_config('max_parallel_workers_per_gather', '0', true)")


async def _serial(connection: AsyncConnection) -> None:
    """No parallel workers for the rest of `connection`'s transaction (PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(_SERIAL)


def space_document_ids(owner: str, space: str) -> Select[str, str]:
    """The ids of `owner`'s documents in `space` (a collection id or PRIVATE_SPACE), joined by
    commas, as one row (owner, ids): read from `ix_documents_owner_collection_id` alone."""
    docs = Document.__table__.c
    return select(literal(owner, String), func.aggregate_strings(docs.id, ",")).where(
        docs.owner_id == owner,
        docs.collection_id.is_(None) if space == PRIVATE_SPACE else docs.collection_id == space)


# A `document_spaces` row as the plan reads it: owner, space, documents, and the documents of all
# owners (`ReadPlan.share`, carried by every row: same round trip).
_SpaceRow = tuple[str, str, int, int | None]
# `plan_for`'s one statement: which rows are roles, which are spaces.
_ROLE_ROW, _SPACE_ROW = "r", "s"


def _space_columns() -> tuple[ColumnElement[Any], ...]:
    ds, every = document_spaces.c, document_spaces.alias("every_space").c
    return (ds.owner_id, ds.space, ds.documents,
            select(func.sum(every.documents)).scalar_subquery())


async def _named(session: AsyncSession, plan: ReadPlan) -> dict[str, tuple[str, str]]:
    """The explicitly named documents (each readable, checked by `check_selection`): owner and
    space of each."""
    if not plan.documents:
        return {}
    return {doc_id: (owner, coll or PRIVATE_SPACE) for doc_id, owner, coll in (
        await session.execute(
            select(Document.id, Document.owner_id, Document.collection_id)
            .where(Document.id.in_(sorted(plan.documents))))).all()}


async def _space_rows(session: AsyncSession, plan: ReadPlan,
                      named: Mapping[str, tuple[str, str]]) -> list[_SpaceRow]:
    """The `document_spaces` rows of every owner holding a document in `plan`'s scope."""
    extra = {owner for owner, _ in named.values()}
    if plan.private:
        extra.add(plan.access.user_id)
    if not extra and not plan.collections:
        return []
    who = _space_owners(extra, sorted(plan.collections) if plan.collections else None)
    return list((await session.execute(select(*_space_columns()).where(who))).all())


def _space_owners(owners: Iterable[str],
                  collections: Sequence[str] | Select[str] | None) -> ColumnElement[bool]:
    """`document_spaces` rows of `owners`, and of every owner with documents in `collections`
    (ids, or a statement selecting them)."""
    ds = document_spaces.c
    listed = sorted(owners)
    who: ColumnElement[bool] = ds.owner_id.in_(listed) if listed else false()
    if collections is not None:
        who = or_(who, ds.owner_id.in_(select(ds.owner_id).where(ds.space.in_(collections))))
    return who


async def _partitions(session: AsyncSession, plan: ReadPlan, rows: Sequence[_SpaceRow],
                      explicit: Mapping[str, tuple[str, str]]
                      ) -> tuple[tuple[Partition, ...], int]:
    """One partition per owner holding wanted documents (`rows`: their `document_spaces` rows;
    `explicit`: the named documents), and how many documents there are in all. An owner all of
    whose documents are wanted is searched without a filter (the fast case: a filter makes Chroma
    gather ids first); otherwise the smaller of "only these" and "all but these" is used."""
    reader = plan.access.user_id

    def wanted_space(owner: str, space: str) -> bool:
        if space == PRIVATE_SPACE:
            return plan.private and owner == reader
        return space in plan.collections

    counts: dict[str, list[int]] = {}  # owner -> [wanted, not wanted]
    spaces: dict[str, list[list[str]]] = {}  # owner -> [wanted spaces, other spaces] (not empty)
    total = int(rows[0][3] or 0) if rows else 0
    for owner, space, n, _ in rows:
        side = 0 if wanted_space(owner, space) else 1
        counts.setdefault(owner, [0, 0])[side] += int(n)
        if n > 0:
            spaces.setdefault(owner, [[], []])[side].append(space)
    for owner, space in explicit.values():  # named documents outside the wanted spaces
        if not wanted_space(owner, space) and owner in counts:
            counts[owner][0] += 1
            counts[owner][1] -= 1
    # A narrowed owner's partition is "only these" or "all but these", whichever list is shorter,
    # read per space (owner and collection: an index range each) in one statement for all such
    # owners, each space's ids joined by commas into one value (ids are UUIDs); the named
    # documents are added to or taken from the lists after. "owner in (...) and not (wanted)"
    # made SQLite visit every document of those owners, one statement per owner cost a round
    # trip each, and a row per id left thousands of objects for Python's collector to trace,
    # whose collections stretched the tail (docs/benchmarks.md §5b).
    listed: dict[str, set[str]] = {}
    pairs = [
        space_document_ids(owner, space)
        for owner, (yes, no) in counts.items() if yes > 0 and no > 0
        for space in spaces.get(owner, [[], []])[0 if yes <= no else 1]
    ]
    if pairs:
        connection = await session.connection()
        await _serial(connection)
        for start in range(0, len(pairs), MAX_UNION):
            statement = union_all(*pairs[start:start + MAX_UNION])
            for owner, joined in (await connection.execute(statement)).all():
                if joined:
                    listed.setdefault(owner, set()).update(joined.split(","))
    for doc_id, (owner, space) in explicit.items():
        if owner in counts and not wanted_space(owner, space):
            yes, no = counts[owner]
            if yes <= no:
                listed.setdefault(owner, set()).add(doc_id)
            else:
                listed.get(owner, set()).discard(doc_id)
    # Owners of named documents outside the wanted spaces: their partitions are not whole spaces.
    mixed = {owner for owner, space in explicit.values() if not wanted_space(owner, space)}
    out: list[Partition] = []
    for owner in sorted(counts):
        yes, no = counts[owner]
        if yes <= 0:
            continue
        if no <= 0:
            out.append(Partition(owner_id=owner, documents=yes))
            continue
        ids = frozenset(listed.get(owner, ()))
        if not ids:  # the documents changed since the counts were read (another transaction)
            if yes > no:  # nothing to leave out any more: all of the owner's documents
                out.append(Partition(owner_id=owner, documents=yes))
            continue
        share = yes / (yes + no)
        whole_spaces = None if owner in mixed else frozenset(spaces.get(owner, [[], []])[0]) or None
        out.append(Partition(owner_id=owner, document_ids=ids, share=share, spaces=whole_spaces,
                             documents=yes)
                   if yes <= no else
                   Partition(owner_id=owner, exclude_document_ids=ids, share=share,
                             spaces=whole_spaces, documents=yes))
    return tuple(out), total
