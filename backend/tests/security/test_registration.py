"""Finding 6 (the rest): registration does not reveal whether an address has an account.

Before: a taken address got 409 `email_taken` and a new one 201 with a session. Now both get the
same 202 with no session, after the same work (one Argon2 hash); the person signs in next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select

from app.core import security
from app.platform.models import AuditEntry
from tests.conftest import login, register

REGISTER = "/api/v1/auth/register"
PW = "correct horse battery"
VOLATILE = {"date", "x-request-id", "content-length"}


def _shape(r: Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in r.headers.items() if k not in VOLATILE}
    return r.status_code, headers, r.json()


async def test_taken_and_new_addresses_get_the_same_answer(
        fresh: Any, client_at: Callable[[str], AsyncClient], monkeypatch: pytest.MonkeyPatch) -> None:
    hashes: list[str] = []
    real_hash = security.hash_password

    def counting_hash(password: str) -> str:
        hashes.append(password)
        return real_hash(password)

    async with client_at("192.0.2.80") as owner:
        await register(owner, "alice@example.com")
    monkeypatch.setattr(security, "hash_password", counting_hash)
    async with client_at("192.0.2.81") as probe:
        taken = await probe.post(REGISTER, json={"email": "Alice@Example.com", "password": "guessing pw 1"})
        taken_hashes = len(hashes)
        new = await probe.post(REGISTER, json={"email": "nobody@example.com", "password": "guessing pw 1"})
        new_hashes = len(hashes) - taken_hashes
        assert probe.cookies.get("cw_access") is None  # neither answer started a session
    assert taken.status_code == 202, taken.text
    assert _shape(taken) == _shape(new)
    assert "set-cookie" not in taken.headers and "set-cookie" not in new.headers
    assert taken_hashes == new_hashes == 1  # the same Argon2 work on both paths

    # The owner's account is untouched: the prober's password opens nothing.
    async with client_at("192.0.2.82") as c:
        assert (await login(c, "alice@example.com", "guessing pw 1")).status_code == 401
        assert (await login(c, "alice@example.com", PW)).status_code == 200
    # Administrators can see the attempt.
    async with fresh.state.container.sessions() as s:
        events = list((await s.execute(select(AuditEntry.event, AuditEntry.target)
                                       .where(AuditEntry.event == "auth.register_existing"))).all())
    assert events == [("auth.register_existing", "alice@example.com")]


async def test_the_new_account_signs_in_with_what_was_registered(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.83") as c:
        r = await c.post(REGISTER, json={"email": "new@example.com", "password": PW,
                                         "display_name": "New Person"})
        assert r.status_code == 202
        assert "sign in" in r.json()["detail"]
        r = await login(c, "new@example.com", PW)
        assert r.status_code == 200 and r.json()["display_name"] == "New Person"


async def test_refusals_do_not_depend_on_the_address(
        fresh: Any, client_at: Callable[[str], AsyncClient]) -> None:
    async with client_at("192.0.2.84") as owner, client_at("192.0.2.85") as probe:
        await register(owner, "alice@example.com")
        weak = [await probe.post(REGISTER, json={"email": e, "password": "short"})
                for e in ("alice@example.com", "nobody@example.com")]
        assert [r.status_code for r in weak] == [400, 400] and weak[0].json() == weak[1].json()
        r = await owner.put("/api/v1/admin/settings", json={"registration": {"mode": "closed"}})
        assert r.status_code == 200, r.text
        closed = [await probe.post(REGISTER, json={"email": e, "password": PW})
                  for e in ("alice@example.com", "nobody@example.com")]
        assert [r.status_code for r in closed] == [403, 403] and closed[0].json() == closed[1].json()
