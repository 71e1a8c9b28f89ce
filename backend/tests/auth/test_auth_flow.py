from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient

from app.core.config import ConfigError, Settings
from tests.conftest import TEST_SECRET, login, register

ME = "/api/v1/auth/me"


def _cookie_headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = {}
    for raw in response.headers.get_list("set-cookie"):
        out[raw.split("=", 1)[0]] = raw.lower()
    return out


async def test_register_login_me(client: AsyncClient, anon_client_factory: Any) -> None:
    user = await register(client)
    assert user["email"] == "alice@example.com"
    assert user["role"] == "admin"  # first account administers the installation
    r = await client.get(ME)
    assert r.status_code == 200 and r.json()["id"] == user["id"]

    client.cookies.clear()
    assert (await client.get(ME)).status_code == 401
    r = await login(client, "Alice@Example.com", "correct horse battery")
    assert r.status_code == 200
    assert (await client.get(ME)).json()["email"] == "alice@example.com"
    audit = (await client.get("/api/v1/admin/audit", params={"event": "auth.login"})).json()["items"]
    # One sign-in right after registering (registration starts no session), one just now.
    assert [e["event"] for e in audit] == ["auth.login"] * 2
    assert {e["actor_email"] for e in audit} == {"alice@example.com"}

    async with anon_client_factory() as other:
        second = await register(other, "bob@example.com", "another secret")
    assert second["role"] == "user"


async def test_cookie_flags_and_paths(client: AsyncClient) -> None:
    r = await client.post("/api/v1/auth/register",
                          json={"email": "c@example.com", "password": "correct horse battery"})
    assert r.status_code == 202 and "set-cookie" not in r.headers  # registering starts no session
    r = await login(client, "c@example.com", "correct horse battery")
    cookies = _cookie_headers(r)
    access, refresh, csrf = cookies["cw_access"], cookies["cw_refresh"], cookies["cw_csrf"]
    for c in (access, refresh, csrf):
        assert "secure" in c
    assert "httponly" in access and "path=/;" in access + ";" and "samesite=lax" in access
    assert "httponly" in refresh and "path=/api/v1/auth" in refresh and "samesite=strict" in refresh
    assert "httponly" not in csrf  # the SPA must read it to echo it back


async def test_wrong_password_and_unknown_user_are_indistinguishable(client: AsyncClient) -> None:
    await register(client)
    a = await login(client, "alice@example.com", "wrong password!")
    b = await login(client, "nobody@example.com", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


async def test_login_throttling(client: AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    for _ in range(5):
        assert (await login(client, "alice@example.com", "bad password")).status_code == 401
    r = await login(client, "alice@example.com", "correct horse battery")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["error"] == "too_many_attempts"


async def test_refresh_rotation_and_reuse_revokes_family(
    client: AsyncClient, anon_client_factory
) -> None:  # type: ignore[no-untyped-def]
    await register(client)
    first_refresh = client.cookies.get("cw_refresh", path="/api/v1/auth")
    r = await client.post("/api/v1/auth/refresh")
    assert r.status_code == 200
    second_refresh = client.cookies.get("cw_refresh", path="/api/v1/auth")
    assert second_refresh and second_refresh != first_refresh
    new_access = client.cookies.get("cw_access")
    csrf = client.cookies.get("cw_csrf")

    async def refresh_with(token: str | None) -> int:
        async with anon_client_factory() as c:
            r = await c.post("/api/v1/auth/refresh", headers={
                "Cookie": f"cw_refresh={token}; cw_csrf={csrf}", "X-CSRF-Token": csrf or ""})
            return r.status_code

    # An attacker replays the first (already rotated) token: the whole family is revoked,
    # so the legitimate newer token stops working too...
    assert await refresh_with(first_refresh) == 401
    assert await refresh_with(second_refresh) == 401
    # ...and so does the access token minted from that family.
    async with anon_client_factory() as c:
        assert (await c.get(ME, headers={"Cookie": f"cw_access={new_access}"})).status_code == 401


def _token(**overrides: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": "x", "sid": "y", "typ": "access", "iss": "citewise", "aud": "citewise-api",
        "iat": now, "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, TEST_SECRET,
                      algorithm="HS256")


async def test_bad_tokens_are_rejected(
    client: AsyncClient, anon_client_factory
) -> None:  # type: ignore[no-untyped-def]
    await register(client)
    good = client.cookies.get("cw_access") or ""
    claims = jwt.decode(good, TEST_SECRET, algorithms=["HS256"], audience="citewise-api")
    base = {"sub": claims["sub"], "sid": claims["sid"]}
    header, payload, sig = good.split(".")
    unsigned = jwt.encode({**claims}, key="", algorithm="none")  # type: ignore[arg-type]
    bad = {
        "expired": _token(**base, iat=datetime.now(UTC) - timedelta(hours=2),
                          exp=datetime.now(UTC) - timedelta(hours=1)),
        "tampered": f"{header}.{payload}.{sig[:-4]}AAAA",
        "alg_none": unsigned,
        "wrong_audience": _token(**base, aud="someone-else"),
        "wrong_issuer": _token(**base, iss="evil"),
        "refresh_type": _token(**base, typ="refresh"),
        "missing_sid": _token(sub=claims["sub"], sid=None),
        "opaque_refresh_as_access": client.cookies.get("cw_refresh", path="/api/v1/auth"),
    }
    assert (await client.get(ME)).status_code == 200
    for name, token in bad.items():
        async with anon_client_factory() as c:
            r = await c.get(ME, headers={"Cookie": f"cw_access={token}"})
            assert r.status_code == 401, name
            r = await c.get(ME, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, name


async def test_csrf_required_for_cookie_requests(client: AsyncClient) -> None:
    await register(client)
    csrf = client.headers.pop("X-CSRF-Token")
    r = await client.post("/api/v1/auth/api-keys", json={"name": "k"})
    assert r.status_code == 403 and r.json()["error"] == "csrf_failed"
    r = await client.post("/api/v1/auth/api-keys", json={"name": "k"},
                          headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = await client.post("/api/v1/auth/api-keys", json={"name": "k"},
                          headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201


async def test_cross_origin_post_refused(client: AsyncClient) -> None:
    r = await client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x"},
                          headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"] == "bad_origin"
    r = await client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x"},
                          headers={"Origin": "https://testserver"})
    assert r.status_code == 401


async def test_logout_ends_session(
    client: AsyncClient, anon_client_factory
) -> None:  # type: ignore[no-untyped-def]
    await register(client)
    access = client.cookies.get("cw_access")
    refresh = client.cookies.get("cw_refresh", path="/api/v1/auth")
    csrf = client.cookies.get("cw_csrf") or ""
    r = await client.post("/api/v1/auth/logout")
    assert r.status_code == 204
    assert any(c.startswith("cw_access=\"\"") or "max-age=0" in c.lower()
               for c in r.headers.get_list("set-cookie"))
    async with anon_client_factory() as c:
        assert (await c.get(ME, headers={"Cookie": f"cw_access={access}"})).status_code == 401
        r = await c.post("/api/v1/auth/refresh", headers={
            "Cookie": f"cw_refresh={refresh}; cw_csrf={csrf}", "X-CSRF-Token": csrf})
        assert r.status_code == 401


async def test_password_change_ends_other_sessions(
    client: AsyncClient, anon_client_factory
) -> None:  # type: ignore[no-untyped-def]
    await register(client)
    async with anon_client_factory() as other:
        assert (await login(other, "alice@example.com", "correct horse battery")).status_code == 200
        r = await client.post("/api/v1/auth/password", json={
            "current_password": "correct horse battery", "new_password": "new long password"})
        assert r.status_code == 204
        assert (await other.get(ME)).status_code == 401
    assert (await client.get(ME)).status_code == 200
    client.cookies.clear()
    assert (await login(client, "alice@example.com", "new long password")).status_code == 200


async def test_api_keys(client: AsyncClient, anon_client_factory) -> None:  # type: ignore[no-untyped-def]
    await register(client)
    r = await client.post("/api/v1/auth/api-keys", json={"name": "script"})
    created = r.json()
    assert created["key"].startswith("cw_")
    listed = (await client.get("/api/v1/auth/api-keys")).json()["items"]
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]
    async with anon_client_factory() as program:
        headers = {"Authorization": f"Bearer {created['key']}"}
        assert (await program.get(ME, headers=headers)).status_code == 200
        # API keys need no CSRF header: they are not ambient credentials; none may mint keys.
        assert (await program.post("/api/v1/auth/api-keys", json={"name": "x"},
                                   headers=headers)).status_code == 403
        assert (await client.delete(f"/api/v1/auth/api-keys/{created['id']}")).status_code == 204
        assert (await program.get(ME, headers=headers)).status_code == 401


async def test_weak_password_rejected(client: AsyncClient) -> None:
    r = await client.post("/api/v1/auth/register", json={"email": "w@example.com", "password": "short"})
    assert r.status_code == 400 and "at least" in r.json()["detail"]


def test_production_refuses_default_or_missing_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app

    prod = {"mode": "production", "data_dir": tmp_path, "database_url": "postgresql+asyncpg://x/y",
            "redis_url": "redis://localhost", "chroma_url": "http://localhost:8000"}
    for secret in (None, "changeme", "short-secret"):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app(Settings(**prod, secret_key=secret))
    create_app(Settings(**prod, secret_key="kP3v-9xQz_Lm2Rt8Wc5Yb1Nd7Hf4Gj6Sa0Ue"))
    with pytest.raises(ConfigError, match="CHROMA_URL"):
        Settings(mode="production", database_url="postgresql+asyncpg://x/y", redis_url="redis://x")


def test_embedded_secret_generated_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = Settings(data_dir=tmp_path).secret
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path).secret == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    time.sleep(0)


async def test_a_signed_in_request_reads_its_session_and_user_in_one_statement(
        client: AsyncClient, api_app: Any) -> None:
    # Every authenticated request checks its sign-in session and its user; one round trip does
    # both (the request path's fixed cost, docs/benchmarks.md §5b 2026-12-06). A revoked session
    # and a deactivated user are still refused.
    from sqlalchemy import event, update

    from app.auth.models import AuthSession, User

    user = await register(client)
    engine = api_app.state.container.engine.sync_engine
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert (await client.get(ME)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    reads = [s for s in sent if "FROM auth_sessions" in s or "FROM users" in s]
    assert len(reads) == 1 and "JOIN users" in reads[0], sent

    async with api_app.state.container.sessions() as session:
        await session.execute(update(User).where(User.id == user["id"]).values(is_active=False))
        await session.commit()
    r = await client.get(ME)
    assert r.status_code == 401 and r.json()["error"] == "account_disabled"
    async with api_app.state.container.sessions() as session:
        await session.execute(update(User).where(User.id == user["id"]).values(is_active=True))
        await session.execute(update(AuthSession).values(revoked_at=datetime.now(UTC)))
        await session.commit()
    r = await client.get(ME)
    assert r.status_code == 401 and r.json()["error"] == "session_revoked"
