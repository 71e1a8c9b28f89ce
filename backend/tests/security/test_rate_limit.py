"""Findings 1 and 2: the rate limit keys on the validated principal or the real client address."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from app.platform.models import AuditEntry
from tests.conftest import register
from tests.security.conftest import PROXY

DOCS = "/api/v1/documents"


async def test_junk_bearer_tokens_share_the_address_budget(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    fresh.state.container.settings.api_rate_limit_per_minute = 10
    async with client_at("192.0.2.10") as c:
        statuses = [(await c.get(DOCS, headers={"Authorization": f"Bearer junk-{uuid.uuid4()}"}))
                    .status_code for _ in range(14)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429] * 4


async def test_valid_user_keeps_own_budget_behind_a_throttled_address(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.11") as user, client_at("192.0.2.11") as noisy:
        await register(user)
        fresh.state.container.settings.api_rate_limit_per_minute = 5
        for _ in range(6):
            await noisy.get(DOCS)
        assert (await noisy.get(DOCS)).status_code == 429
        assert (await user.get(DOCS)).status_code == 200  # keyed on the user, not the address


async def test_registration_has_its_own_limit(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    fresh.state.container.settings.registration_rate_limit_per_hour = 3
    async with client_at("192.0.2.12") as c:
        statuses = []
        for i in range(5):
            r = await c.post("/api/v1/auth/register", headers={"Authorization": f"Bearer junk-{i}"},
                             json={"email": f"u{i}@example.com", "password": "correct horse battery"})
            statuses.append(r.status_code)
            c.cookies.clear()
    assert statuses == [202, 202, 202, 429, 429]
    assert r.json()["error"] == "too_many_registrations" and int(r.headers["retry-after"]) > 0
    async with client_at("192.0.2.13") as other:  # another address is not affected
        r = await other.post("/api/v1/auth/register",
                             json={"email": "z@example.com", "password": "correct horse battery"})
        assert r.status_code == 202


async def test_forged_forwarded_for_is_ignored_from_untrusted_peers(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.14") as c:
        await register(c)
        c.cookies.clear()
        statuses = []
        for i in range(10):  # 8 failures per address are allowed (fixture), across accounts
            r = await c.post("/api/v1/auth/login", headers={"X-Forwarded-For": f"203.0.113.{i}"},
                             json={"email": f"nobody{i}@example.com", "password": "wrong password"})
            statuses.append(r.status_code)
    assert statuses[:8] == [401] * 8 and statuses[8:] == [429, 429]
    async with fresh.state.container.sessions() as s:
        ips = set((await s.execute(select(AuditEntry.ip).where(
            AuditEntry.event == "auth.login_failed"))).scalars())
    assert ips == {"192.0.2.14"}  # no forged address reached the audit log


async def test_trusted_proxy_forwards_the_real_address(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at(PROXY) as via_proxy:
        for i in range(8):  # the spoofed left-most hop is ignored; the proxy's hop is the client
            r = await via_proxy.post(
                "/api/v1/auth/login", headers={"X-Forwarded-For": f"1.2.3.{i}, 198.51.100.7"},
                json={"email": f"x{i}@example.com", "password": "wrong password"})
            assert r.status_code == 401
        r = await via_proxy.post("/api/v1/auth/login", headers={"X-Forwarded-For": "198.51.100.7"},
                                 json={"email": "y@example.com", "password": "wrong password"})
        assert r.status_code == 429
        r = await via_proxy.post("/api/v1/auth/login", headers={"X-Forwarded-For": "198.51.100.8"},
                                 json={"email": "y@example.com", "password": "wrong password"})
        assert r.status_code == 401  # another client behind the same proxy has its own budget
    async with fresh.state.container.sessions() as s:
        ips = set((await s.execute(select(AuditEntry.ip).where(
            AuditEntry.event == "auth.login_failed"))).scalars())
    assert ips == {"198.51.100.7", "198.51.100.8"}
