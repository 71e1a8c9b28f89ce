"""Explicit, configurable limits: upload size, storage quota, page count, request rate."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.core.migrations import upgrade_async
from tests import docgen
from tests.api.helpers import upload, wait_done
from tests.conftest import make_settings, register


@pytest.fixture(scope="module")
async def limited_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    from app.main import create_app

    tmp: Path = tmp_path_factory.mktemp("limits")
    url = f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}"
    await upgrade_async(url)
    app = create_app(make_settings(tmp, database_url=url, max_upload_mb=2, user_quota_mb=3,
                                   max_pages=3, api_rate_limit_per_minute=40))
    async with LifespanManager(app, startup_timeout=120):
        yield app


@pytest.fixture
async def limited(limited_app: Any) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=limited_app, client=(f"10.0.0.{os.getpid() % 200}", 1)),
                           base_url="https://testserver") as c:
        yield c


def _padded_pdf(path: Path, pages: int, size: int) -> Path:
    made = docgen.pdf(path, [docgen.prose(pages * 10 + i, 4) for i in range(pages)], pad_to=size)
    assert abs(made.stat().st_size - size) < 20_000, made.stat().st_size
    return made


async def test_size_quota_and_page_limits(limited: AsyncClient, limited_app: Any, tmp_path: Path) -> None:
    limited_app.state.container.settings.api_rate_limit_per_minute = 0  # polling below; tested separately
    await register(limited)
    big = os.urandom(2 * 1024 * 1024 + 10)
    r = await limited.post("/api/v1/documents", files=[("files", ("big.txt", big, "text/plain"))])
    assert r.status_code == 413  # a lone file over the limit refuses the request (finding 7, issue 13)
    assert r.json()["error"] == "file_too_large" and "2 MB" in r.json()["detail"]

    # 1.79 MB + 1.05 MB fit the 3 MiB quota; the third file (0.4 MB) would not.
    body = await upload(limited, _padded_pdf(tmp_path / "lecture-notes.pdf", 1, 1_790_000),
                        _padded_pdf(tmp_path / "manual.pdf", 12, 1_050_000),
                        _padded_pdf(tmp_path / "columns.pdf", 2, 400_000))
    assert [d["filename"] for d in body["documents"]] == ["lecture-notes.pdf", "manual.pdf"]
    assert body["errors"][0]["error"] == "quota_exceeded" and body["errors"][0]["filename"] == "columns.pdf"

    done = await wait_done(limited, body["documents"][1]["id"])  # 12 pages > 3
    assert done["status"] == "failed" and "more than the limit of 3" in done["error"]


async def test_request_rate_limit(limited: AsyncClient, limited_app: Any) -> None:
    limited_app.state.container.settings.api_rate_limit_per_minute = 40
    limited_app.state.container.throttle._windows.clear()
    await register(limited, "rate@example.com")
    statuses = [(await limited.get("/api/v1/documents")).status_code for _ in range(45)]
    assert statuses.count(429) >= 4 and statuses[0] == 200
    r = await limited.get("/api/v1/documents")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert (await limited.get("/api/v1/health")).status_code == 200  # probes are never limited
