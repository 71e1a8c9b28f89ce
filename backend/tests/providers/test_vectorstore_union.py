"""The union index (`chroma_union`): one Chroma collection with every owner's vectors, so that a
reader of many owners is searched once. Embedded Chroma and a real Chroma server process."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from app.documents.vectors import chunk_document
from app.providers.vectorstore import ALL_OWNERS, VectorScope
from app.providers.vectorstore import chroma_union as union_module
from app.providers.vectorstore.chroma_store import ChromaVectorStore, union_name
from tests.providers.test_vectorstore import coll, every, owner, records, unit

__all__ = ["coll"]  # the fixture, union_answers by name


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ChromaVectorStore:
    if request.param == "embedded":
        return ChromaVectorStore.embedded(tmp_path / "chroma", document_of=chunk_document)
    return ChromaVectorStore.http(request.getfixturevalue("chroma_server_url"),
                                  document_of=chunk_document)


def stored_in_union(store: ChromaVectorStore, coll: str) -> list[str]:
    col = store._get_client().get_collection(union_name(coll), embedding_function=None)
    return sorted(col.get(include=[])["ids"])


async def stored_in_shards(store: ChromaVectorStore, coll: str, owners: list[str]) -> list[str]:
    found: list[str] = []
    for o in owners:
        found += [f"{o}/{i}" for i in await store.ids(coll, scope=owner(o))]
    return sorted(found)


def merged(lists: list[list[tuple[str, float]]], k: int) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    for hits in lists:
        for i, s in hits:
            best[i] = max(s, best.get(i, s))
    return sorted(best.items(), key=lambda h: (-h[1], h[0]))[:k]


def same(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> bool:
    return [i for i, _ in a] == [i for i, _ in b] and np.allclose([s for _, s in a],
                                                                  [s for _, s in b], atol=1e-5)


async def test_many_owners_are_searched_once_with_the_same_result(
        store: ChromaVectorStore, coll: str, union_answers: list[bool]) -> None:
    rng = np.random.default_rng(31)
    owners = ["alice", "bob", "carol", "dave", "erin"]
    vecs = {o: unit(rng, 40) for o in owners}
    await store.upsert(coll, [r for o, v in vecs.items()
                              for half in (0, 1) for r in records(v[half::2], o, f"d{o}{half}")])
    assert await store.build_union(coll) == 200
    assert stored_in_union(store, coll) == await stored_in_shards(store, coll, owners)
    # A reader of alice's and bob's vectors, one of carol's documents, and none of dave's or erin's.
    scopes = [owner("alice"), owner("bob"),
              VectorScope(owner_id="carol", exclude_document_ids=frozenset({"dcarol1"}))]
    for n in range(10):
        q = vecs[owners[n % 5]][n].tolist()
        together = await store.nearest_each(coll, q, k=12, scopes=scopes, share=0.5)
        assert union_answers[-1] is True
        alone = [await store.nearest(coll, q, k=12, scope=s) for s in scopes]
        assert same(merged(together, 12), merged(alone, 12))
        for scope, hits in zip(scopes, together, strict=True):  # each hit in its own scope only
            assert all(i.startswith(f"d{scope.owner_id}") and scope.keeps(chunk_document(i))
                       for i, _ in hits)
    # Too small a share, too few owners, or a clean-up scope: the shards, as before.
    count = len(union_answers)
    await store.nearest_each(coll, q, k=12, scopes=scopes, share=0.1)
    await store.nearest_each(coll, q, k=12, scopes=scopes[:2], share=0.9)
    await store.nearest_each(coll, q, k=12, scopes=scopes)
    assert len(union_answers) == count
    # The depth held fewer than k of the scopes' vectors (a wrong share): the shards answer.
    narrow = [owner("alice", "dalice0"), owner("bob", "dbob0"), owner("carol", "dcarol0")]
    q = vecs["erin"][3].tolist()
    found = await store.nearest_each(coll, q, k=30, scopes=narrow, share=0.9)
    assert union_answers[-1] is False
    assert found == [await store.nearest(coll, q, k=30, scope=s) for s in narrow]


async def test_every_write_and_delete_reaches_the_union(
        store: ChromaVectorStore, coll: str) -> None:
    rng = np.random.default_rng(32)
    owners = ["u1", "u2", "u3"]
    await store.upsert(coll, records(unit(rng, 4), "u1", "d1") + records(unit(rng, 3), "u2", "d2"))
    await store.build_union(coll)
    steps = [
        lambda: store.upsert(coll, records(unit(rng, 5), "u3", "d3")
                             + records(unit(rng, 2), "u1", "d1", version=2)),
        lambda: store.delete(coll, scope=VectorScope.of_document("u1", "d1", exclude_version=2)),
        lambda: store.delete(coll, scope=owner("u3"), ids=["d3:1:0", "d2:1:0"]),
        lambda: store.delete(coll, scope=ALL_OWNERS, ids=["d3:1:1", "d2:1:1"]),
        lambda: store.delete(coll, scope=every("d2")),
        lambda: store.upsert(coll, records(unit(rng, 3), "u2", "d4")),
        lambda: store.delete(coll, scope=owner("u3")),  # the owner's whole shard
    ]
    for step in steps:
        await step()
        assert stored_in_union(store, coll) == await stored_in_shards(store, coll, owners)
    assert stored_in_union(store, coll) == ["u1/d1:2:0", "u1/d1:2:1"] + [
        f"u2/d4:1:{n}" for n in range(3)]
    # The union is a copy, never counted as an owner's vectors.
    assert await store.count(coll, scope=ALL_OWNERS) == 5
    assert await store.list_collections() == sorted(set(await store.list_collections()))
    await store.drop_collection(coll)
    assert coll not in await store.list_collections()
    assert union_name(coll) not in {c.name for c in store._get_client().list_collections()}
    # A late search of the dropped collection (another process re-indexed) leaves nothing behind.
    assert await store.build_union(coll) == 0
    assert coll not in await store.list_collections()


async def test_a_missing_union_is_built_in_the_background_from_the_shards(
        store: ChromaVectorStore, coll: str, union_answers: list[bool]) -> None:
    # Vectors written before the union existed (an older version, or `vector_union_index` off).
    rng = np.random.default_rng(33)
    owners = ["p", "q", "r", "s"]
    vecs = {o: unit(rng, 30) for o in owners}
    before = ChromaVectorStore(store._client_factory, document_of=chunk_document, union=False)
    await before.upsert(coll, [r for o, v in vecs.items() for r in records(v, o, f"d{o}")])
    scopes = [owner(o) for o in owners[:3]]
    q = vecs["q"][0].tolist()
    # The first search of many owners finds no union: it searches the shards and starts the build.
    first = await store.nearest_each(coll, q, k=10, scopes=scopes, share=0.75)
    assert union_answers == []
    assert merged(first, 10)[0] == ("dq:1:0", pytest.approx(1.0))
    deadline = time.monotonic() + 60
    while not store._union or store._union.searchable(coll) is None:
        assert time.monotonic() < deadline, "the union was not built within 60 s"
        await asyncio.sleep(0.2)
        store._union.forget(coll)  # look again now, not after RECHECK_AFTER
    assert stored_in_union(store, coll) == await stored_in_shards(store, coll, owners)
    again = await store.nearest_each(coll, q, k=10, scopes=scopes, share=0.75)
    assert union_answers == [True]
    assert same(merged(again, 10), merged(first, 10))


async def test_with_the_union_off_a_write_drops_the_old_copy(
        store: ChromaVectorStore, coll: str) -> None:
    # A copy that stops receiving writes must not be searched again when the union is back on.
    rng = np.random.default_rng(35)
    await store.upsert(coll, records(unit(rng, 3), "a", "d1"))
    await store.build_union(coll)
    # Another process that has only ever searched the union (no shard handles cached).
    reader = ChromaVectorStore(store._client_factory, document_of=chunk_document)
    assert reader._union is not None and reader._union.searchable(coll) is not None
    off = ChromaVectorStore(store._client_factory, document_of=chunk_document, union=False)
    await off.upsert(coll, records(unit(rng, 2), "b", "d2"))
    names = {c.name for c in store._get_client().list_collections()}
    assert union_name(coll) not in names
    await off.delete(coll, scope=owner("b"))  # nothing to drop: no error
    # That process still holds the dropped union as complete: its next search falls back to the
    # shards (and looks again), never fails.
    await off.upsert(coll, records(unit(rng, 2), "c", "d3") + records(unit(rng, 2), "d", "d4"))
    scopes = [owner("a"), owner("c"), owner("d")]
    q = unit(rng, 1)[0].tolist()
    assert await reader.nearest_each(coll, q, k=3, scopes=scopes, share=0.9) == [
        await store.nearest(coll, q, k=3, scope=s) for s in scopes]


async def test_a_build_leaves_the_union_holding_exactly_the_shards(
        store: ChromaVectorStore, coll: str) -> None:
    # A page copied just before a delete reached both (another process), or a write by a process
    # that does not mirror: the build's last step removes what no shard holds and adds the rest.
    rng = np.random.default_rng(36)
    owners = ["a", "b", "c"]
    await store.upsert(coll, [r for o in owners for r in records(unit(rng, 4), o, f"d{o}")])
    await store.build_union(coll)
    union = store._get_client().get_collection(union_name(coll), embedding_function=None)
    union.upsert(ids=["a/ghost:1:0"], embeddings=unit(rng, 1), metadatas=[
        {"owner_id": "a", "document_id": "ghost", "version": 1}])
    union.delete(ids=["b/db:1:2"])
    union.modify(metadata={"citewise_collection": coll, union_module.STATE: union_module.BUILDING,
                           union_module.SINCE: time.time()})
    await store.build_union(coll)
    assert stored_in_union(store, coll) == await stored_in_shards(store, coll, owners)


async def test_writes_never_put_the_build_off(store: ChromaVectorStore, coll: str) -> None:
    # Each write looks the union up (missing); the next search of many owners still starts the
    # build at once, however recent the writes (a busy installation writes all the time).
    rng = np.random.default_rng(37)
    await store.upsert(coll, [r for o in ("a", "b", "c") for r in records(unit(rng, 3), o, f"d{o}")])
    await store.nearest_each(coll, unit(rng, 1)[0].tolist(), k=3, share=1.0,
                             scopes=[owner("a"), owner("b"), owner("c")])
    deadline = time.monotonic() + 30
    while union_name(coll) not in {c.name for c in store._get_client().list_collections()}:
        assert time.monotonic() < deadline, "no build started"
        await asyncio.sleep(0.1)


async def test_a_stalled_build_is_taken_over(store: ChromaVectorStore, coll: str) -> None:
    # A process died while building: the union stays "building"; after STALE_AFTER the next
    # process that looks builds it again.
    rng = np.random.default_rng(34)
    await store.upsert(coll, records(unit(rng, 6), "a", "d1") + records(unit(rng, 6), "b", "d2"))
    client = store._get_client()
    client.create_collection(union_name(coll), embedding_function=None,
                             configuration={"hnsw": {"space": "cosine"}}, metadata={
        "citewise_collection": coll, union_module.STATE: union_module.BUILDING,
        union_module.SINCE: time.time() - union_module.STALE_AFTER - 1})
    assert store._union is not None
    assert store._union.searchable(coll) is None  # not complete: shards, and a build starts
    deadline = time.monotonic() + 60
    while store._union.searchable(coll) is None:
        assert time.monotonic() < deadline, "the stalled build was not taken over within 60 s"
        await asyncio.sleep(0.2)
        store._union.forget(coll)
    assert stored_in_union(store, coll) == await stored_in_shards(store, coll, ["a", "b"])


def test_owner_ids_with_a_slash_are_refused() -> None:
    with pytest.raises(ValueError):
        union_module.check_owner("a/b")
    assert union_module.split_union_id("u-1/d:1:0") == ("u-1", "d:1:0")
