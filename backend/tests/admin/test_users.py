from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.admin.conftest import ADMIN_EMAIL, PASSWORD, add_document, relogin
from tests.conftest import login

ME = "/api/v1/auth/me"
USERS = "/api/v1/admin/users"

# Every admin route, with a body that would be valid for an admin.
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/admin/users", None),
    ("POST", "/api/v1/admin/users", {"email": "x@example.com", "password": PASSWORD, "role": "user"}),
    ("PATCH", "/api/v1/admin/users/00000000-0000-0000-0000-000000000000", {"role": "user"}),
    ("POST", "/api/v1/admin/users/00000000-0000-0000-0000-000000000000/reset-password",
     {"new_password": PASSWORD}),
    ("GET", "/api/v1/admin/stats", None),
    ("GET", "/api/v1/admin/jobs", None),
    ("POST", "/api/v1/admin/jobs/retry", {"all_failed": True}),
    ("POST", "/api/v1/admin/reindex", None),
    ("GET", "/api/v1/admin/settings", None),
    ("PUT", "/api/v1/admin/settings", {"registration": {"mode": "closed"}}),
    ("GET", "/api/v1/admin/invites", None),
    ("POST", "/api/v1/admin/invites", {"email": None}),
    ("DELETE", "/api/v1/admin/invites/00000000-0000-0000-0000-000000000000", None),
    ("POST", "/api/v1/admin/settings/test", {"target": "llm"}),
    ("GET", "/api/v1/admin/audit", None),
]


async def test_admin_routes_refuse_anonymous_and_users(admin: AsyncClient, signed_in: Any,
                                                       anon_client_factory: Any) -> None:
    user_client, _ = await signed_in("bob@example.com")
    r = await user_client.post("/api/v1/auth/api-keys", json={"name": "k"})
    user_key = r.json()["key"]
    async with anon_client_factory() as anon:
        for method, path, body in ADMIN_ROUTES:
            r = await anon.request(method, path, json=body)
            assert r.status_code == 401, (method, path, r.text)
            r = await user_client.request(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"] == "admin_required"
            r = await anon.request(method, path, json=body,
                                   headers={"Authorization": f"Bearer {user_key}"})
            assert r.status_code == 403, (method, path, r.text)
    # Nothing was changed by the refused requests.
    assert (await admin.get("/api/v1/admin/settings")).json()["registration_open"] is True


async def test_list_search_and_paging(admin: AsyncClient, signed_in: Any, api_app: Any) -> None:
    _, bob = await signed_in("bob@example.com")
    await signed_in("carol@example.com")
    await signed_in("dave@example.com")
    await add_document(api_app, bob["id"], filename="one.pdf")
    await add_document(api_app, bob["id"], filename="two.pdf")

    r = await admin.get(USERS)
    body = r.json()
    assert r.status_code == 200 and body["total"] == 4
    by_email = {u["email"]: u for u in body["items"]}
    assert by_email["bob@example.com"]["document_count"] == 2
    assert by_email["carol@example.com"]["document_count"] == 0
    assert by_email[ADMIN_EMAIL]["last_login_at"] is not None  # signed in after registering
    assert set(by_email[ADMIN_EMAIL]) >= {"id", "email", "display_name", "role", "is_active",
                                          "must_change_password", "created_at", "last_login_at"}

    r = await admin.get(USERS, params={"q": "CAROL"})
    assert [u["email"] for u in r.json()["items"]] == ["carol@example.com"]
    r = await admin.get(USERS, params={"q": "%"})  # LIKE wildcards are matched literally
    assert r.json()["total"] == 0

    page1 = (await admin.get(USERS, params={"page": 1, "page_size": 3})).json()
    page2 = (await admin.get(USERS, params={"page": 2, "page_size": 3})).json()
    assert page1["total"] == page2["total"] == 4
    assert len(page1["items"]) == 3 and len(page2["items"]) == 1
    ids = {u["id"] for u in page1["items"]} | {u["id"] for u in page2["items"]}
    assert len(ids) == 4


async def test_admin_creates_users_even_when_registration_is_closed(
    admin: AsyncClient, anon_client_factory: Any
) -> None:
    r = await admin.put("/api/v1/admin/settings", json={"registration": {"mode": "closed"}})
    assert r.status_code == 200 and r.json()["registration_open"] is False
    async with anon_client_factory() as anon:
        r = await anon.post("/api/v1/auth/register",
                            json={"email": "self@example.com", "password": PASSWORD})
        assert r.status_code == 403 and r.json()["error"] == "registration_closed"

    r = await admin.post(USERS, json={"email": "New@Example.com", "password": "temporary pass 1",
                                      "role": "admin", "display_name": "Newbie",
                                      "must_change_password": True})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["email"] == "new@example.com" and created["role"] == "admin"
    assert created["must_change_password"] is True and created["document_count"] == 0
    r = await admin.post(USERS, json={"email": "new@example.com", "password": PASSWORD})
    assert r.status_code == 409 and r.json()["error"] == "email_taken"
    r = await admin.post(USERS, json={"email": "weak@example.com", "password": "short"})
    assert r.status_code == 400 and r.json()["error"] == "weak_password"
    async with anon_client_factory() as c:
        r = await login(c, "new@example.com", "temporary pass 1")
        assert r.status_code == 200 and r.json()["must_change_password"] is True


async def test_last_admin_cannot_be_demoted_or_deactivated(admin: AsyncClient, signed_in: Any) -> None:
    me = (await admin.get(ME)).json()
    for patch in ({"role": "user"}, {"is_active": False}, {"role": "user", "is_active": False}):
        r = await admin.patch(f"{USERS}/{me['id']}", json=patch)
        assert r.status_code == 409 and r.json()["error"] == "last_admin", patch
    assert (await admin.get(ME)).json()["role"] == "admin"

    # With a second active admin, the first may step down.
    _, bob = await signed_in("bob@example.com")
    r = await admin.patch(f"{USERS}/{bob['id']}", json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    # A deactivated admin does not count as the remaining one.
    assert (await admin.patch(f"{USERS}/{bob['id']}", json={"is_active": False})).status_code == 200
    r = await admin.patch(f"{USERS}/{me['id']}", json={"role": "user"})
    assert r.status_code == 409 and r.json()["error"] == "last_admin"
    assert (await admin.patch(f"{USERS}/{bob['id']}", json={"is_active": True})).status_code == 200
    r = await admin.patch(f"{USERS}/{me['id']}", json={"role": "user"})
    assert r.status_code == 200 and r.json()["role"] == "user"
    assert (await admin.get(USERS)).status_code == 401  # demotion ended this session too


async def test_deactivation_is_immediate_for_cookie_sessions_and_api_keys(
    admin: AsyncClient, signed_in: Any, anon_client_factory: Any
) -> None:
    bob_client, bob = await signed_in("bob@example.com")
    key = (await bob_client.post("/api/v1/auth/api-keys", json={"name": "script"})).json()["key"]
    async with anon_client_factory() as script:
        script.headers["Authorization"] = f"Bearer {key}"
        assert (await script.get(ME)).status_code == 200
        assert (await bob_client.get(ME)).status_code == 200

        r = await admin.patch(f"{USERS}/{bob['id']}", json={"is_active": False})
        assert r.status_code == 200 and r.json()["is_active"] is False

        assert (await bob_client.get(ME)).status_code == 401
        assert (await script.get(ME)).status_code == 401
        r = await bob_client.post("/api/v1/auth/refresh")
        assert r.status_code == 401
        r = await login(bob_client, "bob@example.com", PASSWORD)
        assert r.status_code == 403 and r.json()["error"] == "account_disabled"

        # Re-activation lets Bob sign in again, but the old key stays revoked.
        r = await admin.patch(f"{USERS}/{bob['id']}", json={"is_active": True})
        assert r.status_code == 200
        assert (await script.get(ME)).status_code == 401
        await relogin(bob_client, "bob@example.com")
        assert (await bob_client.get(ME)).status_code == 200


async def test_demoted_admin_loses_admin_access_on_next_request(admin: AsyncClient, signed_in: Any) -> None:
    bob_client, bob = await signed_in("bob@example.com")
    assert (await admin.patch(f"{USERS}/{bob['id']}", json={"role": "admin"})).status_code == 200
    assert (await bob_client.get(USERS)).status_code == 200  # same session, promoted at once
    assert (await admin.patch(f"{USERS}/{bob['id']}", json={"role": "user"})).status_code == 200
    r = await bob_client.get(USERS)
    assert r.status_code in (401, 403)
    await relogin(bob_client, "bob@example.com")
    r = await bob_client.get(USERS)
    assert r.status_code == 403 and r.json()["error"] == "admin_required"
    assert (await bob_client.get(ME)).json()["role"] == "user"


async def test_reset_password(admin: AsyncClient, signed_in: Any) -> None:
    bob_client, bob = await signed_in("bob@example.com")
    r = await admin.post(f"{USERS}/{bob['id']}/reset-password", json={"new_password": "x"})
    assert r.status_code == 400 and r.json()["error"] == "weak_password"
    r = await admin.post(f"{USERS}/{bob['id']}/reset-password",
                         json={"new_password": "brand new password"})
    assert r.status_code == 204
    assert (await bob_client.get(ME)).status_code == 401  # sessions ended
    assert (await login(bob_client, "bob@example.com", PASSWORD)).status_code == 401
    r = await login(bob_client, "bob@example.com", "brand new password")
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    r = await admin.post(f"{USERS}/00000000-0000-0000-0000-000000000000/reset-password",
                         json={"new_password": "brand new password"})
    assert r.status_code == 404


@pytest.mark.parametrize("patch", [{"role": "owner"}, {"is_active": "maybe"}, {"email": "x@y.z"}])
async def test_patch_validation(admin: AsyncClient, signed_in: Any, patch: dict[str, Any]) -> None:
    _, bob = await signed_in("bob@example.com")
    r = await admin.patch(f"{USERS}/{bob['id']}", json=patch)
    assert r.status_code == 422


async def test_audit_log_records_admin_and_auth_events(admin: AsyncClient, signed_in: Any,
                                                       anon_client_factory: Any) -> None:
    bob_client, bob = await signed_in("bob@example.com")
    key = (await bob_client.post("/api/v1/auth/api-keys", json={"name": "k"})).json()
    assert (await bob_client.delete(f"/api/v1/auth/api-keys/{key['id']}")).status_code == 204
    async with anon_client_factory() as c:
        assert (await login(c, "bob@example.com", "wrong password")).status_code == 401
        # Loop rather than count: other test sessions may flush the shared Redis test database.
        statuses = [(await login(c, "bob@example.com", "wrong password")).status_code
                    for _ in range(12)]
        assert 429 in statuses
    await admin.patch(f"{USERS}/{bob['id']}", json={"role": "admin"})
    await admin.patch(f"{USERS}/{bob['id']}", json={"is_active": False})
    await admin.post(f"{USERS}/{bob['id']}/reset-password", json={"new_password": "brand new password"})
    await admin.put("/api/v1/admin/settings",
                    json={"llm": {"model": "m2", "api_key": "sk-very-secret-value"}})

    r = await admin.get("/api/v1/admin/audit", params={"page_size": 200})
    assert r.status_code == 200
    entries = r.json()["items"]
    events = {e["event"] for e in entries}
    assert {"api_key.created", "api_key.revoked", "auth.login_failed", "auth.login_throttled",
            "user.role_changed", "user.deactivated", "user.password_reset",
            "settings.updated"} <= events
    assert "sk-very-secret-value" not in r.text
    role = next(e for e in entries if e["event"] == "user.role_changed")
    assert role["actor_email"] == ADMIN_EMAIL and role["target"] == "bob@example.com"
    assert role["details"] == {"from": "user", "to": "admin"} and role["ip"] == "10.1.2.3"
    assert role["request_id"]
    settings_entry = next(e for e in entries if e["event"] == "settings.updated")
    assert settings_entry["details"]["secrets"] == {"llm.api_key": "set"}
    assert settings_entry["details"]["changes"]["llm.model"]["to"] == "m2"

    r = await admin.get("/api/v1/admin/audit", params={"event": "user.deactivated"})
    assert r.json()["total"] == 1 and r.json()["items"][0]["target"] == "bob@example.com"
    r = await admin.get("/api/v1/admin/audit", params={"event": "user."})
    assert {e["event"] for e in r.json()["items"]} >= {"user.role_changed", "user.deactivated"}
    times = [e["created_at"] for e in entries]
    assert times == sorted(times, reverse=True)  # newest first
