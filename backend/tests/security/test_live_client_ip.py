"""Finding 2 against a live `citewise serve`: a real uvicorn process on loopback, configured the way
the shipped compose deployment is (one trusted proxy address, and the old `FORWARDED_ALLOW_IPS="*"`
still in its environment to prove it no longer matters).

Loopback has many addresses: the attacker connects from 127.0.0.2, "Nginx" from 127.0.0.10 (the one
address CITEWISE_TRUSTED_PROXIES names). Before the fix (uvicorn's proxy_headers with `*`), every
forged X-Forwarded-For got a fresh login budget and its own line in the audit log.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.live import citewise_serve

PROXY = "127.0.0.10"
ATTACKER = "127.0.0.2"
PER_IP = 4  # failed logins an address may make in the window


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`citewise serve` behind one trusted proxy address; yields its base URL and its SQLite file."""
    data = tmp_path_factory.mktemp("live-ip")
    with citewise_serve(data, {
        "CITEWISE_TRUSTED_PROXIES": f'["{PROXY}"]',
        "FORWARDED_ALLOW_IPS": "*",  # what compose shipped; uvicorn must not act on it
        "CITEWISE_LOGIN_MAX_FAILURES_PER_IP": str(PER_IP),
        "CITEWISE_LOGIN_MAX_FAILURES_PER_ACCOUNT": "50",
    }, data / "serve.log") as base:
        yield base, data / "citewise.db"


def _client(base: str, source: str) -> httpx.Client:
    """A client whose TCP connections come from `source` (a loopback address)."""
    return httpx.Client(base_url=base, timeout=30,
                        transport=httpx.HTTPTransport(local_address=source))


def _failed_login_ips(db: Path, email_prefix: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT ip FROM audit_log WHERE event = 'auth.login_failed' "
                            "AND target LIKE ?", (f"{email_prefix}%",)).fetchall()
    return {r[0] for r in rows}


def _fail_login(c: httpx.Client, email: str, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    r = c.post("/api/v1/auth/login", json={"email": email, "password": "wrong password"},
               headers=headers)
    return r.status_code


def test_forged_forwarded_for_neither_dodges_the_throttle_nor_reaches_the_audit_log(
        live: tuple[str, Path]) -> None:
    base, db = live
    with _client(base, ATTACKER) as attacker:
        statuses = [_fail_login(attacker, f"spoof{i}@example.com", f"203.0.113.{i}")
                    for i in range(PER_IP + 3)]
        assert statuses == [401] * PER_IP + [429] * 3, statuses
        # The throttle keys on the socket address: a forged header does not reset it either.
        assert _fail_login(attacker, "victim@example.com", "198.51.100.200") == 429
    assert _failed_login_ips(db, "spoof") == {ATTACKER}


def test_the_configured_proxy_is_believed(live: tuple[str, Path]) -> None:
    base, db = live
    with _client(base, PROXY) as nginx:
        # Nginx overwrites X-Forwarded-For with the address it saw ($remote_addr).
        statuses = [_fail_login(nginx, f"viaproxy{i}@example.com", "198.51.100.7")
                    for i in range(PER_IP + 1)]
        assert statuses == [401] * PER_IP + [429], statuses
        # Another client behind the same proxy has its own budget.
        assert _fail_login(nginx, "viaproxy-other@example.com", "198.51.100.8") == 401
    assert _failed_login_ips(db, "viaproxy") == {"198.51.100.7", "198.51.100.8"}
