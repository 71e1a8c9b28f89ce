"""Finding 4: scoped API keys, revocation on password change/reset, must_change_password enforced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import text, update

from app.auth.models import ApiKey
from tests.conftest import login, register

PW = "correct horse battery"
KEYS = "/api/v1/auth/api-keys"


async def _key(c: AsyncClient, *scopes: str, **extra: Any) -> str:
    r = await c.post(KEYS, json={"name": "k", "scopes": list(scopes), **extra})
    assert r.status_code == 201, r.text
    assert r.json()["scopes"] == list(scopes)
    return str(r.json()["key"])


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_read_key_cannot_write_or_manage(fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.20") as owner, client_at("192.0.2.21") as prog:
        await register(owner)
        read = _bearer(await _key(owner, "read"))
        assert (await prog.get("/api/v1/documents", headers=read)).status_code == 200
        assert (await prog.post("/api/v1/search", json={"query": "x"}, headers=read)).status_code == 200
        assert (await prog.post("/api/v1/conversations", json={}, headers=read)).status_code == 201
        r = await prog.post("/api/v1/documents", headers=read,
                            files=[("files", ("a.txt", b"hello", "text/plain"))])
        assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
        doc = (await owner.post("/api/v1/documents",
                                files=[("files", ("a.txt", b"hello world", "text/plain"))])).json()
        doc_id = doc["documents"][0]["id"]
        assert (await prog.delete(f"/api/v1/documents/{doc_id}", headers=read)).status_code == 403
        assert (await prog.post(f"/api/v1/documents/{doc_id}/reprocess", headers=read)).status_code == 403
        for method, path, body in [
            ("POST", KEYS, {"name": "x", "scopes": ["read"]}), ("GET", KEYS, None),
            ("POST", "/api/v1/auth/password", {"current_password": PW, "new_password": "n" * 20}),
            ("POST", "/api/v1/auth/logout-all", None), ("POST", "/api/v1/auth/logout", None),
        ]:
            r = await prog.request(method, path, json=body, headers=read)
            assert r.status_code == 403 and r.json()["error"] == "api_key_not_allowed", (path, r.text)
        assert (await prog.get("/api/v1/auth/me", headers=read)).status_code == 200
        # The key still works: nothing above changed the owner's state.
        assert (await owner.get("/api/v1/auth/me")).status_code == 200


async def test_write_and_admin_scopes(fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.22") as admin, client_at("192.0.2.23") as user, \
            client_at("192.0.2.24") as prog:
        await register(admin, "admin@example.com")  # first account: administrator
        await register(user, "user@example.com")
        write = _bearer(await _key(user, "write"))
        r = await prog.post("/api/v1/documents", headers=write,
                            files=[("files", ("a.txt", b"hello", "text/plain"))])
        assert r.status_code == 202
        doc_id = r.json()["documents"][0]["id"]
        assert (await prog.get(f"/api/v1/documents/{doc_id}", headers=write)).status_code == 200
        assert (await prog.get("/api/v1/admin/users", headers=write)).status_code == 403
        r = await user.post(KEYS, json={"name": "x", "scopes": ["admin"]})
        assert r.status_code == 403 and r.json()["error"] == "admin_scope_forbidden"

        admin_read = _bearer(await _key(admin, "read"))
        r = await prog.get("/api/v1/admin/users", headers=admin_read)
        assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
        admin_key = _bearer(await _key(admin, "admin"))
        assert (await prog.get("/api/v1/admin/users", headers=admin_key)).status_code == 200
        assert (await prog.post(KEYS, json={"name": "y", "scopes": ["admin"]},
                                headers=admin_key)).status_code == 403


async def test_password_change_and_admin_reset_revoke_keys(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.25") as admin, client_at("192.0.2.26") as user, \
            client_at("192.0.2.27") as prog:
        await register(admin, "admin@example.com")
        me = await register(user, "user@example.com")
        key = _bearer(await _key(user, "read"))
        r = await user.post("/api/v1/auth/password",
                            json={"current_password": PW, "new_password": "a brand new secret"})
        assert r.status_code == 204
        r = await prog.get("/api/v1/documents", headers=key)
        assert r.status_code == 401 and r.json()["error"] == "invalid_api_key"

        key2 = _bearer(await _key(user, "read"))
        r = await admin.post(f"/api/v1/admin/users/{me['id']}/reset-password",
                             json={"new_password": "temporary password 1"})
        assert r.status_code == 204
        assert (await prog.get("/api/v1/documents", headers=key2)).status_code == 401


async def test_must_change_password_is_enforced(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.28") as admin, client_at("192.0.2.29") as user:
        await register(admin, "admin@example.com")
        me = await register(user, "user@example.com")
        await admin.post(f"/api/v1/admin/users/{me['id']}/reset-password",
                         json={"new_password": "temporary password 1"})
        user.cookies.clear()
        assert (await login(user, "user@example.com", "temporary password 1")).status_code == 200
        assert (await user.get("/api/v1/auth/me")).json()["must_change_password"] is True
        for method, path, body in [("POST", "/api/v1/search", {"query": "x"}),
                                   ("GET", "/api/v1/documents", None),
                                   ("POST", KEYS, {"name": "x", "scopes": ["read"]})]:
            r = await user.request(method, path, json=body)
            assert r.status_code == 403 and r.json()["error"] == "password_change_required", path
        r = await user.post("/api/v1/auth/password", json={
            "current_password": "temporary password 1", "new_password": "my own new secret"})
        assert r.status_code == 204
        assert (await user.post("/api/v1/search", json={"query": "x"})).status_code == 200


async def test_expiry_and_last_used(fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.30") as owner, client_at("192.0.2.31") as prog:
        await register(owner)
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        r = await owner.post(KEYS, json={"name": "x", "scopes": ["read"], "expires_at": past})
        assert r.status_code == 400 and r.json()["error"] == "invalid_expiry"
        soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        raw = await _key(owner, "read", expires_at=soon)
        listed = (await owner.get(KEYS)).json()["items"]
        assert listed[0]["last_used_at"] is None and listed[0]["expires_at"] is not None
        assert (await prog.get("/api/v1/documents", headers=_bearer(raw))).status_code == 200
        assert (await owner.get(KEYS)).json()["items"][0]["last_used_at"] is not None
        async with fresh.state.container.sessions() as s:
            await s.execute(update(ApiKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            await s.commit()
        r = await prog.get("/api/v1/documents", headers=_bearer(raw))
        assert r.status_code == 401 and r.json()["error"] == "api_key_expired"


async def test_keys_from_before_scopes_become_read_write(fresh: Any) -> None:
    """Migration 0005: a row written without the new columns reads back as read+write, no expiry."""
    async with fresh.state.container.sessions() as s:
        await s.execute(text(
            "INSERT INTO users (id, email, display_name, password_hash, role, is_active, "
            "must_change_password, created_at) VALUES ('u1', 'old@example.com', 'old', 'x', 'user', "
            "1, 0, CURRENT_TIMESTAMP)"))
        await s.execute(text(
            "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, use_count) "
            "VALUES ('k1', 'u1', 'legacy', 'cw_x', 'h', CURRENT_TIMESTAMP, 0)"))
        await s.commit()
        key = await s.get(ApiKey, "k1")
        assert key is not None and key.scopes == ["read", "write"] and key.expires_at is None
