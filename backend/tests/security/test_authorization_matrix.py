"""The authorization matrix, generated from the OpenAPI schema: a route added later is covered
without anyone writing a test for it, and a route nobody classified fails here.

- every route declares who may call it (`x-required-scope`); public ones are exactly PUBLIC;
- every non-public route × anonymous → 401;
- every admin route × a non-admin (session or key) and × an admin's key without `admin` → 403;
- every route × every API-key scope → 403 when the scope is short, through when it suffices;
- every path parameter × another user's object → 404, and nothing in the database or the file
  store changed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

import app.models  # noqa: F401  (every table in the metadata)
from app.core.db import Base
from tests.conftest import register
from tests.security.openapi_cases import KEY_SCOPES, Operation, operations

# Routes anyone may call. Adding one is a decision: it must be made here too.
PUBLIC = {"health", "ready", "publicConfig", "register", "login", "refresh", "oidcLogin", "oidcCallback"}
SCOPES = ("public", "identity", "read", "write", "admin", "session")
NOT_COMPARED = {"audit_log": None, "api_keys": {"last_used_at", "use_count"}}

Factory = Callable[[AsyncClient], Awaitable[str]]


async def _document(c: AsyncClient) -> str:
    r = await c.post("/api/v1/documents", files=[
        ("files", ("bob-notes.txt", f"Bob's private notes {uuid.uuid4()}.".encode(), "text/plain"))])
    assert r.status_code == 202, r.text
    doc_id = str(r.json()["documents"][0]["id"])
    for _ in range(600):  # processing changes rows: wait until it is over
        status = (await c.get(f"/api/v1/documents/{doc_id}")).json()["status"]
        if status in ("ready", "failed"):
            return doc_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"document {doc_id} still {status}")


async def _conversation(c: AsyncClient) -> str:
    r = await c.post("/api/v1/conversations", json={"title": "Bob's conversation"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _api_key(c: AsyncClient) -> str:
    r = await c.post("/api/v1/auth/api-keys", json={"name": "bob's key", "scopes": ["read"]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _collection(c: AsyncClient) -> str:
    r = await c.post("/api/v1/collections", json={"name": "Bob's collection"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _member(c: AsyncClient) -> str:
    return str((await c.get("/api/v1/auth/me")).json()["id"])  # the owner is a member of his own


# What each path parameter of a non-admin route names, and how a user makes one of their own.
OWNED_OBJECTS: dict[str, Factory] = {
    "document_id": _document,
    "conversation_id": _conversation,
    "key_id": _api_key,
    "collection_id": _collection,
    "member_id": _member,
}
# Path parameters of admin routes (administrators reach every object; no ownership applies).
ADMIN_OBJECTS = {"user_id", "group_id", "invite_id"}


@pytest.fixture
def schema(fresh: Any) -> dict[str, Any]:
    fresh.openapi_schema = None  # built from the routes as they are now
    return dict(fresh.openapi())


@pytest.fixture
def ops(schema: dict[str, Any]) -> list[Operation]:
    found = operations(schema)
    assert len(found) > 30, "the schema lost its operations"
    return found


def _random_ids(op: Operation) -> dict[str, str]:
    return {name: f"missing-{uuid.uuid4().hex[:12]}" for name in op.path_params}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _key(c: AsyncClient, *scopes: str) -> str:
    r = await c.post("/api/v1/auth/api-keys", json={"name": "matrix", "scopes": list(scopes)})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


async def _settle(app: Any) -> None:
    """Let a re-index that an admin route started finish, to its last write, before going on."""
    await app.state.container.reindex.wait()


def test_every_route_is_classified(ops: list[Operation]) -> None:
    unclassified = [o.operation_id for o in ops if o.scope not in SCOPES]
    assert not unclassified, (
        f"{unclassified} declare no authorization: give each route one of the dependencies in "
        "app/api/deps.py (PUBLIC, IdentityUser, CurrentUser, WriteUser, AdminUser, SessionUser…)")
    public = {o.operation_id for o in ops if o.scope == "public"}
    assert public == PUBLIC, f"public routes changed: {sorted(public ^ PUBLIC)}; update PUBLIC here"
    for op in ops:
        known = ADMIN_OBJECTS if op.scope == "admin" else set(OWNED_OBJECTS)
        missing = set(op.path_params) - known
        assert not missing, (f"{op.operation_id}: path parameter(s) {missing} are not classified; "
                             "add a factory to OWNED_OBJECTS (or ADMIN_OBJECTS) in this file")


async def test_anonymous_gets_401_everywhere_but_public_routes(
        ops: list[Operation], client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.60") as owner, client_at("192.0.2.61") as anon:
        await register(owner)  # an installation with an account, so nothing is "first run"
        for op in ops:
            if op.scope == "public":
                continue
            r = await anon.request(**op.request(_random_ids(op)))
            assert r.status_code == 401, (op.operation_id, r.status_code, r.text)
            assert op.declares(401), op.operation_id
            assert r.json()["error"] == "not_authenticated"


async def test_admin_routes_refuse_everyone_else(
        fresh: Any, ops: list[Operation], client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.62") as admin, client_at("192.0.2.63") as user, \
            client_at("192.0.2.64") as prog:
        await register(admin, "admin@example.com")
        await register(user, "user@example.com")
        callers = [("user session", user, {}, "admin_required"),
                   ("user write key", prog, _bearer(await _key(user, "write")), "admin_required"),
                   ("admin's write key", prog, _bearer(await _key(admin, "read", "write")),
                    "insufficient_scope")]
        admin_ops = [o for o in ops if o.scope == "admin"]
        assert admin_ops
        for op in admin_ops:
            for who, c, headers, error in callers:
                r = await c.request(**op.request(_random_ids(op)), headers=headers)
                assert r.status_code == 403, (op.operation_id, who, r.status_code, r.text)
                assert r.json()["error"] == error, (op.operation_id, who, r.text)
                assert op.declares(403), op.operation_id
        await _settle(fresh)


@pytest.mark.parametrize("key_scope", KEY_SCOPES)
async def test_every_scope_against_every_route(
        fresh: Any, ops: list[Operation], client_at: Callable[[str], AsyncClient], key_scope: str) -> None:
    async with client_at("192.0.2.65") as admin, client_at("192.0.2.66") as prog:
        await register(admin, "admin@example.com")  # an administrator may hold every scope
        headers = _bearer(await _key(admin, key_scope))
        for op in ops:
            if op.scope == "public":
                continue
            allowed = op.scope == "identity" or (
                op.scope != "session" and SCOPES.index(key_scope) >= SCOPES.index(op.scope))
            # Missing objects and schema-invalid input: a request that passes authorization is
            # answered 404 or 422 without changing anything.
            r = await prog.request(**op.request(_random_ids(op), valid=False), headers=headers)
            assert op.declares(r.status_code), (op.operation_id, r.status_code, "undeclared")
            if allowed:
                assert r.status_code not in (401, 403) and r.status_code < 500, (
                    op.operation_id, key_scope, r.status_code, r.text)
            else:
                expected = "api_key_not_allowed" if op.scope == "session" else "insufficient_scope"
                assert r.status_code == 403 and r.json()["error"] == expected, (
                    op.operation_id, key_scope, r.status_code, r.text)
            await _settle(fresh)


async def _snapshot(app: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with app.state.container.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_COMPARED and NOT_COMPARED[table.name] is None:
                continue
            skip = NOT_COMPARED.get(table.name) or set()
            columns = [c for c in table.columns if c.name not in skip]
            rows = (await conn.execute(select(*columns))).all()
            out[table.name] = sorted(repr(tuple(r)) for r in rows)
    files = app.state.container.settings.files_dir
    out["files"] = sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file())
    return out


async def test_another_users_objects_are_not_found_and_unchanged(
        fresh: Any, ops: list[Operation], client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.67") as admin, client_at("192.0.2.68") as alice, \
            client_at("192.0.2.69") as bob, client_at("192.0.2.70") as prog:
        await register(admin, "admin@example.com")
        await register(alice, "alice@example.com")
        await register(bob, "bob@example.com")
        bobs = {name: await make(bob) for name, make in OWNED_OBJECTS.items()}
        alice_key = _bearer(await _key(alice, "read", "write"))
        targets = [o for o in ops if o.path_params and o.scope not in ("public", "admin")]
        assert targets
        before = await _snapshot(fresh)
        for op in targets:
            for who, c, headers in [("alice's session", alice, {}), ("alice's key", prog, alice_key)]:
                r = await c.request(**op.request(bobs), headers=headers)
                if headers and op.scope == "session":
                    assert r.status_code == 403, (op.operation_id, who, r.text)  # keys never
                    continue
                assert r.status_code == 404, (op.operation_id, who, r.status_code, r.text)
                assert op.declares(404), op.operation_id
                assert r.json()["error"] == "not_found", (op.operation_id, who, r.text)
        assert await _snapshot(fresh) == before
        # The objects were there all along: Bob reaches each of them.
        assert (await bob.get(f"/api/v1/documents/{bobs['document_id']}")).status_code == 200
        assert (await bob.get(f"/api/v1/conversations/{bobs['conversation_id']}")).status_code == 200
        keys = (await bob.get("/api/v1/auth/api-keys")).json()["items"]
        assert [k["id"] for k in keys] == [bobs["key_id"]]
