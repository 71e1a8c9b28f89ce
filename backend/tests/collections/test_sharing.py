"""Sharing through collections, end to end on the real app (SQLite and PostgreSQL, embedded Chroma,
in-process jobs, the real embedding model): the route × role matrix, the group canary, one copy.

Every test starts from empty tables. The first account of an installation is an administrator, so
each test registers `admin` first and the actors after it (none of them is an administrator).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from app.documents.models import Job
from app.providers.vectorstore import AllOwners
from tests.api.helpers import wait_done
from tests.conftest import register

CANARY = "QUOKKA-GLASS-4417"
CANARY_TEXT = (f"The harbour lighthouse keeper logs the code {CANARY} every evening at dusk.\n"
               "The lamp is cleaned with vinegar and the log is kept in a brass box.\n")
ROLES = ["none", "viewer", "editor", "owner", "group", "removed"]


@pytest.fixture
async def clients(client: AsyncClient, anon_client_factory: Callable[[], AsyncClient]
                  ) -> AsyncIterator[Callable[[str], Any]]:
    """`clients(email)`: a signed-in client for a new account (the first is `client`, the admin)."""
    async with AsyncExitStack() as stack:
        await register(client, "admin@example.com")

        async def make(email: str) -> AsyncClient:
            c = await stack.enter_async_context(anon_client_factory())
            await register(c, email)
            return c

        yield make


async def _me(c: AsyncClient) -> str:
    return str((await c.get("/api/v1/auth/me")).json()["id"])


async def _collection(c: AsyncClient, name: str = "Handbook") -> str:
    r = await c.post("/api/v1/collections", json={"name": name, "description": "team docs"})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "owner"
    return str(r.json()["id"])


async def _upload_into(c: AsyncClient, collection_id: str | None, name: str, text: str) -> str:
    data = {"collection_id": collection_id} if collection_id else {}
    r = await c.post("/api/v1/documents", data=data,
                     files=[("files", (name, text.encode(), "application/octet-stream"))])
    assert r.status_code == 202, r.text
    doc = r.json()["documents"][0]
    assert doc["collection_id"] == collection_id
    return str(doc["id"])


async def _share(owner: AsyncClient, collection_id: str, role: str, *, user_id: str | None = None,
                 group_id: str | None = None) -> str:
    body = {"role": role, **({"user_id": user_id} if user_id else {"group_id": group_id})}
    r = await owner.put(f"/api/v1/collections/{collection_id}/members", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def _search_ids(c: AsyncClient, query: str, **extra: Any) -> set[str]:
    r = await c.post("/api/v1/search", json={"query": query, "k": 10, **extra})
    assert r.status_code == 200, r.text
    return {hit["document_id"] for hit in r.json()["results"]}


async def _chat_cites(c: AsyncClient, question: str) -> tuple[str, set[str], dict[str, Any]]:
    conv = (await c.post("/api/v1/conversations", json={})).json()["id"]
    r = await c.post(f"/api/v1/conversations/{conv}/messages", json={"content": question},
                     headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    body = r.json()
    return conv, {cit["document_id"] for cit in body["citations"]}, body


async def _stations(clients: Any, reader: AsyncClient, stranger: AsyncClient
                    ) -> tuple[str, str, list[str], list[tuple[AsyncClient, str, str]]]:
    """The reader's own document, a stranger's canary, and four keepers' station logs, each in a
    collection of its keeper's shared with the reader: (mine, hidden, shared documents, and per
    keeper (client, collection, the reader's membership)), all ready."""
    reader_id = await _me(reader)
    mine = await _upload_into(reader, None, "mine.txt", "My lighthouse lamp log: wicks trimmed.\n")
    hidden = await _upload_into(stranger, None, "hidden.txt", CANARY_TEXT)
    shared: list[str] = []
    keepers: list[tuple[AsyncClient, str, str]] = []
    for i in range(4):
        owner = await clients(f"keeper{i}@example.com")
        coll = await _collection(owner, f"Station {i}")
        shared.append(await _upload_into(owner, coll, f"station{i}.txt", (
            f"Station {i}: the lighthouse keeper logs the lamp {i + 2} times a night.\n"
            f"The brass box at station {i} holds {CANARY} logs.\n")))
        keepers.append((owner, coll, await _share(owner, coll, "viewer", user_id=reader_id)))
    for c, d in ((reader, mine), (stranger, hidden)):
        assert (await wait_done(c, d))["status"] == "ready"
    for d in shared:
        assert (await wait_done(reader, d))["status"] == "ready"
    return mine, hidden, shared, keepers


async def _group_with(admin: AsyncClient, name: str, *user_ids: str) -> str:
    r = await admin.post("/api/v1/admin/groups", json={"name": name})
    assert r.status_code == 201, r.text
    gid = str(r.json()["id"])
    for uid in user_ids:
        r = await admin.put(f"/api/v1/admin/groups/{gid}/members", json={"user_id": uid})
        assert r.status_code == 204, r.text
    return gid


@pytest.mark.parametrize("role", ROLES)
async def test_route_role_matrix(role: str, client: AsyncClient, clients: Any) -> None:
    """Every sharing route for one role of the caller: exactly what must succeed does."""
    admin = client
    alice = await clients("alice@example.com")
    subject = await clients("sam@example.com")
    third = await clients("tess@example.com")
    sam_id, tess_id = await _me(subject), await _me(third)
    coll = await _collection(alice)
    doc = await _upload_into(alice, coll, "lighthouse.txt", CANARY_TEXT)
    assert (await wait_done(alice, doc))["status"] == "ready"
    tess_member = await _share(alice, coll, "viewer", user_id=tess_id)

    if role in ("viewer", "editor", "owner", "removed"):
        member = await _share(alice, coll, "viewer" if role == "removed" else role, user_id=sam_id)
        if role == "removed":
            assert (await subject.get(f"/api/v1/collections/{coll}")).status_code == 200
            r = await alice.delete(f"/api/v1/collections/{coll}/members/{member}")
            assert r.status_code == 204
    elif role == "group":  # an editor through a group, not by name
        gid = await _group_with(admin, "Keepers", sam_id)
        await _share(alice, coll, "editor", group_id=gid)

    effective = {"none": None, "removed": None, "viewer": "viewer", "editor": "editor",
                 "group": "editor", "owner": "owner"}[role]
    reads = effective is not None
    writes = effective in ("editor", "owner")
    owns = effective == "owner"

    def expect(ok: int, allowed: bool) -> int:
        # Not a member: the collection and its documents do not exist for them (404);
        # a member whose role is too weak: 403.
        return ok if allowed else (403 if reads else 404)

    # -- reading
    r = await subject.get(f"/api/v1/collections/{coll}")
    assert r.status_code == (200 if reads else 404)
    if reads:
        assert r.json()["role"] == effective
    listed = {c["id"] for c in (await subject.get("/api/v1/collections")).json()["items"]}
    assert (coll in listed) is reads
    r = await subject.get(f"/api/v1/collections/{coll}/members")
    assert r.status_code == (200 if reads else 404)
    r = await subject.get("/api/v1/documents", params={"collection_id": coll})
    assert r.status_code == (200 if reads else 404)
    if reads:
        assert [d["id"] for d in r.json()["items"]] == [doc]
        assert r.json()["items"][0]["role"] == effective
    everything = {d["id"] for d in (await subject.get("/api/v1/documents")).json()["items"]}
    assert (doc in everything) is reads
    for path in ("", "/file", "/chunks"):
        r = await subject.get(f"/api/v1/documents/{doc}{path}")
        assert r.status_code == (200 if reads else 404), (path, r.status_code)

    # -- search and chat, default scope and explicit scope
    assert (doc in await _search_ids(subject, f"lighthouse keeper code {CANARY}")) is reads
    r = await subject.post("/api/v1/search", json={"query": "lighthouse", "collection_ids": [coll]})
    assert r.status_code == (200 if reads else 404)
    r = await subject.post("/api/v1/search", json={"query": "lighthouse", "document_ids": [doc]})
    assert r.status_code == (200 if reads else 404)
    _, cited, body = await _chat_cites(subject, f"What code does the lighthouse keeper log? {CANARY}")
    assert (doc in cited) is reads
    if reads:
        cit = next(c for c in body["citations"] if c["document_id"] == doc)
        assert (cit["collection_id"], cit["collection_name"]) == (coll, "Handbook")
    conv = (await subject.post("/api/v1/conversations", json={})).json()["id"]
    r = await subject.post(f"/api/v1/conversations/{conv}/messages",
                           json={"content": "lighthouse?", "collection_ids": [coll]},
                           headers={"Accept": "application/json"})
    assert r.status_code == (200 if reads else 404)

    # -- writing documents
    r = await subject.post("/api/v1/documents", data={"collection_id": coll},
                           files=[("files", ("mine.txt", b"Notes about tides and ropes.\n", "text/plain"))])
    assert r.status_code == expect(202, writes)
    r = await subject.post(f"/api/v1/documents/{doc}/reprocess")
    assert r.status_code == expect(202, writes)
    assert (await wait_done(alice, doc))["status"] == "ready"
    r = await subject.patch(f"/api/v1/documents/{doc}", json={"collection_id": None})
    assert r.status_code == expect(200, writes)
    if writes:  # out to alice's private space: unreadable for the subject now
        assert (await subject.get(f"/api/v1/documents/{doc}")).status_code == 404
        assert (await alice.patch(f"/api/v1/documents/{doc}", json={"collection_id": coll})
                ).status_code == 200
        assert (await subject.get(f"/api/v1/documents/{doc}")).status_code == 200

    # -- managing the collection
    r = await subject.patch(f"/api/v1/collections/{coll}", json={"name": "Renamed"})
    assert r.status_code == expect(200, owns)
    r = await subject.put(f"/api/v1/collections/{coll}/members",
                          json={"user_id": tess_id, "role": "editor"})
    assert r.status_code == expect(200, owns)
    r = await subject.delete(f"/api/v1/collections/{coll}/members/{tess_member}")
    assert r.status_code == expect(204, owns)
    r = await subject.delete(f"/api/v1/documents/{doc}")
    assert r.status_code == expect(204, writes)
    r = await subject.delete(f"/api/v1/collections/{coll}")
    assert r.status_code == expect(204, owns)
    # Whatever the subject could not do left the collection in place for its owner.
    assert (await alice.get(f"/api/v1/collections/{coll}")).status_code == (404 if owns else 200)
    assert (await alice.get(f"/api/v1/documents/{doc}")).status_code == (404 if writes else 200)


async def test_group_canary_found_by_members_only_and_gone_after_removal(
        client: AsyncClient, clients: Any) -> None:
    admin = client
    alice = await clients("alice@example.com")
    bob = await clients("bob@example.com")  # in the group
    carol = await clients("carol@example.com")  # not in it, has documents of her own
    bob_id = await _me(bob)
    coll = await _collection(alice)
    doc = await _upload_into(alice, coll, "lighthouse.txt", CANARY_TEXT)
    own = await _upload_into(carol, None, "carol.txt", "Carol's lighthouse notes: the lamp is red.\n")
    for c, d in ((alice, doc), (carol, own)):
        assert (await wait_done(c, d))["status"] == "ready"
    gid = await _group_with(admin, "Harbour", bob_id)
    await _share(alice, coll, "viewer", group_id=gid)
    query = f"lighthouse keeper code {CANARY}"

    assert doc in await _search_ids(alice, query)
    assert doc in await _search_ids(bob, query)
    assert await _search_ids(carol, query) == {own}
    assert await _search_ids(admin, query) == set()  # administrators read nothing by role
    bob_conv, cited, _ = await _chat_cites(bob, f"What code does the keeper log? {CANARY}")
    assert doc in cited
    _, cited, _ = await _chat_cites(carol, f"What code does the keeper log? {CANARY}")
    assert doc not in cited

    # The admin takes bob out of the group: his very next search and question lose the canary.
    r = await admin.delete(f"/api/v1/admin/groups/{gid}/members/{bob_id}")
    assert r.status_code == 204
    assert doc not in await _search_ids(bob, query)
    _, cited, _ = await _chat_cites(bob, f"What code does the keeper log? {CANARY}")
    assert doc not in cited
    # His earlier conversation keeps the citation's number, not the text he can no longer read.
    history = (await bob.get(f"/api/v1/conversations/{bob_conv}")).json()["messages"]
    shown = [c for m in history for c in m["citations"] if c["document_id"] == doc]
    assert shown and all(not c["available"] and c["snippet"] == "" and c["filename"] == ""
                         for c in shown)
    assert all(CANARY not in c["snippet"] for m in history for c in m["citations"])
    for path in ("", "/file", "/chunks"):
        assert (await bob.get(f"/api/v1/documents/{doc}{path}")).status_code == 404


async def test_one_copy_serves_every_member(client: AsyncClient, api_app: Any, clients: Any) -> None:
    admin = client
    alice = await clients("alice@example.com")
    members = [await clients(f"m{i}@example.com") for i in range(3)]
    coll = await _collection(alice)
    doc = await _upload_into(alice, coll, "lighthouse.txt", CANARY_TEXT * 3)
    ready = await wait_done(alice, doc)
    container = api_app.state.container

    async def vectors() -> int:
        total = 0
        for target in await container.index.targets():
            total += await container.vectors.count(
                target.collection, scope=AllOwners(document_ids=frozenset({doc})))
        return total

    before = await vectors()
    assert before == ready["chunk_count"] > 0
    gid = await _group_with(admin, "Everyone", *[await _me(m) for m in members[:2]])
    await _share(alice, coll, "viewer", group_id=gid)
    await _share(alice, coll, "editor", user_id=await _me(members[2]))
    for m in members:
        assert doc in await _search_ids(m, f"lighthouse {CANARY}")
    # Moving it out and back does not embed it again either.
    assert (await alice.patch(f"/api/v1/documents/{doc}", json={"collection_id": None})).status_code == 200
    assert (await alice.patch(f"/api/v1/documents/{doc}", json={"collection_id": coll})).status_code == 200
    assert await vectors() == before
    async with container.sessions() as session:
        jobs = (await session.execute(select(func.count()).select_from(Job)
                                      .where(Job.document_id == doc))).scalar_one()
    assert jobs == 1  # ingested once, for everyone
    assert (await alice.get(f"/api/v1/documents/{doc}")).json()["status"] == "ready"


async def test_a_reader_of_many_owners_gets_one_ranking_however_the_keyword_search_is_split(
        client: AsyncClient, api_app: Any, clients: Any) -> None:
    # Retrieval splits a reader's owner partitions into statements side by side
    # (`keyword_statements`, 2 on PostgreSQL): the same hits, scores and order as one statement,
    # from every owner shared with the reader, and never from an owner who shared nothing.
    reader = await clients("reader@example.com")
    mine, _, shared, _ = await _stations(clients, reader, await clients("stranger@example.com"))
    settings = api_app.state.container.settings
    runs = []
    try:
        for ways in (1, 2, 3):
            settings.keyword_statements = ways
            r = await reader.post("/api/v1/search", json={
                "query": f"lighthouse keeper lamp log {CANARY}", "k": 10})
            assert r.status_code == 200, r.text
            runs.append([(h["chunk_id"], h["score"]) for h in r.json()["results"]])
    finally:
        settings.keyword_statements = None
    assert runs[0] == runs[1] == runs[2]
    found = {h["document_id"] for h in r.json()["results"]}
    assert found == {mine, *shared}


async def test_a_reader_of_many_owners_is_searched_once_in_the_union_index(
        client: AsyncClient, api_app: Any, clients: Any, union_answers: list[bool]) -> None:
    # Five owners' documents readable: one vector search of every owner's vectors (Chroma's union
    # index) instead of five, with the same ranking as the owners' own indexes; a stranger's
    # document is never returned, and a removed member loses the collection at once.
    answered = union_answers
    # The app outlives each test, its tables are emptied but not Chroma: start from no vectors,
    # as an installation's vectors are its documents'.
    container = api_app.state.container
    collection = (await container.index.active()).collection
    await container.vectors.drop_collection(collection)
    reader = await clients("reader@example.com")
    mine, _, shared, owners = await _stations(clients, reader,
                                              await clients("stranger@example.com"))
    query = {"query": f"lighthouse keeper lamp log {CANARY}", "k": 10}

    async def search() -> list[tuple[str, str, float]]:
        r = await reader.post("/api/v1/search", json=query)
        assert r.status_code == 200, r.text
        return [(h["document_id"], h["chunk_id"], h["score"]) for h in r.json()["results"]]

    by_owner = await search()  # no union yet: each owner's index (and the union's build starts)
    assert {d for d, _, _ in by_owner} == {mine, *shared} and not answered
    await container.vectors.build_union(collection)
    together = await search()
    assert answered == [True]
    assert [(d, c) for d, c, _ in together] == [(d, c) for d, c, _ in by_owner]
    assert [s for _, _, s in together] == pytest.approx([s for _, _, s in by_owner], abs=1e-4)
    owner, coll, member = owners[0]
    assert (await owner.delete(f"/api/v1/collections/{coll}/members/{member}")).status_code == 204
    assert {d for d, _, _ in await search()} == {mine, *shared[1:]}
    assert answered == [True, True]


async def test_private_documents_stay_private(client: AsyncClient, clients: Any) -> None:
    """A member of alice's collection still cannot see her private documents, and a document she
    uploads into a collection is not in anyone's view but the collection's members'."""
    alice = await clients("alice@example.com")
    bob = await clients("bob@example.com")
    coll = await _collection(alice)
    await _share(alice, coll, "editor", user_id=await _me(bob))
    private = await _upload_into(alice, None, "diary.txt", f"Private diary {CANARY} entry.\n")
    shared = await _upload_into(alice, coll, "shared.txt", "Shared notes about lighthouse lamps.\n")
    for d in (private, shared):
        await wait_done(alice, d)
    assert (await bob.get(f"/api/v1/documents/{private}")).status_code == 404
    assert await _search_ids(bob, f"diary {CANARY}") <= {shared}
    assert {d["id"] for d in (await bob.get("/api/v1/documents")).json()["items"]} == {shared}
    # bob may move shared documents but not pull alice's private one into the collection.
    r = await bob.patch(f"/api/v1/documents/{private}", json={"collection_id": coll})
    assert r.status_code == 404
    # Nor into a collection where he is only a viewer.
    other = await _collection(alice, "Other")
    await _share(alice, other, "viewer", user_id=await _me(bob))
    r = await bob.patch(f"/api/v1/documents/{shared}", json={"collection_id": other})
    assert r.status_code == 403
    # The last owner cannot leave or be demoted.
    members = (await alice.get(f"/api/v1/collections/{coll}/members")).json()["items"]
    mine = next(m for m in members if m["name"] == "alice@example.com")
    assert (await alice.delete(f"/api/v1/collections/{coll}/members/{mine['id']}")).status_code == 409
    r = await alice.put(f"/api/v1/collections/{coll}/members",
                        json={"user_id": mine["user_id"], "role": "viewer"})
    assert r.status_code == 409
    # Deleting the collection gives its documents back to their uploader.
    assert (await alice.delete(f"/api/v1/collections/{coll}")).status_code == 204
    back = (await alice.get(f"/api/v1/documents/{shared}")).json()
    assert back["collection_id"] is None
    assert (await bob.get(f"/api/v1/documents/{shared}")).status_code == 404


async def test_user_lookup_is_exact(client: AsyncClient, clients: Any) -> None:
    alice = await clients("alice@example.com")
    await clients("bob@example.com")
    r = await alice.get("/api/v1/users/lookup", params={"email": "BOB@example.com"})
    assert r.status_code == 200 and r.json()["email"] == "bob@example.com"
    for probe in ("bob", "bob@", "b%", "@example.com"):
        r = await alice.get("/api/v1/users/lookup", params={"email": probe})
        assert r.status_code in (404, 422), probe


async def test_sync_user_groups_joins_and_leaves_existing_groups_only(
        client: AsyncClient, api_app: Any, clients: Any) -> None:
    """What single sign-on calls with a provider's groups claim: membership follows the claim,
    among the groups an administrator created; unknown names create nothing."""
    from app.collections.groups import sync_user_groups

    admin = client
    alice = await clients("alice@example.com")
    alice_id = await _me(alice)
    legal = await _group_with(admin, "Legal")
    ops = await _group_with(admin, "Ops", alice_id)
    container = api_app.state.container
    async with container.sessions() as session:
        await sync_user_groups(session, alice_id, ["legal", "Nonexistent"])
        await session.commit()

    async def members(gid: str) -> set[str]:
        r = await admin.get(f"/api/v1/admin/groups/{gid}/members")
        return {u["id"] for u in r.json()["items"]}

    assert await members(legal) == {alice_id}
    assert await members(ops) == set()
    names = {g["name"] for g in (await alice.get("/api/v1/groups")).json()["items"]}
    assert names == {"Legal", "Ops"}


async def test_admin_groups_rename_conflict_and_delete_revokes(client: AsyncClient,
                                                               clients: Any) -> None:
    admin = client
    alice = await clients("alice@example.com")
    bob = await clients("bob@example.com")
    gid = await _group_with(admin, "Crew", await _me(bob))
    assert (await admin.post("/api/v1/admin/groups", json={"name": "crew"})).status_code == 409
    r = await admin.patch(f"/api/v1/admin/groups/{gid}", json={"name": "Deck crew"})
    assert r.status_code == 200 and r.json()["name"] == "Deck crew"
    coll = await _collection(alice)
    await _share(alice, coll, "viewer", group_id=gid)
    members = (await alice.get(f"/api/v1/collections/{coll}/members")).json()["items"]
    assert {(m["kind"], m["name"], m["role"]) for m in members} == {
        ("user", "alice@example.com", "owner"), ("group", "Deck crew", "viewer")}
    assert (await bob.get(f"/api/v1/collections/{coll}")).status_code == 200
    assert (await admin.delete(f"/api/v1/admin/groups/{gid}")).status_code == 204
    assert (await bob.get(f"/api/v1/collections/{coll}")).status_code == 404
    assert (await admin.get(f"/api/v1/admin/groups/{gid}/members")).status_code == 404
