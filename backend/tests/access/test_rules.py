"""`read_plan`'s owner partitions on real SQLite and PostgreSQL: whole partitions when every
document is readable, "only these" or "all but these" otherwise, the re-check rule, and the
per-owner document counts (`document_spaces`) the plan is made from."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, event, func, insert, select, text

from app.access import rules
from app.access.rules import (
    PRIVATE_SPACE,
    Partition,
    access_for,
    document_spaces,
    plan_for,
    read_plan,
)
from app.auth.models import User
from app.collections.models import Collection, CollectionMember, Group, GroupMember
from app.documents.models import Document


def _doc(owner: str, collection: str | None) -> Document:
    doc_id = str(uuid.uuid4())
    return Document(id=doc_id, owner_id=owner, collection_id=collection, filename="f.txt",
                    mime_type="text/plain", kind="text", size_bytes=1, content_hash=doc_id,
                    storage_key=doc_id, status="ready")


async def test_partitions(client: AsyncClient, api_app: Any) -> None:
    container = api_app.state.container
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with container.sessions() as s:
        for uid in (me, other):
            s.add(User(id=uid, email=f"{uid}@example.com", password_hash="x"))
        shared, hidden, mine_gone = (Collection(name=n) for n in ("shared", "hidden", "left"))
        s.add_all([shared, hidden, mine_gone])
        await s.flush()
        s.add(CollectionMember(collection_id=shared.id, user_id=me, role="viewer"))
        # me: 3 private documents and 1 in a collection they no longer belong to
        private = [_doc(me, None) for _ in range(3)]
        left = _doc(me, mine_gone.id)
        # other: 1 shared document, 2 private, 1 in a collection me cannot read
        readable = _doc(other, shared.id)
        others = [_doc(other, None), _doc(other, None), _doc(other, hidden.id)]
        s.add_all([*private, left, readable, *others])
        await s.commit()

        access = await access_for(s, me)
        plan = await read_plan(s, access)
        parts = {p.owner_id: p for p in plan.partitions}
        # Mostly readable: all but the one left behind. Mostly unreadable: only the shared one.
        # (With the share of the owner's documents kept: how the vector store may search it.)
        # (And the spaces they are, for the keyword index's kept statistics.)
        assert parts[me] == Partition(owner_id=me, exclude_document_ids=frozenset({left.id}),
                                      share=0.75, spaces=frozenset({PRIVATE_SPACE}), documents=3)
        assert parts[other] == Partition(owner_id=other, document_ids=frozenset({readable.id}),
                                         share=0.25, spaces=frozenset({shared.id}), documents=1)
        # Two owners: no share of the whole counted. From three on (patched here: two), the share
        # of all documents the plan holds (a vector store may then search the owners together).
        assert plan.share is None
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rules, "MANY_OWNERS", 2)
            total = await s.scalar(select(func.sum(document_spaces.c.documents)))
            assert (await read_plan(s, access)).share == pytest.approx(4 / total)
        assert plan.allows(other, shared.id, readable.id)
        assert not plan.allows(other, None, others[0].id)
        assert not plan.allows(me, mine_gone.id, left.id)
        assert plan.allows(me, None, private[0].id)

        # A selection: only the shared collection; my private documents are out of scope.
        plan = await read_plan(s, access, collection_ids=[shared.id])
        assert [p.owner_id for p in plan.partitions] == [other]
        assert not plan.allows(me, None, private[0].id)

        # Every document of an owner readable: that partition is searched without a filter.
        s.add(CollectionMember(collection_id=hidden.id, user_id=me, role="viewer"))
        for d in others[:2]:
            d.collection_id = shared.id
        await s.commit()
        plan = await read_plan(s, await access_for(s, me))
        assert Partition(owner_id=other, documents=4) in plan.partitions

        # Named documents outside the selected spaces: added to an owner's "only these" list,
        # taken out of their "all but these" list; that partition is no longer whole spaces.
        plan = await read_plan(s, access, collection_ids=[shared.id], document_ids=[private[0].id])
        parts = {p.owner_id: p for p in plan.partitions}
        assert parts[me] == Partition(owner_id=me, document_ids=frozenset({private[0].id}),
                                      share=0.25, documents=1)
        assert parts[other] == Partition(owner_id=other, exclude_document_ids=frozenset(
            {others[2].id}), share=0.75, spaces=frozenset({shared.id}), documents=3)
        mine_shared = [_doc(me, shared.id) for _ in range(4)]
        s.add_all(mine_shared)
        await s.commit()
        plan = await read_plan(s, access, collection_ids=[shared.id], document_ids=[private[0].id])
        parts = {p.owner_id: p for p in plan.partitions}
        assert parts[me] == Partition(
            owner_id=me, exclude_document_ids=frozenset({private[1].id, private[2].id, left.id}),
            share=5 / 8, documents=5)
        assert plan.allows(me, None, private[0].id) and not plan.allows(me, None, private[1].id)
        # The same lists when each space takes a statement of its own (SQLite caps a UNION).
        everything = await read_plan(s, access)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rules, "MAX_UNION", 1)
            assert (await read_plan(s, access, collection_ids=[shared.id],
                                    document_ids=[private[0].id])).partitions == plan.partitions
            assert (await read_plan(s, access)).partitions == everything.partitions


async def _spaces(s: Any) -> dict[tuple[str, str], int]:
    """`document_spaces` next to what it must equal: the aggregate over `documents`."""
    kept = {(o, sp): n for o, sp, n in (await s.execute(
        select(document_spaces.c.owner_id, document_spaces.c.space,
               document_spaces.c.documents))).all()}
    actual = {(o, c or ""): n for o, c, n in (await s.execute(
        select(Document.owner_id, Document.collection_id, func.count())
        .group_by(Document.owner_id, Document.collection_id))).all()}
    assert kept == actual
    return kept


async def test_document_spaces_follow_every_change(client: AsyncClient, api_app: Any) -> None:
    # The counts the partition plan reads are kept by the database (migration 0013) through
    # uploads, bulk inserts, moves, a collection's deletion (FK SET NULL), deletes and a user's
    # deletion (FK CASCADE); read_plan then plans from them.
    container = api_app.state.container
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with container.sessions() as s:
        for uid in (me, other):
            s.add(User(id=uid, email=f"{uid}@example.com", password_hash="x"))
        one, two = Collection(name="one"), Collection(name="two")
        s.add_all([one, two])
        await s.flush()
        s.add(CollectionMember(collection_id=one.id, user_id=me, role="viewer"))
        mine = [_doc(me, None) for _ in range(2)]
        theirs = [_doc(other, one.id) for _ in range(3)] + [_doc(other, None)]
        s.add_all([*mine, *theirs])
        await s.commit()
        assert await _spaces(s) == {(me, ""): 2, (other, one.id): 3, (other, ""): 1}
        await s.execute(insert(Document), [  # one statement, several rows
            {c.key: getattr(d, c.key) for c in Document.__table__.columns if getattr(d, c.key) is not None}
            for d in (_doc(other, two.id), _doc(other, two.id))])
        await s.commit()
        assert (await _spaces(s))[(other, two.id)] == 2

        # A move into the collection: the private space empties and its row goes.
        theirs[3].collection_id = one.id
        await s.commit()
        assert (other, "") not in await _spaces(s)
        plan = await read_plan(s, await access_for(s, me))
        assert {p.owner_id: p for p in plan.partitions}[other] == Partition(
            owner_id=other, exclude_document_ids=frozenset(
                (await s.execute(select(Document.id).where(Document.collection_id == two.id))
                 ).scalars()), share=4 / 6, spaces=frozenset({one.id}), documents=4)
        # A named document outside the readable spaces' counts (my own private one).
        plan = await read_plan(s, await access_for(s, me), document_ids=[mine[0].id],
                               collection_ids=[one.id])
        assert {p.owner_id: p for p in plan.partitions} == {
            me: Partition(owner_id=me, document_ids=frozenset({mine[0].id}), share=0.5,
                          documents=1),
            other: Partition(owner_id=other, exclude_document_ids=frozenset(
                (await s.execute(select(Document.id).where(Document.collection_id == two.id))
                 ).scalars()), share=4 / 6, spaces=frozenset({one.id}),
                documents=4)}

        # Deleting collection two returns its documents to the uploader's private space.
        await s.execute(delete(Collection).where(Collection.id == two.id))
        await s.commit()
        assert (await _spaces(s))[(other, "")] == 2
        await s.delete(mine[1])
        await s.commit()
        assert (await _spaces(s))[(me, "")] == 1
        await s.execute(delete(User).where(User.id == other))
        await s.commit()
        assert await _spaces(s) == {(me, ""): 1}
        plan = await read_plan(s, await access_for(s, me))
        assert plan.partitions == (Partition(owner_id=me, documents=1),)


@pytest.mark.parametrize("space", ["private", "collection"])
async def test_a_space_is_listed_from_its_index_alone(client: AsyncClient, api_app: Any,
                                                     space: str) -> None:
    """A narrowed owner's list (`space_document_ids`) reads no table row: the index holds the ids
    (SQLite: a covering index; PostgreSQL: an index-only scan is possible, the other scans
    disabled: on a tiny table with no statistics the planner would read the table anyway)."""
    container = api_app.state.container
    owner = str(uuid.uuid4())
    async with container.sessions() as s:
        s.add(User(id=owner, email=f"{owner}@example.com", password_hash="x"))
        collection = Collection(name="c")
        s.add(collection)
        await s.flush()
        s.add_all([_doc(owner, None), _doc(owner, collection.id)])
        await s.commit()
        statement = rules.space_document_ids(
            owner, rules.PRIVATE_SPACE if space == "private" else collection.id)
        connection = await s.connection()
        dialect = connection.dialect
        sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in
                            (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all())
            assert "COVERING INDEX ix_documents_owner_collection_id" in plan, plan
        else:
            for scan in ("seqscan", "bitmapscan", "indexscan"):  # index-only scans stay on
                await connection.exec_driver_sql(f"SET LOCAL enable_{scan} = off")
            plan = " ".join(row[0] for row in
                            (await connection.exec_driver_sql(f"EXPLAIN {sql}")).all())
            assert "Index Only Scan using ix_documents_owner_collection_id" in plan, plan
        assert (await connection.execute(statement)).one()[0] == owner


async def test_plan_for_reads_roles_and_spaces_in_one_statement(client: AsyncClient,
                                                                api_app: Any) -> None:
    """The default scope's plan (every search and question without a selection) reads the roles
    and the readable owners' spaces in one statement, and is exactly `read_plan`'s from
    `access_for`'s roles: direct and group roles (the strongest kept), whole and narrowed owners,
    a collection of my own among them; a selection takes `read_plan`'s way."""
    container = api_app.state.container
    me, other, third = (str(uuid.uuid4()) for _ in range(3))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async with container.sessions() as s:
        for uid in (me, other, third):
            s.add(User(id=uid, email=f"{uid}@example.com", password_hash="x"))
        team, shared, whole, mine, hidden = (
            Collection(name=n) for n in ("team", "shared", "whole", "mine", "hidden"))
        group = Group(name=f"group {me}")
        s.add_all([team, shared, whole, mine, hidden, group])
        await s.flush()
        s.add_all([
            GroupMember(group_id=group.id, user_id=me),
            CollectionMember(collection_id=team.id, group_id=group.id, role="editor"),
            CollectionMember(collection_id=team.id, user_id=me, role="viewer"),
            CollectionMember(collection_id=shared.id, user_id=me, role="viewer"),
            CollectionMember(collection_id=whole.id, user_id=me, role="viewer"),
            CollectionMember(collection_id=mine.id, user_id=me, role="owner"),
        ])
        private = [_doc(me, None), _doc(me, mine.id)]
        s.add_all([*private, _doc(other, team.id), _doc(other, shared.id), _doc(other, None),
                   _doc(other, hidden.id), _doc(third, whole.id), _doc(third, whole.id)])
        await s.commit()

        expected = await read_plan(s, await access_for(s, me))
        sync_engine = container.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", count)
        try:
            plan = await plan_for(s, me)
            one_statement = list(statements)
            statements.clear()
            nobody = await plan_for(s, str(uuid.uuid4()))
            selected = await plan_for(s, me, collection_ids=[team.id])
        finally:
            event.remove(sync_engine, "before_cursor_execute", count)
        assert plan == expected
        assert plan.access.roles == {team.id: "editor", shared.id: "viewer", whole.id: "viewer",
                                     mine.id: "owner"}
        assert {p.owner_id: p for p in plan.partitions} == {
            me: Partition(owner_id=me, documents=2),
            other: Partition(owner_id=other, document_ids=frozenset(
                (await s.execute(select(Document.id).where(
                    Document.collection_id.in_([team.id, shared.id])))).scalars()),
                share=0.5, spaces=frozenset({team.id, shared.id}), documents=2),
            third: Partition(owner_id=third, documents=2)}
        # The roles and spaces, then the one narrowed owner's list of documents; on PostgreSQL
        # without parallel workers (their start costs more than such lists: `rules._SERIAL`).
        postgres = (await s.connection()).dialect.name == "postgresql"
        assert len(one_statement) == 2 + postgres and "collection_members" in one_statement[0] \
            and "document_spaces" in one_statement[0] and "documents.id" in one_statement[-1]
        if postgres:
            assert "max_parallel_workers_per_gather" in one_statement[1]
            assert await s.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        assert nobody.partitions == () and nobody.access.roles == {}
        assert selected == await read_plan(s, await access_for(s, me), collection_ids=[team.id])
