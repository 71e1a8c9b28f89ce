"""Finding 7 (the rest): bodies over the limit are refused before they are read or spooled to disk,
and a single file over the per-file limit is a 413 (it used to be 202 with errors:[file_too_large]).

The requests are driven at the ASGI level so the test sees exactly how many body bytes the server
pulled before it answered. The fixture's limit is 1 MB per file (max_upload_mb=1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from httpx import AsyncClient

from tests.conftest import register

MB = 1024 * 1024
CHUNK = 64 * 1024


async def _asgi(app: Any, method: str, path: str, headers: dict[str, str],
                body: bytes, *, declare_length: bool) -> tuple[int, dict[str, Any], int]:
    """Send `body` in 64 KiB messages; returns status, JSON body and the bytes the app pulled."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if declare_length:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    chunks = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)] or [b""]
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if not chunks:
            return {"type": "http.disconnect"}
        chunk = chunks.pop(0)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": raw_headers, "client": ("192.0.2.90", 1234),
             "server": ("testserver", 443)}
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload), pulled


def _multipart(files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    boundary = "cwboundary7MA4YWxkTrZu0gW"
    parts = []
    for name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                     f'filename="{name}"\r\nContent-Type: text/plain\r\n\r\n'.encode() + data + b"\r\n")
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + f"--{boundary}--\r\n".encode()


async def _write_key(client_at: Callable[[str], AsyncClient]) -> dict[str, str]:
    async with client_at("192.0.2.91") as owner:
        await register(owner)
        r = await owner.post("/api/v1/auth/api-keys", json={"name": "up", "scopes": ["write"]})
        return {"authorization": f"Bearer {r.json()['key']}"}


def _staging_files(app: Any) -> list[str]:
    staging = app.state.container.files.staging_dir()
    return [p.name for p in staging.iterdir()]


async def test_a_single_file_over_the_limit_is_413_before_it_is_read_whole(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    auth = await _write_key(client_at)
    content_type, body = _multipart([("big.txt", b"a" * (3 * MB))])
    for declare_length in (True, False):  # Content-Length, or a chunked body of unknown length
        status, payload, pulled = await _asgi(
            fresh, "POST", "/api/v1/documents", {**auth, "content-type": content_type}, body,
            declare_length=declare_length)
        assert status == 413, payload
        assert payload["error"] == "file_too_large" and "big.txt" in payload["detail"]
        assert pulled <= 1 * MB + 2 * CHUNK, pulled  # stopped at the limit, not after 3 MB
    assert _staging_files(fresh) == []
    async with client_at("192.0.2.92") as c:  # nothing was stored
        c.headers.update(auth)
        assert (await c.get("/api/v1/documents")).json()["total"] == 0


async def test_a_request_over_the_total_is_refused_before_reading(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    auth = await _write_key(client_at)
    limit = fresh.state.container.settings.max_files_per_upload * (MB + 64 * 1024) + 64 * 1024
    content_type, body = _multipart([(f"f{i}.txt", f"Small file number {i}.".encode())
                                     for i in range(3)])
    # Declared too large: answered from the header, not one body byte pulled.
    huge = {**auth, "content-type": content_type, "content-length": str(limit + 1)}
    status, payload, pulled = await _asgi(fresh, "POST", "/api/v1/documents", huge, body,
                                          declare_length=False)
    assert (status, payload["error"], pulled) == (413, "request_too_large", 0)
    # The same request with its true length is accepted.
    status, payload, _ = await _asgi(fresh, "POST", "/api/v1/documents",
                                     {**auth, "content-type": content_type}, body, declare_length=True)
    assert status == 202 and len(payload["documents"]) == 3, payload


async def test_json_bodies_have_their_own_limit(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    auth = await _write_key(client_at)
    limit = fresh.state.container.settings.max_request_body_kb * 1024
    body = json.dumps({"query": "x" * (limit + 10)}).encode()
    for declare_length in (True, False):
        status, payload, pulled = await _asgi(
            fresh, "POST", "/api/v1/search", {**auth, "content-type": "application/json"}, body,
            declare_length=declare_length)
        assert status == 413 and payload["error"] == "request_too_large", payload
        assert pulled <= limit + CHUNK
    async with client_at("192.0.2.93") as c:  # an ordinary body is fine
        c.headers.update(auth)
        assert (await c.post("/api/v1/search", json={"query": "hello"})).status_code == 200
