"""Finding 8: the API answers as its OpenAPI schema says.

- every 422 body matches the declared schema (one error shape, `ErrorBody`, for every error);
- a GET on a POST-only API path is 405 JSON with `Allow`, also when the API serves the SPA;
- bidirectional overrides and other control characters never reach a display name, a title, a
  key name or a file name.
(tests/security/test_schemathesis.py checks statuses and bodies of generated requests.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
from httpx import ASGITransport, AsyncClient

from tests.conftest import login, make_settings, register
from tests.security.openapi_cases import operations


def _validator(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for({**node, "components": schema["components"]})


async def test_every_validation_error_matches_the_declared_schema(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    fresh.openapi_schema = None
    schema = fresh.openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    async with client_at("192.0.2.100") as admin:
        await register(admin, "admin@example.com")
        checked = 0
        for op in operations(schema):
            if op.body_kind is None:
                continue
            declared = op.responses["422"]["content"]["application/json"]["schema"]
            r = await admin.request(**op.request({p: "x" for p in op.path_params}, valid=False))
            assert r.status_code == 422, (op.operation_id, r.status_code, r.text)
            body = r.json()
            assert _validator(schema, declared).is_valid(body), (op.operation_id, body)
            assert body["error"] == "validation_error" and body["detail"]
            checked += 1
    assert checked >= 15


async def _spa_app(tmp_path: Path) -> Any:
    from app.main import create_app

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>spa</title>")
    return create_app(make_settings(tmp_path, serve_frontend=True, frontend_dist=dist))


async def test_wrong_method_on_an_api_path_is_405_json(fresh: Any, tmp_path: Path) -> None:
    spa = await _spa_app(tmp_path)
    for app in (spa, fresh):  # with and without the SPA's catch-all
        async with AsyncClient(transport=ASGITransport(app=app), base_url="https://t") as c:
            r = await c.get("/api/v1/auth/login")
            assert r.status_code == 405, r.text
            assert r.json()["error"] == "method_not_allowed" and r.headers["allow"] == "POST"
            r = await c.get("/api/v1/search")
            assert r.status_code == 405 and r.headers["allow"] == "POST"
            r = await c.put("/api/v1/documents")
            assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET", "POST"}
            r = await c.get("/api/v1/no-such-route")
            assert r.status_code == 404 and r.json()["error"] == "not_found"
    async with AsyncClient(transport=ASGITransport(app=spa), base_url="https://t") as c:
        assert "<title>spa</title>" in (await c.get("/documents/42")).text  # the SPA still routes


BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "Invoice\u202egpj.exe" reads as "Invoiceexe.jpg"
HOSTILE = f"Mallory{BIDI}gpj.exe\u2066\u200b\x07"


async def test_control_and_bidi_characters_are_stripped_from_names(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.101") as c, client_at("192.0.2.102") as newcomer:
        await register(c, "mallory@example.com")  # the first account: an administrator
        r = await c.post("/api/v1/auth/api-keys", json={"name": HOSTILE, "scopes": ["read"]})
        assert r.json()["name"] == "Mallorygpj.exe"
        conv = (await c.post("/api/v1/conversations", json={"title": HOSTILE})).json()
        assert conv["title"] == "Mallorygpj.exe"
        r = await c.patch(f"/api/v1/conversations/{conv['id']}", json={"title": f"{BIDI}\u2067"})
        assert r.status_code == 422  # nothing visible is left: an empty title
        r = await c.post("/api/v1/documents", files=[
            ("files", (f"invoice{BIDI}fdp.exe\u200f", b"An invoice for one apple.", "text/plain"))])
        assert r.json()["documents"][0]["filename"] == "invoicefdp.exe"
        r = await c.post("/api/v1/admin/users", json={
            "email": "eve@example.com", "password": "correct horse battery", "display_name": HOSTILE})
        assert r.status_code == 201 and r.json()["display_name"] == "Mallorygpj.exe"
        # Joiners that scripts and emoji need are kept.
        conv = (await c.post("/api/v1/conversations", json={"title": "می\u200cخواهم 👩\u200d💻"})).json()
        assert conv["title"] == "می\u200cخواهم 👩\u200d💻"
        await newcomer.post("/api/v1/auth/register", json={
            "email": "trent@example.com", "password": "correct horse battery", "display_name": HOSTILE})
        r = await login(newcomer, "trent@example.com", "correct horse battery")
        assert r.json()["display_name"] == "Mallorygpj.exe"


async def test_statuses_the_services_raise_are_declared(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    """Found by schemathesis (an unknown `collection_id` on the document list) and by reading every
    raise site: each refusal below is a status its operation declares."""
    fresh.openapi_schema = None
    declared = {op.operation_id: set(op.responses) for op in operations(fresh.openapi())}
    missing = "00000000-0000-0000-0000-000000000000"
    async with client_at("192.0.2.101") as admin:
        me = await register(admin, "admin@example.com")
        col = (await admin.post("/api/v1/collections", json={"name": "Shelf"})).json()
        owner = (await admin.get(f"/api/v1/collections/{col['id']}/members")).json()["items"][0]
        assert (await admin.post("/api/v1/admin/groups", json={"name": "Team"})).status_code == 201
        other = (await admin.post("/api/v1/admin/groups", json={"name": "Other"})).json()
        cases = [
            ("listDocuments", 404, admin.get("/api/v1/documents", params={"collection_id": missing})),
            ("uploadDocuments", 404, admin.post("/api/v1/documents", data={"collection_id": missing},
                                                files=[("files", ("a.txt", b"text", "text/plain"))])),
            ("setCollectionMember", 409, admin.put(f"/api/v1/collections/{col['id']}/members",
                                                   json={"user_id": me["id"], "role": "viewer"})),
            ("removeCollectionMember", 409,
             admin.delete(f"/api/v1/collections/{col['id']}/members/{owner['id']}")),
            ("adminCreateGroup", 409, admin.post("/api/v1/admin/groups", json={"name": "Team"})),
            ("adminUpdateGroup", 409, admin.patch(f"/api/v1/admin/groups/{other['id']}",
                                                  json={"name": "Team"})),
        ]
        for operation_id, status, request in cases:
            r = await request
            assert r.status_code == status, (operation_id, r.status_code, r.text)
            assert str(status) in declared[operation_id], (operation_id, status)
