"""No secret in the logs: a live `citewise serve` (JSON logs at the shipped level, INFO, uvicorn's own
lines included) goes through a session of sign-ups, good and bad sign-ins, key creation and use,
token refresh, a password change, an admin reset, an invite, an LLM key saved and tested, uploads
and chats; then every secret that crossed the wire is looked for in everything the process wrote."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.security.live import citewise_serve

ALICE_PW = "alice original passphrase 41"
ALICE_NEW_PW = "alice second passphrase 77"
BOB_PW = "bob's own passphrase 19"
BOB_RESET_PW = "bob temporary passphrase 23"
WRONG_PW = "alice original passphrase 42"  # a near miss: a log of failed attempts would show it
LLM_KEY = "sk-logscan-" + "q7Zr" * 10
JUNK_BEARER = "junk-bearer-Xq9Pz3Lw8Rt5Ym2Kc6Vb"


def _wait_ready(c: httpx.Client, doc_id: str) -> None:
    deadline = time.monotonic() + 300
    while (status := c.get(f"/api/v1/documents/{doc_id}").json()["status"]) not in ("ready", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert status == "ready"


def _signed_in(base: str, email: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60)
    r = c.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = c.cookies["cw_csrf"]
    return c


def _cookies(c: httpx.Client) -> list[str]:
    return [cookie.value for cookie in c.cookies.jar]


def test_a_whole_session_leaves_no_secret_in_the_logs(tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tmp_path_factory.mktemp("log-scan")
    log = data / "serve.log"
    secrets: dict[str, str] = {"server secret": TEST_SECRET, "alice password": ALICE_PW,
                               "alice new password": ALICE_NEW_PW, "bob password": BOB_PW,
                               "bob reset password": BOB_RESET_PW, "wrong password": WRONG_PW,
                               "llm key": LLM_KEY, "junk bearer": JUNK_BEARER}
    with citewise_serve(data, {"CITEWISE_LOG_JSON": "true", "CITEWISE_LOG_LEVEL": "INFO"}, log) as base:
        with httpx.Client(base_url=base, timeout=60) as anon:
            for email, pw in [("alice@example.com", ALICE_PW), ("bob@example.com", BOB_PW)]:
                assert anon.post("/api/v1/auth/register", json={"email": email, "password": pw}
                                 ).status_code == 202
            assert anon.post("/api/v1/auth/login", json={"email": "alice@example.com",
                                                         "password": WRONG_PW}).status_code == 401
            assert anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {JUNK_BEARER}"}
                            ).status_code == 401
        alice = _signed_in(base, "alice@example.com", ALICE_PW)  # the first account: administrator
        bob = _signed_in(base, "bob@example.com", BOB_PW)
        for i, cookie in enumerate(_cookies(alice) + _cookies(bob)):
            secrets[f"session cookie {i}"] = cookie

        r = alice.post("/api/v1/auth/api-keys", json={"name": "scanner", "scopes": ["write"]})
        assert r.status_code == 201
        key = r.json()["key"]
        # The first 10 characters are the key's public label (shown in lists and the audit log).
        secrets["api key"], secrets["api key secret part"] = key, key[10:]
        program = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"})
        r = program.post("/api/v1/documents", files=[("files", ("tides.md",
                         b"# Tides\n\nThe harbour's spring tide peaks at dawn on the equinox.\n", "text/markdown"))])
        assert r.status_code == 202, r.text
        _wait_ready(program, r.json()["documents"][0]["id"])
        assert program.post("/api/v1/search", json={"query": "spring tide"}).status_code == 200
        conv = program.post("/api/v1/conversations", json={}).json()["id"]
        r = program.post(f"/api/v1/conversations/{conv}/messages", json={"content": "When is the spring tide?"},
                         headers={"Accept": "text/event-stream"})
        assert r.status_code == 200

        r = alice.post("/api/v1/documents", files=[("files", ("notes.txt",
                       b"Meeting notes: the lighthouse needs a new lens.\n", "text/plain"))])
        assert r.status_code == 202
        _wait_ready(alice, r.json()["documents"][0]["id"])
        r = alice.post(f"/api/v1/conversations/{conv}/messages", json={"content": "What does the lighthouse need?"},
                       headers={"Accept": "application/json"})
        assert r.status_code == 200

        assert alice.post("/api/v1/auth/refresh").status_code == 200
        alice.headers["X-CSRF-Token"] = alice.cookies["cw_csrf"]
        for i, cookie in enumerate(_cookies(alice)):
            secrets[f"refreshed cookie {i}"] = cookie
        r = alice.post("/api/v1/admin/invites", json={"email": "carol@example.com"})
        assert r.status_code == 201
        secrets["invite token"] = r.json()["token"]
        # Following the invite link: the token is in the query string, which the access log writes.
        with httpx.Client(base_url=base, timeout=60) as invited:
            invited.get(f"/register?invite={secrets['invite token']}")
        r = alice.put("/api/v1/admin/settings", json={"llm": {
            "base_url": "http://127.0.0.1:9/v1", "model": "scan-model", "api_key": LLM_KEY}})
        assert r.status_code == 200, r.text
        r = alice.post("/api/v1/admin/settings/test", json={"target": "llm"})
        assert r.status_code == 200 and r.json()["ok"] is False  # nothing listens there: logged

        bob_id = next(u["id"] for u in alice.get("/api/v1/admin/users").json()["items"]
                      if u["email"] == "bob@example.com")
        assert alice.post(f"/api/v1/admin/users/{bob_id}/reset-password",
                          json={"new_password": BOB_RESET_PW}).status_code == 204
        assert alice.post("/api/v1/auth/password", json={"current_password": ALICE_PW,
                                                         "new_password": ALICE_NEW_PW}).status_code == 204
        assert program.get("/api/v1/documents").status_code == 401  # the key went with the password
        alice = _signed_in(base, "alice@example.com", ALICE_NEW_PW)
        for i, cookie in enumerate(_cookies(alice)):
            secrets[f"new session cookie {i}"] = cookie
        assert alice.post("/api/v1/auth/logout").status_code == 204
        program.close()
        bob.close()
        alice.close()

    text = log.read_text(errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    # The scan is not vacuous: the session was logged, as JSON, requests and audit events alike.
    assert len(records) > 20 and len(records) >= 0.9 * len(lines), lines[:20]
    events = {r.get("event") for r in records}
    assert {"auth.login_failed", "auth.password_changed"} <= events, sorted(map(str, events))
    leaks = [name for name, value in secrets.items() if value and value in text]
    assert not leaks, f"secrets in the log: {leaks}"
