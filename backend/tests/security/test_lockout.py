"""Findings 5 and 6: wrong current passwords are throttled; an attacker's failures don't lock out the owner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from httpx import AsyncClient

from tests.conftest import login, register

PW = "correct horse battery"


async def test_attacker_failures_do_not_lock_out_the_owner(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.40") as owner:
        await register(owner)
    async with client_at("198.51.100.66") as attacker:
        for _ in range(5):  # login_max_failures_per_account=5 in the fixture
            assert (await login(attacker, "alice@example.com", "guess!guess!")).status_code == 401
        r = await login(attacker, "alice@example.com", PW)
        assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
    async with client_at("192.0.2.40") as owner_again:
        assert (await login(owner_again, "alice@example.com", PW)).status_code == 200


async def test_wrong_current_password_is_throttled(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.41") as c:
        await register(c)
        for _ in range(5):
            r = await c.post("/api/v1/auth/password",
                             json={"current_password": "guess!guess!", "new_password": "x" * 20})
            assert r.status_code == 400 and r.json()["error"] == "wrong_password"
        r = await c.post("/api/v1/auth/password",
                         json={"current_password": PW, "new_password": "x" * 20})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # The session itself keeps working; only the guessing stops.
        assert (await c.get("/api/v1/auth/me")).status_code == 200
