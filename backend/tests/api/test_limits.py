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
from tests.api.helpers import DOCS, upload, wait_done
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


async def test_size_quota_and_page_limits(limited: AsyncClient, limited_app: Any) -> None:
    limited_app.state.container.settings.api_rate_limit_per_minute = 0  # polling below; tested separately
    await register(limited)
    big = os.urandom(2 * 1024 * 1024 + 10)
    r = await limited.post("/api/v1/documents", files=[("files", ("big.txt", big, "text/plain"))])
    assert r.status_code == 202
    assert r.json()["errors"][0]["error"] == "file_too_large" and "2 MB" in r.json()["errors"][0]["detail"]

    # 1.8 MB + 1.05 MB fit the 3 MB quota; the third file would not.
    body = await upload(limited, DOCS / "pdf" / "GeoTopo-komprimiert.pdf", DOCS / "pdf" / "R-exts.pdf",
                        DOCS / "pdf" / "multi-column.pdf")
    assert [d["filename"] for d in body["documents"]] == ["GeoTopo-komprimiert.pdf", "R-exts.pdf"]
    assert body["errors"][0]["error"] == "quota_exceeded" and body["errors"][0]["filename"] == "multi-column.pdf"

    done = await wait_done(limited, body["documents"][1]["id"])  # 236 pages > 3
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
