"""Finding 7: security headers when the API serves the SPA, private metrics, weak secrets refused,
a private SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from app.core.config import ConfigError, Settings
from app.core.migrations import upgrade
from tests.conftest import make_settings, register


async def test_spa_gets_security_headers(tmp_path: Path) -> None:
    from app.main import create_app

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>x</title>")
    app = create_app(make_settings(tmp_path, serve_frontend=True, frontend_dist=dist))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="https://t") as c:
        for path in ("/", "/documents/123"):
            r = await c.get(path)
            assert r.status_code == 200 and "<title>x</title>" in r.text
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "same-origin"


async def test_metrics_are_not_public(fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.50") as anon:
        r = await anon.get("/api/v1/metrics")
        assert r.status_code == 403 and r.json()["error"] == "metrics_forbidden"
    async with client_at("127.0.0.1") as local:
        assert (await local.get("/api/v1/metrics")).status_code == 200
        # Through a proxy on this host the peer is loopback too: that is not "local".
        assert (await local.get("/api/v1/metrics",
                                headers={"X-Forwarded-For": "192.0.2.9"})).status_code == 403
    fresh.state.container.settings.metrics_token = SecretStr("m" + "etrics-token-0123456789abcdef")
    try:
        async with client_at("192.0.2.51") as scraper:
            assert (await scraper.get("/api/v1/metrics", headers={
                "Authorization": "Bearer metrics-token-0123456789abcdef"})).status_code == 200
            assert (await scraper.get("/api/v1/metrics", headers={
                "Authorization": "Bearer wrong"})).status_code == 403
    finally:
        fresh.state.container.settings.metrics_token = None
    async with client_at("192.0.2.52") as admin, client_at("192.0.2.53") as user:
        await register(admin, "admin@example.com")
        await register(user, "user@example.com")
        assert (await admin.get("/api/v1/metrics")).status_code == 200
        assert (await user.get("/api/v1/metrics")).status_code == 403


@pytest.mark.parametrize("secret", ["k" * 48, "ab" * 24, "abcabcabcabcabcabcabcabcabcabcabc"])
def test_low_entropy_secrets_are_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ConfigError, match="too weak"):
        _ = Settings(data_dir=tmp_path, secret_key=secret).secret


def test_sqlite_database_is_created_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "citewise.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    assert db.stat().st_mode & 0o777 == 0o600
    db.chmod(0o644)  # an existing install from before: tightened on the next start
    upgrade(f"sqlite+aiosqlite:///{db}")
    assert db.stat().st_mode & 0o777 == 0o600
