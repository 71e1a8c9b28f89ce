from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.admin.reindex import IndexManager
from app.providers.vectorstore.chroma_store import ChromaVectorStore
from tests.admin.conftest import add_document, container
from tests.admin.test_reindex import HASH_SETTINGS, HashEmbedder, factory_with


@pytest.fixture
async def index(api_app: Any, tmp_path: Path) -> AsyncIterator[IndexManager]:
    """The app's IndexManager swapped for one on a private Chroma with the hashing test model."""
    services = container(api_app).services
    manager = IndexManager(container(api_app).settings, container(api_app).sessions,
                           services.runtime, ChromaVectorStore.embedded(tmp_path / "chroma"),
                           embedder_factory=factory_with(HashEmbedder()), ttl=0.2)
    original, services.index = services.index, manager
    try:
        yield manager
    finally:
        await manager.wait()
        await manager.aclose()
        services.index = original


async def test_embedding_change_starts_reindex_and_post_rebuilds(
    admin: AsyncClient, signed_in: Any, api_app: Any, index: IndexManager
) -> None:
    _, bob = await signed_in("bob@example.com")
    await add_document(api_app, bob["id"], chunks=["alpha beta", "gamma delta", "epsilon"])
    pinned = (await index.ensure_state())["active"]["collection"]
    assert pinned == "chunks__minilm-l6-v2-int8__384"

    r = await admin.put("/api/v1/admin/settings", json=HASH_SETTINGS)
    assert r.status_code == 200, r.text
    assert r.json()["reindex"]["status"] == "running"
    assert r.json()["reindex"]["collection"] == "chunks__hash-64__64"
    assert (await index.wait()).status == "idle"  # type: ignore[union-attr]
    body = (await admin.get("/api/v1/admin/settings")).json()
    assert body["reindex"] == {"status": "idle", "progress": 100,
                               "collection": "chunks__hash-64__64", "error": None}
    assert (await index.active()).collection == "chunks__hash-64__64"

    # An explicit rebuild of the same model builds beside the live collection.
    r = await admin.post("/api/v1/admin/reindex")
    assert r.status_code == 202
    assert r.json()["status"] == "running"
    assert r.json()["collection"].startswith("chunks__hash-64__64__r")
    assert (await index.wait()).status == "idle"  # type: ignore[union-attr]
    assert (await index.active()).collection == r.json()["collection"]
    events = {e["event"] for e in (await admin.get("/api/v1/admin/audit")).json()["items"]}
    assert {"settings.updated", "index.reindex_started"} <= events


async def test_unreachable_new_embedder_reports_failure_and_keeps_index(
    admin: AsyncClient, index: IndexManager
) -> None:
    from tests.admin.conftest import free_port

    pinned = (await index.ensure_state())["active"]["collection"]
    r = await admin.put("/api/v1/admin/settings", json={"embedding": {
        "provider": "openai", "model": "nomic-embed-text",
        "base_url": f"http://127.0.0.1:{free_port()}/v1"}})
    assert r.status_code == 200, r.text
    reindex = r.json()["reindex"]
    assert reindex["status"] == "failed" and "unreachable" in reindex["error"]
    assert (await index.active()).collection == pinned
