from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.admin.reindex import Reindexer
from app.providers.vectorstore.chroma_store import ChromaVectorStore
from tests.admin.conftest import add_document, container
from tests.admin.test_reindex import HASH_SETTINGS, HashEmbedder, factory_with, make_reindexer


@pytest.fixture
async def index(api_app: Any, tmp_path: Path) -> AsyncIterator[Reindexer]:
    """The app's index and re-indexer swapped for ones on a private Chroma with the hashing model."""
    original = container(api_app)
    manager = make_reindexer(original.sessions, original.runtime,
                             ChromaVectorStore.embedded(tmp_path / "chroma"),
                             factory=factory_with(HashEmbedder()), ttl=0.2)
    api_app.state.container = dataclasses.replace(original, index=manager.state, reindex=manager)
    try:
        yield manager
    finally:
        await manager.wait()
        await manager.aclose()
        await manager.state.aclose()
        api_app.state.container = original


async def test_embedding_change_starts_reindex_and_post_rebuilds(
    admin: AsyncClient, signed_in: Any, api_app: Any, index: Reindexer
) -> None:
    _, bob = await signed_in("bob@example.com")
    await add_document(api_app, bob["id"], chunks=["alpha beta", "gamma delta", "epsilon"])
    pinned = (await index.state.ensure_state())["active"]["collection"]
    assert pinned == "chunks__minilm-l6-v2-int8__384"

    r = await admin.put("/api/v1/admin/settings", json=HASH_SETTINGS)
    assert r.status_code == 200, r.text
    assert r.json()["reindex"]["status"] == "running"
    assert r.json()["reindex"]["collection"] == "chunks__hash-64__64"
    assert (await index.wait()).status == "idle"  # type: ignore[union-attr]
    body = (await admin.get("/api/v1/admin/settings")).json()
    assert body["reindex"] == {"status": "idle", "progress": 100,
                               "collection": "chunks__hash-64__64", "error": None}
    assert (await index.state.active()).collection == "chunks__hash-64__64"

    # An explicit rebuild of the same model builds beside the live collection.
    r = await admin.post("/api/v1/admin/reindex")
    assert r.status_code == 202
    assert r.json()["status"] == "running"
    assert r.json()["collection"].startswith("chunks__hash-64__64__r")
    assert (await index.wait()).status == "idle"  # type: ignore[union-attr]
    assert (await index.state.active()).collection == r.json()["collection"]
    events = {e["event"] for e in (await admin.get("/api/v1/admin/audit")).json()["items"]}
    assert {"settings.updated", "index.reindex_started"} <= events


async def test_unreachable_new_embedder_reports_failure_and_keeps_index(
    admin: AsyncClient, index: Reindexer
) -> None:
    from tests.admin.conftest import free_port

    pinned = (await index.state.ensure_state())["active"]["collection"]
    r = await admin.put("/api/v1/admin/settings", json={"embedding": {
        "provider": "openai", "model": "nomic-embed-text",
        "base_url": f"http://127.0.0.1:{free_port()}/v1"}})
    assert r.status_code == 200, r.text
    reindex = r.json()["reindex"]
    assert reindex["status"] == "failed" and "unreachable" in reindex["error"]
    assert (await index.state.active()).collection == pinned
