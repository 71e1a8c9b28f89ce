"""The retrieval canary: a unique string in one user's document never reaches another user, through
search, chat (answers, sources, citations, stored messages) or any document listing — on SQLite and
PostgreSQL (the `client` fixture runs against both), through the real pipeline and index."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from httpx import AsyncClient

from tests.api.helpers import parse_sse, upload_bytes, wait_done
from tests.conftest import register

CANARY = "ZEBRAQUILL-7731"
# Queries aimed at the canary's document from every side: its words, the canary, its file name.
QUERIES = ["secret launch code", CANARY, "ZEBRAQUILL", "zebra quill", "garden plan tomatoes basil",
           "What is the launch code?", "squash", "Bob", "code", "plan", "zebra-striped squash",
           "bob-secret.md", "launch codes"]


async def _ask(client: AsyncClient, conv: str, content: str, **extra: Any) -> str:
    """The whole answer as the client saw it: SSE events (sources, tokens, citations)."""
    r = await client.post(f"/api/v1/conversations/{conv}/messages", json={"content": content, **extra},
                          headers={"Accept": "text/event-stream"})
    assert r.status_code == 200, r.text
    return str(parse_sse(r.text))


async def test_canary_never_crosses_users(client: AsyncClient,
                                          anon_client_factory: Callable[[], AsyncClient]) -> None:
    await register(client, "alice@example.com")
    a_doc = await upload_bytes(client, "alice.md",
                               b"# Garden plan\n\nAlice grows tomatoes, basil and zebra-striped squash.\n")
    await wait_done(client, a_doc["documents"][0]["id"])
    async with anon_client_factory() as bob:
        await register(bob, "bob@example.com")
        b_doc = await upload_bytes(bob, "bob-secret.md", (
            f"# Launch codes\n\nThe secret launch code is {CANARY}. Zebra quill squash tomatoes "
            "garden basil plan secret code.\n").encode())
        b_id = b_doc["documents"][0]["id"]
        assert (await wait_done(bob, b_id))["status"] == "ready"
        hits = (await bob.post("/api/v1/search", json={"query": "secret launch code"})).json()
        assert any(CANARY in h["text"] for h in hits["results"])  # the canary really is indexed

        def clean(blob: str) -> bool:
            return CANARY not in blob and b_id not in blob and "bob-secret" not in blob

        r = await client.post("/api/v1/conversations", json={})
        assert r.status_code == 201
        conv = r.json()["id"]
        for q in QUERIES:
            r = await client.post("/api/v1/search", json={"query": q, "k": 50})
            assert r.status_code == 200 and clean(r.text), q
            assert clean(await _ask(client, conv, q)), q
            # The same question answered as JSON (the non-streaming path).
            r = await client.post(f"/api/v1/conversations/{conv}/messages", json={"content": q},
                                  headers={"Accept": "application/json"})
            assert r.status_code == 200 and clean(r.text), q
        # Everything stored for Alice: the answers and their citations (her own questions name
        # the canary, of course).
        messages = (await client.get(f"/api/v1/conversations/{conv}")).json()["messages"]
        answers = [m for m in messages if m["role"] != "user"]
        assert len(answers) == 2 * len(QUERIES)
        assert all(clean(json.dumps(m)) for m in answers)
        assert clean((await client.get("/api/v1/conversations")).text)

        # Document listings, whatever the filter.
        for params in [{}, {"q": "bob"}, {"q": "secret"}, {"status": "ready"},
                       {"mime_type": "text/markdown"}, {"sort": "filename", "page_size": 200}]:
            r = await client.get("/api/v1/documents", params=params)
            assert r.status_code == 200 and clean(r.text), params
        a_id = a_doc["documents"][0]["id"]
        assert clean((await client.get(f"/api/v1/documents/{a_id}/chunks")).text)
        for path in [f"/api/v1/documents/{b_id}", f"/api/v1/documents/{b_id}/chunks",
                     f"/api/v1/documents/{b_id}/file"]:
            r = await client.get(path)
            assert r.status_code == 404 and clean(r.text), path

        # Naming Bob's document as the scope is a 404, for search and chat alike.
        r = await client.post("/api/v1/search", json={"query": "code", "document_ids": [b_id]})
        assert r.status_code == 404 and clean(r.text.replace(b_id, ""))
        r = await client.post(f"/api/v1/conversations/{conv}/messages",
                              json={"content": "code", "document_ids": [b_id]})
        assert r.status_code == 404
        # ...and Bob cannot read Alice's conversation.
        assert (await bob.get(f"/api/v1/conversations/{conv}")).status_code == 404
        assert (await bob.get("/api/v1/conversations")).json()["items"] == []
