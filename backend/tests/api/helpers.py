from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from httpx import AsyncClient


async def upload(client: AsyncClient, *paths: Path, names: list[str] | None = None) -> dict[str, Any]:
    files = [("files", ((names[i] if names else p.name), p.read_bytes(), "application/octet-stream"))
             for i, p in enumerate(paths)]
    r = await client.post("/api/v1/documents", files=files)
    assert r.status_code == 202, r.text
    return dict(r.json())


async def upload_bytes(client: AsyncClient, name: str, data: bytes) -> dict[str, Any]:
    r = await client.post("/api/v1/documents", files=[("files", (name, data, "application/octet-stream"))])
    assert r.status_code == 202, r.text
    return dict(r.json())


async def new_conversation(client: AsyncClient) -> str:
    r = await client.post("/api/v1/conversations", json={})
    assert r.status_code == 201
    return str(r.json()["id"])


async def ask(client: AsyncClient, conv: str, content: str, **scope: Any) -> dict[str, Any]:
    """Ask in a conversation over SSE; the final `citations` event, with the `sources` listed."""
    r = await client.post(f"/api/v1/conversations/{conv}/messages",
                          json={"content": content, **scope},
                          headers={"Accept": "text/event-stream"})
    assert r.status_code == 200, r.text
    events = dict(parse_sse(r.text))
    assert "error" not in events, events
    return dict(events["citations"]) | {"sources": events["sources"]["sources"]}


async def wait_done(client: AsyncClient, doc_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen_progress: list[int] = []
    while time.monotonic() < deadline:
        r = await client.get(f"/api/v1/documents/{doc_id}")
        assert r.status_code == 200, r.text
        doc = r.json()
        seen_progress.append(doc["progress"])
        if doc["status"] in ("ready", "failed"):
            doc["_progress_seen"] = seen_progress
            return dict(doc)
        await asyncio.sleep(0.25)
    raise AssertionError(f"document {doc_id} did not finish: {doc}")


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in body.strip().split("\n\n"):
        name, data = "", ""
        for line in frame.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if name:
            events.append((name, json.loads(data)))
    return events


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """`app` served by a real uvicorn on a free loopback port (for clients that need real HTTP)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
