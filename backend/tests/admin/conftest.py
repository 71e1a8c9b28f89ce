"""Admin test helpers: an admin client (first account) and a way to add more signed-in users."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from httpx import AsyncClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.documents.models import Chunk, Document, Job
from tests.conftest import login, register

ADMIN_EMAIL = "root@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture
async def admin(client: AsyncClient) -> AsyncClient:
    """`client`, signed in as the first account (which administers the installation)."""
    user = await register(client, ADMIN_EMAIL, PASSWORD)
    assert user["role"] == "admin"
    return client


@pytest.fixture
async def signed_in(anon_client_factory: Callable[[], AsyncClient]) -> AsyncIterator[Any]:
    """Factory: a new client signed in as a new (non-admin) account; all closed at the end."""
    opened: list[AsyncClient] = []

    async def make(email: str, password: str = PASSWORD) -> tuple[AsyncClient, dict[str, Any]]:
        c = anon_client_factory()
        opened.append(c)
        user = await register(c, email, password)
        return c, user

    yield make
    for c in opened:
        await c.aclose()


async def relogin(c: AsyncClient, email: str, password: str = PASSWORD) -> None:
    r = await login(c, email, password)
    assert r.status_code == 200, r.text


def container(api_app: Any) -> Any:
    return api_app.state.container


async def add_document(
    api_app: Any, owner_id: str, *, filename: str = "a.pdf", status: str = "ready",
    size_bytes: int = 1000, chunks: list[str] | None = None, error: str | None = None,
    job_status: str | None = None,
) -> str:
    """Insert a document (and optionally chunks and a job row) directly, as ingestion would."""
    async with container(api_app).sessions() as session:
        doc = Document(owner_id=owner_id, filename=filename, mime_type="application/pdf", kind="pdf",
                       size_bytes=size_bytes, content_hash=uuid.uuid4().hex,
                       storage_key="k", status=status, error=error, attempts=3 if error else 0)
        session.add(doc)
        await session.flush()
        for n, text in enumerate(chunks or []):
            session.add(Chunk(id=f"{doc.id}:1:{n}", document_id=doc.id, owner_id=owner_id, version=1,
                              n=n, text=text, page_start=n + 1, page_end=n + 1, char_start=0,
                              char_end=len(text), heading_path=[]))
        if job_status:
            session.add(Job(document_id=doc.id, status=job_status, attempt=1, error=error,
                            duration_ms=1234, finished_at=datetime.now(UTC)))
        await session.commit()
        return doc.id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _openai_app(api_key: str) -> Starlette:
    """The two OpenAI-compatible endpoints the settings test calls, with key checking."""

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {api_key}"

    async def models(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": {"message": "invalid api key"}}, 401)
        return JSONResponse({"object": "list", "data": [{"id": "tiny", "object": "model"}]})

    async def embeddings(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": {"message": "invalid api key"}}, 401)
        body = await request.json()
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"index": i, "embedding": [float(len(t) % 7 + 1), 1.0, 0.5]}
                for i, t in enumerate(texts)]
        return JSONResponse({"object": "list", "data": data, "model": body["model"]})

    return Starlette(routes=[Route("/v1/models", models),
                             Route("/v1/embeddings", embeddings, methods=["POST"])])


@pytest.fixture(scope="session")
def openai_stub_url() -> Iterator[str]:
    """A real HTTP server on loopback (uvicorn in a thread) speaking the OpenAI wire format."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_openai_app("sk-test"), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "stub server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)
