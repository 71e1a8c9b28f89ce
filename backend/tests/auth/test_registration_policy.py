"""Registration policy: open, invite-only (single-use links from administrators), allowed email
domains, closed; and the admin invite API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import update

from app.auth.models import Invite
from tests.conftest import register

PASSWORD = "long enough pass 1"
SETTINGS = "/api/v1/admin/settings"
INVITES = "/api/v1/admin/invites"


async def attempt(app: Any, email: str, invite: str | None = None) -> Any:
    from httpx import ASGITransport

    async with AsyncClient(transport=ASGITransport(app=app, client=("10.5.5.5", 1)),
                           base_url="https://testserver") as anon:
        body: dict[str, Any] = {"email": email, "password": PASSWORD}
        if invite is not None:
            body["invite"] = invite
        return await anon.post("/api/v1/auth/register", json=body)


async def set_mode(admin: AsyncClient, mode: str, domains: list[str] | None = None) -> Any:
    body: dict[str, Any] = {"mode": mode}
    if domains is not None:
        body["allowed_domains"] = domains
    return await admin.put(SETTINGS, json={"registration": body})


async def test_open_by_default_and_config_reports_the_mode(client: AsyncClient, api_app: Any) -> None:
    await register(client, "root@example.com")
    assert (await attempt(api_app, "x@anywhere.net")).status_code == 202
    config = (await client.get("/api/v1/config")).json()
    assert config["registration_mode"] == "open" and config["registration_open"] is True


async def test_domains_mode(client: AsyncClient, api_app: Any) -> None:
    await register(client, "root@example.com")
    r = await set_mode(client, "domains", ["@Example.COM ", "team.example.org"])
    assert r.status_code == 200, r.text
    assert r.json()["registration"] == {"mode": "domains",
                                        "allowed_domains": ["example.com", "team.example.org"]}
    assert (await attempt(api_app, "ann@example.com")).status_code == 202
    assert (await attempt(api_app, "tom@TEAM.example.org")).status_code == 202
    for email in ("eve@evil.com", "eve@sub.example.com", "eve@example.com.evil.com"):
        r = await attempt(api_app, email)
        assert r.status_code == 403 and r.json()["error"] == "registration_domain", email
    config = (await client.get("/api/v1/config")).json()
    assert config["registration_mode"] == "domains" and config["registration_open"] is True


async def test_domains_mode_needs_valid_domains(client: AsyncClient) -> None:
    await register(client, "root@example.com")
    r = await set_mode(client, "domains", [])
    assert r.status_code == 400 and r.json()["error"] == "invalid_settings"
    r = await set_mode(client, "domains", ["not a domain"])
    assert r.status_code == 422
    assert (await client.get(SETTINGS)).json()["registration"]["mode"] == "open"


async def test_invite_mode_with_single_use_links(client: AsyncClient, api_app: Any) -> None:
    await register(client, "root@example.com")
    assert (await set_mode(client, "invite")).status_code == 200
    r = await attempt(api_app, "new@example.com")
    assert r.status_code == 403 and r.json()["error"] == "invite_required"
    assert (await client.get("/api/v1/config")).json()["registration_open"] is False

    r = await client.post(INVITES, json={})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "pending" and created["email"] is None
    assert created["path"] == f"/register?invite={created['token']}"
    assert (await attempt(api_app, "new@example.com", created["token"])).status_code == 202
    # Single use.
    r = await attempt(api_app, "second@example.com", created["token"])
    assert r.status_code == 403 and r.json()["error"] == "invite_invalid"
    r = await attempt(api_app, "third@example.com", "cwi_made-up")
    assert r.status_code == 403 and r.json()["error"] == "invite_invalid"
    listed = (await client.get(INVITES)).json()["items"]
    assert [(i["id"], i["status"]) for i in listed] == [(created["id"], "used")]
    assert "token" not in listed[0]  # the token is shown once, never listed


async def test_an_invite_bound_to_an_address(client: AsyncClient, api_app: Any) -> None:
    await register(client, "root@example.com")
    await set_mode(client, "closed")
    token = (await client.post(INVITES, json={"email": "Pat@Example.com"})).json()["token"]
    r = await attempt(api_app, "other@example.com", token)
    assert r.status_code == 403 and r.json()["error"] == "invite_email_mismatch"
    # The refused attempt did not use it up; an invite admits even while registration is closed.
    assert (await attempt(api_app, "pat@example.com", token)).status_code == 202


async def test_revoked_and_expired_invites(client: AsyncClient, api_app: Any) -> None:
    await register(client, "root@example.com")
    await set_mode(client, "invite")
    revoked = (await client.post(INVITES, json={})).json()
    assert (await client.delete(f"{INVITES}/{revoked['id']}")).status_code == 204
    assert (await client.delete(f"{INVITES}/{revoked['id']}")).status_code == 404
    expired = (await client.post(INVITES, json={"expires_in_days": 1})).json()
    async with api_app.state.container.sessions() as session:
        await session.execute(update(Invite).where(Invite.id == expired["id"])
                              .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await session.commit()
    for invite in (revoked, expired):
        r = await attempt(api_app, "late@example.com", invite["token"])
        assert r.status_code == 403 and r.json()["error"] == "invite_invalid"
    statuses = {i["id"]: i["status"] for i in (await client.get(INVITES)).json()["items"]}
    assert statuses == {revoked["id"]: "revoked", expired["id"]: "expired"}
    assert (await client.post(INVITES, json={"expires_in_days": 91})).status_code == 422


async def test_two_registrations_racing_with_one_invite(client: AsyncClient, api_app: Any) -> None:
    await register(client, "root@example.com")
    await set_mode(client, "invite")
    token = (await client.post(INVITES, json={})).json()["token"]
    results = await asyncio.gather(*(attempt(api_app, f"racer{i}@example.com", token)
                                     for i in range(4)))
    assert sorted(r.status_code for r in results).count(202) == 1, [r.text for r in results]


async def test_closed_mode_and_audit(client: AsyncClient, api_app: Any) -> None:
    await register(client, "root@example.com")
    r = await set_mode(client, "closed")
    assert r.json()["registration_open"] is False
    r = await attempt(api_app, "new@example.com")
    assert r.status_code == 403 and r.json()["error"] == "registration_closed"
    await client.post(INVITES, json={"email": "a@example.com"})
    events = [e["event"] for e in (await client.get("/api/v1/admin/audit")).json()["items"]]
    assert "invite.created" in events and "settings.updated" in events
