"""One contract suite for every VectorStore: embedded Chroma and a real Chroma server process.
Calls select vectors with typed scopes (`VectorScope`, `AllOwners`), never a backend filter."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.documents.vectors import chunk_document
from app.providers.vectorstore import (
    ALL_OWNERS,
    AllOwners,
    VectorRecord,
    VectorScope,
    VectorStore,
    VectorStoreError,
    chroma_store,
    collection_name,
)
from app.providers.vectorstore.chroma_store import ChromaVectorStore, shard_name
from tests.providers.conftest import chroma_server, free_port

DIM = 16


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VectorStore:
    if request.param == "embedded":
        return ChromaVectorStore.embedded(tmp_path / "chroma")
    return ChromaVectorStore.http(request.getfixturevalue("chroma_server_url"))


@pytest.fixture
def coll() -> str:
    # Unique per test: the server is shared by the whole session.
    return f"test-{uuid.uuid4().hex[:12]}"


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def records(
    vectors: np.ndarray, owner: str, doc: str, prefix: str | None = None, version: int = 1
) -> list[VectorRecord]:
    prefix = prefix or f"{doc}:{version}"
    return [
        VectorRecord(
            id=f"{prefix}:{n}", embedding=v.tolist(), owner_id=owner, document_id=doc,
            version=version, metadata={"page": n, "ok": True, "w": 0.5},
        )
        for n, v in enumerate(vectors)
    ]


def owner(owner_id: str, *docs: str) -> VectorScope:
    return VectorScope(owner_id=owner_id, document_ids=frozenset(docs) if docs else None)


def every(*docs: str) -> AllOwners:
    return AllOwners(document_ids=frozenset(docs) if docs else None)


async def test_upsert_is_idempotent(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(1)
    recs = records(unit(rng, 10), "u1", "d1")
    await store.upsert(coll, recs)
    await store.upsert(coll, recs)
    assert await store.count(coll, scope=ALL_OWNERS) == 10
    got = await store.ids(coll, scope=owner("u1"))
    assert sorted(got) == sorted(r.id for r in recs)
    # Upserting the same id again replaces its metadata rather than adding a row.
    changed = VectorRecord(id=recs[0].id, embedding=recs[0].embedding, owner_id="u1",
                           document_id="d9", version=1)
    await store.upsert(coll, [changed])
    assert await store.count(coll, scope=ALL_OWNERS) == 10
    assert await store.ids(coll, scope=every("d9")) == [recs[0].id]
    assert await store.ids(coll, scope=owner("u1", "d9")) == [recs[0].id]


async def test_metadata_round_trips_with_types(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(2)
    vecs = unit(rng, 3)
    await store.upsert(coll, records(vecs, "u1", "d1"))
    hits = await store.query(coll, vecs[1].tolist(), k=1, scope=owner("u1"))
    assert hits[0].id == "d1:1:1"
    assert (hits[0].owner_id, hits[0].document_id, hits[0].version) == ("u1", "d1", 1)
    assert dict(hits[0].metadata) == {"page": 1, "ok": True, "w": 0.5}


async def test_owner_filter_never_leaks(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(3)
    a, b = unit(rng, 60), unit(rng, 60)
    await store.upsert(coll, records(a, "alice", "da") + records(b, "bob", "db"))
    a_ids = {f"da:1:{n}" for n in range(60)}
    b_ids = {f"db:1:{n}" for n in range(60)}
    # Queries aimed straight at bob's vectors, in alice's scope, must still only see alice's.
    for n in range(40):
        hits = await store.query(coll, b[n].tolist(), k=15, scope=owner("alice"))
        assert len(hits) == 15
        assert {h.id for h in hits} <= a_ids
        assert all(h.owner_id == "alice" for h in hits)
        hits = await store.query(coll, a[n].tolist(), k=15, scope=owner("bob"))
        assert {h.id for h in hits} <= b_ids
    assert await store.query(coll, a[0].tolist(), k=5, scope=owner("mallory")) == []
    # Naming bob's document in alice's scope does not reach bob's vectors either.
    assert await store.query(coll, b[0].tolist(), k=5, scope=owner("alice", "db")) == []
    assert await store.ids(coll, scope=owner("alice", "db")) == []
    assert await store.count(coll, scope=owner("alice", "db")) == 0


async def test_nearest_is_query_without_metadata(store: VectorStore, coll: str) -> None:
    # What retrieval uses: the same ids and scores as `query`, scoped the same way (filters too),
    # and never another owner's vectors.
    rng = np.random.default_rng(5)
    a, b = unit(rng, 30), unit(rng, 30)
    await store.upsert(coll, records(a, "alice", "da") + records(b, "bob", "db")
                       + records(unit(rng, 5), "alice", "dz", prefix="z"))
    for scope in (owner("alice"), owner("alice", "dz"),
                  VectorScope(owner_id="alice", exclude_document_ids=frozenset({"dz"}))):
        for n in range(10):
            hits = await store.query(coll, b[n].tolist(), k=12, scope=scope)
            near = await store.nearest(coll, b[n].tolist(), k=12, scope=scope)
            assert [i for i, _ in near] == [h.id for h in hits]
            assert [s for _, s in near] == pytest.approx([h.score for h in hits])
            assert all(i.startswith(("da:", "z")) for i, _ in near)
    assert await store.nearest(coll, a[0].tolist(), k=5, scope=owner("mallory")) == []
    assert await store.nearest(coll, b[0].tolist(), k=5, scope=owner("alice", "db")) == []
    for not_a_scope in (ALL_OWNERS, every("da"), None):
        with pytest.raises(TypeError):
            await store.nearest(coll, [1.0] * DIM, k=3, scope=not_a_scope)  # type: ignore[arg-type]


async def test_nearest_each_is_nearest_per_scope(store: VectorStore, coll: str) -> None:
    # A reader of several partitions (retrieval): one list per scope, in order, each exactly what
    # `nearest` gives for that scope alone, whether the store runs them in turn or side by side.
    rng = np.random.default_rng(6)
    vecs = {o: unit(rng, 20) for o in ("alice", "bob", "carol")}
    await store.upsert(coll, [r for o, v in vecs.items() for r in records(v, o, f"d{o}")])
    scopes = [owner("carol"), owner("mallory"), owner("alice", "dalice"), owner("bob", "dalice"),
              VectorScope(owner_id="bob", exclude_document_ids=frozenset({"dbob"})), owner("bob")]
    for n in range(5):
        q = vecs["bob"][n].tolist()
        each = await store.nearest_each(coll, q, k=7, scopes=scopes)
        assert each == [await store.nearest(coll, q, k=7, scope=s) for s in scopes]
        assert [len(hits) for hits in each] == [7, 0, 7, 0, 0, 7]
        assert each[-1][0] == (f"dbob:1:{n}", pytest.approx(1.0))
    assert await store.nearest_each(coll, vecs["bob"][0].tolist(), k=5, scopes=[]) == []
    assert await store.nearest_each(coll, vecs["bob"][0].tolist(), k=0,
                                    scopes=[owner("bob")]) == [[]]
    with pytest.raises(TypeError):
        await store.nearest_each(coll, [1.0] * DIM, k=3,
                                 scopes=[owner("bob"), ALL_OWNERS])  # type: ignore[list-item]


@pytest.mark.parametrize("ids_name_documents", [False, True])
async def test_a_scope_keeping_most_documents_finds_what_the_filtered_search_finds(
        store: VectorStore, coll: str, monkeypatch: pytest.MonkeyPatch,
        ids_name_documents: bool) -> None:
    # A scope that says it keeps most of its owner's documents is searched without Chroma's
    # metadata filter, its documents' hits kept: the same hits as the filtered search, never a
    # vector outside the scope, and the filtered search after all when the depth held too few.
    # Each hit's document comes from its metadata, or off its id when the store is told how
    # (the app's vector ids are its chunk ids).
    read_off: list[str] = []
    if ids_name_documents:
        assert isinstance(store, ChromaVectorStore)
        monkeypatch.setattr(store, "_document_of",
                            lambda i: read_off.append(i) or chunk_document(i))
    taken: list[bool] = []
    post_filtered = chroma_store._post_filtered

    def spy(*args: Any) -> list[tuple[str, float]] | None:
        found = post_filtered(*args)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(chroma_store, "_post_filtered", spy)
    rng = np.random.default_rng(15)
    docs = {"da": unit(rng, 30), "dy": unit(rng, 25), "dz": unit(rng, 5)}
    await store.upsert(coll, [r for d, v in docs.items() for r in records(v, "alice", d)]
                       + records(unit(rng, 30), "bob", "da", prefix="bob"))
    plain = VectorScope(owner_id="alice", document_ids=frozenset({"da", "dy"}))
    unread = VectorScope(owner_id="alice", exclude_document_ids=frozenset({"dz"}))
    for scope, share, k, post in ((plain, 0.9, 12, True), (unread, 0.9, 12, True),
                                  (plain, 0.9, 80, True),  # deeper than the owner: all seen
                                  # a wrong hint: 27 nearest hold at most 5 of dz's
                                  (owner("alice", "dz"), 0.9, 12, False)):
        hinted = VectorScope(owner_id="alice", document_ids=scope.document_ids,
                             exclude_document_ids=scope.exclude_document_ids, share=share)
        for n in range(8):
            q = docs["dy"][n].tolist()
            taken.clear()
            near = await store.nearest(coll, q, k=k, scope=hinted)
            assert taken == [post]
            assert near == await store.nearest(coll, q, k=k, scope=scope)  # filtered
            assert near and all(i.split(":")[0] in (scope.document_ids or {"da", "dy"})
                                for i, _ in near)
    assert await store.nearest(coll, docs["da"][0].tolist(), k=5, scope=VectorScope(
        owner_id="alice", document_ids=frozenset({"nope"}), share=0.5)) == []
    assert bool(read_off) == ids_name_documents
    with pytest.raises(ValueError):
        VectorScope(owner_id="alice", document_ids=frozenset({"da"}), share=1.5)


async def test_document_in_filter(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(4)
    recs = []
    for doc in ("d1", "d2", "d3"):
        recs += records(unit(rng, 5), "u1", doc)
    recs += records(unit(rng, 5), "u2", "d2", prefix="other")  # same document id, other owner
    await store.upsert(coll, recs)
    hits = await store.query(coll, unit(rng, 1)[0].tolist(), k=100, scope=owner("u1", "d1", "d3"))
    assert len(hits) == 10
    assert {h.document_id for h in hits} == {"d1", "d3"}
    assert {h.owner_id for h in hits} == {"u1"}
    # A one-document scope; the other owner's vectors of the same document id stay out.
    assert sorted(await store.ids(coll, scope=owner("u1", "d2"))) == [f"d2:1:{n}" for n in range(5)]
    assert await store.count(coll, scope=owner("u1", "d2")) == 5
    hits = await store.query(coll, unit(rng, 1)[0].tolist(), k=100, scope=owner("u1", "d2"))
    assert sorted(h.id for h in hits) == [f"d2:1:{n}" for n in range(5)]
    assert await store.count(coll, scope=every("d2")) == 10
    assert await store.query(coll, unit(rng, 1)[0].tolist(), k=5, scope=owner("u1", "nope")) == []


async def test_document_exclusion_filter(store: VectorStore, coll: str) -> None:
    """`exclude_document_ids`: all of an owner's vectors but those documents' (a reader's scope
    over an owner whose other documents they may not read)."""
    rng = np.random.default_rng(14)
    recs = []
    for doc in ("d1", "d2", "d3"):
        recs += records(unit(rng, 4), "u1", doc)
    recs += records(unit(rng, 4), "u2", "d4")
    await store.upsert(coll, recs)
    scope = VectorScope(owner_id="u1", exclude_document_ids=frozenset({"d2"}))
    hits = await store.query(coll, unit(rng, 1)[0].tolist(), k=100, scope=scope)
    assert {h.document_id for h in hits} == {"d1", "d3"} and len(hits) == 8
    assert await store.count(coll, scope=scope) == 8
    with pytest.raises(ValueError):
        VectorScope(owner_id="u1", document_ids=frozenset({"d1"}),
                    exclude_document_ids=frozenset({"d2"}))


async def test_delete_by_scope_and_by_ids(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(5)
    await store.upsert(coll, records(unit(rng, 6), "u1", "d1") + records(unit(rng, 4), "u1", "d2")
                       + records(unit(rng, 2), "u2", "d3"))
    await store.delete(coll, scope=owner("u1", "d1"))
    assert await store.count(coll, scope=ALL_OWNERS) == 6
    assert await store.count(coll, scope=every("d1")) == 0
    await store.delete(coll, scope=ALL_OWNERS, ids=["d2:1:0", "d2:1:1", "not-there"])
    assert sorted(await store.ids(coll, scope=owner("u1"))) == ["d2:1:2", "d2:1:3"]
    await store.delete(coll, scope=ALL_OWNERS, ids=[])  # nothing to do
    assert await store.count(coll, scope=ALL_OWNERS) == 4
    with pytest.raises(ValueError):  # every owner's vectors: that is drop_collection
        await store.delete(coll, scope=ALL_OWNERS)
    await store.delete(coll, scope=every("d3"))
    assert await store.count(coll, scope=owner("u2")) == 0
    assert await store.count(coll, scope=owner("u1")) == 2
    await store.delete(f"missing-{coll}", scope=owner("u1", "d1"))  # no collection: no-op
    await store.delete(f"missing-{coll}", scope=every("d1"))


async def test_delete_ids_within_a_scope(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(6)
    await store.upsert(coll, records(unit(rng, 3), "u1", "d1") + records(unit(rng, 2), "u1", "d2"))
    # An id that belongs to another owner is not deleted under that owner's scope...
    await store.delete(coll, scope=owner("u2"), ids=["d1:1:0"])
    # ...nor an id of another document under a document scope.
    await store.delete(coll, scope=owner("u1", "d2"), ids=["d1:1:1", "d2:1:0"])
    assert sorted(await store.ids(coll, scope=owner("u1"))) == ["d1:1:0", "d1:1:1", "d1:1:2", "d2:1:1"]


async def test_delete_all_versions_but_one(store: VectorStore, coll: str) -> None:
    # The clean-up after a document's version 3 is indexed: versions 1 and 2 go, 3 and the
    # owner's other documents (and other owners) stay.
    rng = np.random.default_rng(13)
    await store.upsert(coll, records(unit(rng, 3), "u1", "d1", version=1)
                       + records(unit(rng, 2), "u1", "d1", version=2)
                       + records(unit(rng, 4), "u1", "d1", version=3)
                       + records(unit(rng, 2), "u1", "d2", version=1)
                       + records(unit(rng, 2), "u2", "d1", version=1))
    await store.delete(coll, scope=VectorScope.of_document("u1", "d1", exclude_version=3))
    assert sorted(await store.ids(coll, scope=owner("u1"))) == (
        [f"d1:3:{n}" for n in range(4)] + ["d2:1:0", "d2:1:1"])
    assert await store.count(coll, scope=owner("u2")) == 2
    hits = await store.query(coll, unit(rng, 1)[0].tolist(), k=20, scope=owner("u1", "d1"))
    assert {h.version for h in hits} == {3}


async def test_count_and_missing_collection(store: VectorStore, coll: str) -> None:
    assert await store.count(coll, scope=ALL_OWNERS) == 0
    assert await store.ids(coll, scope=owner("u1")) == []
    assert await store.ids(coll, scope=ALL_OWNERS) == []
    assert await store.query(coll, [1.0] * DIM, k=3, scope=owner("u1")) == []
    rng = np.random.default_rng(7)
    await store.upsert(coll, records(unit(rng, 7), "u1", "d1") + records(unit(rng, 2), "u2", "d2"))
    assert await store.count(coll, scope=ALL_OWNERS) == 9
    assert await store.count(coll, scope=owner("u2")) == 2
    assert len(await store.ids(coll, scope=ALL_OWNERS)) == 9


async def test_k_larger_than_collection(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(8)
    await store.upsert(coll, records(unit(rng, 3), "u1", "d1"))
    hits = await store.query(coll, unit(rng, 1)[0].tolist(), k=1000, scope=owner("u1"))
    assert len(hits) == 3
    assert await store.query(coll, [1.0] * DIM, k=0, scope=owner("u1")) == []


async def test_scores_are_cosine_similarity_best_first(store: VectorStore, coll: str) -> None:
    rng = np.random.default_rng(9)
    vecs = unit(rng, 30) * rng.uniform(0.5, 3.0, size=(30, 1))  # unnormalised: cosine ignores length
    await store.upsert(coll, records(vecs.astype(np.float32), "u1", "d1"))
    q = rng.normal(size=DIM)
    hits = await store.query(coll, q.tolist(), k=30, scope=owner("u1"))
    expected = (vecs @ q) / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(q))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert [h.id for h in hits][:5] == [f"d1:1:{n}" for n in np.argsort(-expected)[:5]]
    for h in hits:
        assert h.score == pytest.approx(expected[int(h.id.rsplit(":", 1)[1])], abs=1e-4)


async def test_query_refuses_anything_but_an_owner_scope(store: VectorStore, coll: str) -> None:
    await store.upsert(coll, records(unit(np.random.default_rng(14), 2), "u1", "d1"))
    for not_a_scope in (ALL_OWNERS, every("d1"), None, {"owner_id": "u1"}):
        with pytest.raises(TypeError):
            await store.query(coll, [1.0] * DIM, k=3, scope=not_a_scope)  # type: ignore[arg-type]


@pytest.mark.parametrize("build", [
    lambda: VectorScope(owner_id=""),
    lambda: VectorScope(owner_id=None),
    lambda: VectorScope(owner_id="u1", document_ids=frozenset()),  # "no documents" is not "all"
    lambda: VectorScope(owner_id="u1", document_ids=frozenset({""})),
    lambda: VectorScope(owner_id="u1", exclude_version=2),  # versions are per document
    lambda: VectorScope(owner_id="u1", document_ids=frozenset({"d1", "d2"}), exclude_version=2),
    lambda: AllOwners(document_ids=frozenset()),
    lambda: VectorRecord(id="x", embedding=[1.0], owner_id="", document_id="d1", version=1),
    lambda: VectorRecord(id="x", embedding=[1.0], owner_id="u1", document_id="", version=1),
    lambda: VectorRecord(id="x", embedding=[1.0], owner_id="u1", document_id="d1", version=True),
    # The typed fields cannot be overridden (or spoofed) through the free-form metadata.
    lambda: VectorRecord(id="x", embedding=[1.0], owner_id="u1", document_id="d1", version=1,
                         metadata={"owner_id": "u2"}),
])
def test_scopes_and_records_cannot_be_built_empty(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_document_ids_must_be_a_frozenset() -> None:
    # frozenset("doc-1") would be five one-letter ids; a list would make the scope unhashable.
    for bad in ("doc-1", ["doc-1"], {"doc-1"}):
        with pytest.raises(TypeError):
            VectorScope(owner_id="u1", document_ids=bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            AllOwners(document_ids=bad)  # type: ignore[arg-type]
    assert VectorScope.of_document("u1", "d1", exclude_version=2) == VectorScope(
        owner_id="u1", document_ids=frozenset({"d1"}), exclude_version=2)


async def test_upsert_beyond_client_batch_limit(store: VectorStore, coll: str) -> None:
    assert isinstance(store, ChromaVectorStore)
    await store.ping()
    n = store.max_batch_size + 17
    rng = np.random.default_rng(10)
    await store.upsert(coll, records(unit(rng, n, dim=4), "u1", "d1"))
    assert await store.count(coll, scope=ALL_OWNERS) == n
    assert len(await store.ids(coll, scope=owner("u1"))) == n


async def test_drop_and_list_collections(store: VectorStore, coll: str) -> None:
    other = f"{coll}-b"
    rng = np.random.default_rng(11)
    await store.upsert(coll, records(unit(rng, 2), "u1", "d1"))
    await store.upsert(other, records(unit(rng, 2), "u1", "d1"))
    names = await store.list_collections()
    assert {coll, other} <= set(names)
    await store.drop_collection(coll)
    names = await store.list_collections()
    assert coll not in names and other in names
    assert await store.count(coll, scope=ALL_OWNERS) == 0
    await store.drop_collection(coll)  # dropping twice is fine
    await store.upsert(coll, records(unit(rng, 1), "u1", "d1"))  # re-created on demand
    assert await store.count(coll, scope=ALL_OWNERS) == 1


async def test_collection_dropped_by_another_client(
    store: VectorStore, coll: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # A second process (here: a second client) drops and re-creates the collection; this store's
    # cached handle is stale and must be refreshed instead of failing.
    if request.node.callspec.params["store"] == "embedded":
        other = ChromaVectorStore.embedded(tmp_path / "chroma")
    else:
        other = ChromaVectorStore.http(request.getfixturevalue("chroma_server_url"))
    rng = np.random.default_rng(12)
    await store.upsert(coll, records(unit(rng, 3), "u1", "d1"))
    assert await store.count(coll, scope=ALL_OWNERS) == 3
    await other.drop_collection(coll)
    assert await store.query(coll, [1.0] * DIM, k=3, scope=owner("u1")) == []
    await other.upsert(coll, records(unit(rng, 2), "u1", "d2"))
    assert await store.count(coll, scope=ALL_OWNERS) == 2
    await store.upsert(coll, records(unit(rng, 1), "u1", "d3"))
    assert await other.count(coll, scope=owner("u1")) == 3


async def test_ping(store: VectorStore) -> None:
    await store.ping()
    assert await store.list_collections() is not None


async def test_unreachable_server_is_transient() -> None:
    dead = ChromaVectorStore.http(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(VectorStoreError) as info:
        await dead.ping()
    assert info.value.transient
    with pytest.raises(VectorStoreError) as info:
        await dead.query("whatever", [1.0] * DIM, k=1, scope=owner("u1"))
    assert info.value.transient


async def test_server_going_away_is_transient(tmp_path: Path) -> None:
    with chroma_server(tmp_path) as url:
        store = ChromaVectorStore.http(url)
        await store.upsert("gone-soon", records(unit(np.random.default_rng(0), 2), "u", "d"))
        assert await store.count("gone-soon", scope=ALL_OWNERS) == 2
    with pytest.raises(VectorStoreError) as info:
        await store.count("gone-soon", scope=ALL_OWNERS)
    assert info.value.transient


def test_http_url_parsing() -> None:
    with pytest.raises(ValueError):
        ChromaVectorStore.http("localhost:8000")


@pytest.mark.parametrize(
    ("model_id", "dim", "expected"),
    [
        ("minilm-l6-v2-int8", 384, "chunks__minilm-l6-v2-int8__384"),
        ("nomic-embed-text:latest", 768, "chunks__nomic-embed-text-latest__768"),
        ("org/Model.v1.5", 1024, "chunks__org-Model-v1-5__1024"),
    ],
)
def test_collection_name(model_id: str, dim: int, expected: str) -> None:
    assert collection_name(model_id, dim) == expected


def test_collection_name_long_ids_stay_valid_and_distinct() -> None:
    a = collection_name("x" * 100 + "a", 384)
    b = collection_name("x" * 100 + "b", 384)
    assert a != b
    for name in (a, b):
        assert 3 <= len(name) <= 63
        assert name[0].isalnum() and name[-1].isalnum()
    with pytest.raises(ValueError):
        collection_name("::", 384)
    with pytest.raises(ValueError):
        collection_name("m", 0)


async def test_each_owner_has_its_own_chroma_collection(store: ChromaVectorStore, coll: str) -> None:
    # Isolation by construction: a query searches only the index of the owner it names.
    rng = np.random.default_rng(21)
    await store.upsert(coll, records(unit(rng, 3), "alice", "d1") + records(unit(rng, 2), "bob", "d2"))
    client = store._get_client()
    physical = {c.name: dict(c.metadata or {}) for c in client.list_collections()
                if (c.metadata or {}).get("citewise_collection") == coll}
    assert physical == {
        shard_name(coll, "alice"): {"citewise_collection": coll, "citewise_owner": "alice"},
        shard_name(coll, "bob"): {"citewise_collection": coll, "citewise_owner": "bob"},
    }
    alice = client.get_collection(shard_name(coll, "alice"), embedding_function=None)
    assert sorted(alice.get(include=[])["ids"]) == [f"d1:1:{n}" for n in range(3)]
    # The typed fields are stored under the metadata keys vectors have always had, so collections
    # written before the typed scopes keep working.
    stored = alice.get(ids=["d1:1:0"], include=["metadatas"])["metadatas"]
    assert stored is not None and dict(stored[0]) == {
        "owner_id": "alice", "document_id": "d1", "version": 1, "page": 0, "ok": True, "w": 0.5}
    assert await store.list_collections() == sorted(set(await store.list_collections()))
    assert coll in await store.list_collections()
    assert shard_name(coll, "alice") not in await store.list_collections()
    # AllOwners calls see every owner's collection.
    assert await store.count(coll, scope=ALL_OWNERS) == 5
    assert await store.count(coll, scope=every("d2")) == 2
    # An owner's whole scope is their collection: deleting it drops that collection.
    await store.delete(coll, scope=owner("bob"))
    assert shard_name(coll, "bob") not in {c.name for c in client.list_collections()}
    assert await store.count(coll, scope=ALL_OWNERS) == 3
    assert await store.query(coll, unit(rng, 1)[0].tolist(), k=5, scope=owner("bob")) == []


def test_shard_names_are_valid_and_distinct() -> None:
    names = {shard_name(c, o) for c in ("chunks__a__384", "chunks__b__384") for o in ("u1", "u2")}
    assert len(names) == 4
    assert all(3 <= len(n) <= 63 and n.replace("-", "").isalnum() for n in names)
