"""The SPA fallback: client routes get index.html, but FastAPI's usual docs addresses redirect to /api/."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.main import _mount_spa


def _app(dist: Path) -> FastAPI:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Citewise</title>", encoding="utf-8")
    app = FastAPI(docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    _mount_spa(app, dist)
    return app


async def test_docs_and_openapi_redirect_to_the_api(tmp_path: Path) -> None:
    app = _app(tmp_path / "dist")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        for path, target in (("/docs", "/api/docs"), ("/openapi.json", "/api/openapi.json")):
            r = await c.get(path)
            assert r.status_code == 307, path
            assert r.headers["location"] == target
        followed = await c.get("/openapi.json", follow_redirects=True)
        assert followed.status_code == 200
        assert followed.json()["openapi"].startswith("3.")
        docs = await c.get("/docs", follow_redirects=True)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_client_routes_still_get_the_spa(tmp_path: Path) -> None:
    app = _app(tmp_path / "dist")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as c:
        for path in ("/", "/documents", "/chat/abc", "/docs-and-notes"):
            r = await c.get(path)
            assert r.status_code == 200, path
            assert "<title>Citewise</title>" in r.text
        missing = await c.get("/api/v1/no-such-route")
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
