"""Sharing routes under API-key scopes and roles: a `read` key reads what its user may read and
changes nothing; group administration is for administrators only; a non-admin cannot list users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from httpx import AsyncClient

from tests.conftest import register

KEYS = "/api/v1/auth/api-keys"


async def _bearer(c: AsyncClient, *scopes: str) -> dict[str, str]:
    r = await c.post(KEYS, json={"name": "k", "scopes": list(scopes)})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


async def test_read_key_reads_shared_but_changes_nothing(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.30") as admin, client_at("192.0.2.31") as alice, \
            client_at("192.0.2.32") as bob, client_at("192.0.2.33") as prog:
        await register(admin, "admin@example.com")
        await register(alice, "alice@example.com")
        bob_user = await register(bob, "bob@example.com")
        bob_id = bob_user.get("id") or (await bob.get("/api/v1/auth/me")).json()["id"]
        coll = (await alice.post("/api/v1/collections", json={"name": "Shared"})).json()["id"]
        r = await alice.put(f"/api/v1/collections/{coll}/members",
                            json={"user_id": bob_id, "role": "owner"})
        assert r.status_code == 200
        doc = (await alice.post("/api/v1/documents", data={"collection_id": coll},
                                files=[("files", ("a.txt", b"shared words", "text/plain"))])).json()
        doc_id = doc["documents"][0]["id"]
        read = await _bearer(bob, "read")
        # Reading through the key: what bob may read.
        assert (await prog.get(f"/api/v1/collections/{coll}", headers=read)).status_code == 200
        assert (await prog.get(f"/api/v1/documents/{doc_id}", headers=read)).status_code == 200
        # Changing anything needs `write`, even for an owner of the collection.
        for method, path, body in [
            ("POST", "/api/v1/collections", {"name": "x"}),
            ("PATCH", f"/api/v1/collections/{coll}", {"name": "y"}),
            ("DELETE", f"/api/v1/collections/{coll}", None),
            ("PUT", f"/api/v1/collections/{coll}/members", {"user_id": bob_id, "role": "viewer"}),
            ("DELETE", f"/api/v1/collections/{coll}/members/anything", None),
            ("PATCH", f"/api/v1/documents/{doc_id}", {"collection_id": None}),
        ]:
            r = await prog.request(method, path, json=body, headers=read)
            assert r.status_code == 403 and r.json()["error"] == "insufficient_scope", (path, r.text)
        # Group administration: administrators only (403 for a user, 401 anonymous).
        for method, path, body in [("GET", "/api/v1/admin/groups", None),
                                   ("POST", "/api/v1/admin/groups", {"name": "g"})]:
            assert (await bob.request(method, path, json=body)).status_code == 403
            assert (await prog.request(method, path, json=body)).status_code == 401
        # No directory browsing: an exact email or nothing, and no admin user listing.
        assert (await bob.get("/api/v1/admin/users")).status_code == 403
        r = await bob.get("/api/v1/users/lookup", params={"email": "%@example.com"})
        assert r.status_code == 404
        # Nothing changed.
        assert (await alice.get(f"/api/v1/collections/{coll}")).json()["name"] == "Shared"
        assert (await alice.get(f"/api/v1/documents/{doc_id}")).json()["collection_id"] == coll
