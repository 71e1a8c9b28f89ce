"""Single sign-on against a real OpenID provider (oidc-provider on loopback, tests/oidc_provider.py):
the full authorization code flow with PKCE, and every check refusing a tampered or foreign answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric import rsa
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from app.auth import oidc
from app.auth.models import User
from app.core.config import Settings
from app.providers.oidc.base import OidcError
from app.providers.oidc.oidc_client import OidcClient
from tests.conftest import login, register, truncate_all
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    KID,
    OTHER_CLIENT_ID,
    Provider,
    free_port,
    run_provider,
    sign_in_at_provider,
)

CALLBACK = "https://testserver/api/v1/auth/oidc/callback"
ADMIN_PASSWORD = "admin password 1"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with run_provider(tmp_path_factory.mktemp("oidc"), [CALLBACK]) as p:
        yield p


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def sso_app(request: pytest.FixtureRequest, provider: Provider,
                  backend_settings: Callable[..., Settings]) -> AsyncIterator[Any]:
    from app.main import create_app

    settings = backend_settings(
        request.param, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET, oidc_scopes="openid email profile groups",
        oidc_provider_name="Test IdP", oidc_redirect_uri=CALLBACK,
        oidc_group_map={"eng": "Engineering", "sales": "Sales"})
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60):
        yield app


@pytest.fixture
async def browser(sso_app: Any) -> AsyncIterator[AsyncClient]:
    await truncate_all(sso_app)
    async with AsyncClient(transport=ASGITransport(app=sso_app, client=("10.1.2.3", 1234)),
                           base_url="https://testserver") as c:
        yield c


def new_browser(app: Any) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app, client=("10.1.2.4", 1234)),
                       base_url="https://testserver")


async def start(client: AsyncClient, **params: str) -> str:
    r = await client.get("/api/v1/auth/oidc/login", params=params)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


async def sso_sign_in(client: AsyncClient, login_name: str, **params: str) -> Any:
    callback = await sign_in_at_provider(await start(client, **params), login_name)
    return await client.get(callback.removeprefix("https://testserver"))


def set_flow_cookie(client: AsyncClient, value: str | None) -> None:
    """Replace the browser's flow cookie (what an attacker who can write cookies would do)."""
    for cookie in list(client.cookies.jar):
        if cookie.name == oidc.FLOW_COOKIE:
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    client.cookies.set(oidc.FLOW_COOKIE, value or "", domain="testserver.local",
                       path=oidc.FLOW_COOKIE_PATH)


def sso_error(response: Any) -> str | None:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    if location.path != "/login":
        return None
    return parse_qs(location.query)["sso_error"][0]


async def make_admin(app: Any) -> AsyncClient:
    """The installation's first account (an administrator), signed in with a password."""
    admin = new_browser(app)
    await register(admin, "root@example.com", ADMIN_PASSWORD)
    return admin


async def users(app: Any) -> dict[str, User]:
    async with app.state.container.sessions() as session:
        return {u.email: u for u in (await session.execute(select(User))).scalars()}


# ---- the flow ----------------------------------------------------------------------------------

async def test_config_says_sso_is_on(browser: AsyncClient) -> None:
    body = (await browser.get("/api/v1/config")).json()
    assert body["sso_enabled"] is True and body["sso_label"] == "Sign in with Test IdP"
    assert body["password_login"] is True


async def test_login_redirects_with_pkce_state_and_nonce(browser: AsyncClient,
                                                         provider: Provider) -> None:
    url = urlsplit(await start(browser))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == provider.issuer and url.path == "/auth"
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == CALLBACK and "groups" in query["scope"].split()
    assert len(query["state"]) >= 40 and len(query["nonce"]) >= 40
    flow_cookie = next(c for c in browser.cookies.jar if c.name == oidc.FLOW_COOKIE)
    assert flow_cookie.path == oidc.FLOW_COOKIE_PATH and flow_cookie.secure
    # Every sign-in gets its own state, nonce and verifier.
    again = {k: v[0] for k, v in parse_qs(urlsplit(await start(browser)).query).items()}
    assert {again["state"], again["nonce"], again["code_challenge"]}.isdisjoint(
        {query["state"], query["nonce"], query["code_challenge"]})


async def test_first_sign_in_creates_the_user_and_the_usual_session(browser: AsyncClient,
                                                                    sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    r = await sso_sign_in(browser, "alice", next="/documents")
    assert sso_error(r) is None and r.headers["location"] == "/documents"
    assert browser.cookies.get("cw_access") and browser.cookies.get("cw_csrf")
    assert not any(c.name == oidc.FLOW_COOKIE for c in browser.cookies.jar)  # used once, gone
    me = (await browser.get("/api/v1/auth/me")).json()
    assert me["email"] == "alice@example.com" and me["display_name"] == "Alice Example"
    assert me["role"] == "user"
    # The same cookie session as a password sign-in: refresh rotation works.
    browser.headers["X-CSRF-Token"] = browser.cookies.get("cw_csrf") or ""
    assert (await browser.post("/api/v1/auth/refresh")).status_code == 200
    # The account has no password that could be guessed.
    assert (await login(new_browser(sso_app), "alice@example.com", "")).status_code in (401, 422)
    # Signing in again finds the same account.
    again = new_browser(sso_app)
    assert sso_error(await sso_sign_in(again, "alice")) is None
    assert (await again.get("/api/v1/auth/me")).json()["id"] == me["id"]
    accounts = await users(sso_app)
    assert accounts["alice@example.com"].oidc_subject == "alice"
    audit = (await admin.get("/api/v1/admin/audit", params={"page_size": 100})).json()["items"]
    events = [e["event"] for e in audit]
    assert events.count("auth.sso_login") == 2 and "user.registered" in events


async def test_next_never_leaves_the_app(browser: AsyncClient, sso_app: Any) -> None:
    await make_admin(sso_app)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = await sso_sign_in(new_browser(sso_app), "alice", next=evil)
        assert r.headers["location"] == "/", evil


async def test_an_existing_account_is_linked_by_its_verified_email(browser: AsyncClient,
                                                                  sso_app: Any) -> None:
    await make_admin(sso_app)
    local = new_browser(sso_app)
    created = await register(local, "alice@example.com", "alice password 1")
    assert sso_error(await sso_sign_in(browser, "alice")) is None
    assert (await browser.get("/api/v1/auth/me")).json()["id"] == created["id"]
    # Her password keeps working.
    assert (await login(new_browser(sso_app), "alice@example.com", "alice password 1")).status_code == 200


async def test_the_first_account_of_an_installation_is_its_admin(browser: AsyncClient) -> None:
    assert sso_error(await sso_sign_in(browser, "dave")) is None
    assert (await browser.get("/api/v1/auth/me")).json()["role"] == "admin"


async def group_members(admin: AsyncClient) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for group in (await admin.get("/api/v1/admin/groups")).json()["items"]:
        r = await admin.get(f"/api/v1/admin/groups/{group['id']}/members")
        out[group["name"]] = {m["email"] for m in r.json()["items"]}
    return out


async def test_provider_groups_map_to_citewise_groups(browser: AsyncClient, sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    admin.headers["X-CSRF-Token"] = admin.cookies.get("cw_csrf") or ""
    # A collection shared with the mapped group before anyone is in it.
    engineering = (await admin.post("/api/v1/admin/groups", json={"name": "Engineering"})).json()
    shared = (await admin.post("/api/v1/collections", json={"name": "Runbooks"})).json()
    r = await admin.put(f"/api/v1/collections/{shared['id']}/members",
                        json={"group_id": engineering["id"], "role": "viewer"})
    assert r.status_code in (200, 201, 204), r.text

    assert sso_error(await sso_sign_in(browser, "alice")) is None  # claim: eng, everyone
    alice = (await browser.get("/api/v1/auth/me")).json()
    assert [c["name"] for c in (await browser.get("/api/v1/collections")).json()["items"]] == ["Runbooks"]
    # An admin puts her in a group the mapping does not name, and in a mapped one her claim lacks.
    other = (await admin.post("/api/v1/admin/groups", json={"name": "Other"})).json()
    sales = (await admin.post("/api/v1/admin/groups", json={"name": "Sales"})).json()
    for group in (other, sales):
        r = await admin.put(f"/api/v1/admin/groups/{group['id']}/members",
                            json={"user_id": alice["id"]})
        assert r.status_code == 204, r.text
    assert sso_error(await sso_sign_in(new_browser(sso_app), "alice")) is None
    members = await group_members(admin)
    assert members["Engineering"] == {"alice@example.com"}
    assert members["Other"] == {"alice@example.com"}  # not mapped: never touched
    assert members["Sales"] == set()  # mapped, not in her claim: left
    # bob's claim names no mapped group; dave's provider sends no groups claim at all.
    assert sso_error(await sso_sign_in(new_browser(sso_app), "bob")) is None
    assert sso_error(await sso_sign_in(new_browser(sso_app), "dave")) is None
    assert (await group_members(admin))["Engineering"] == {"alice@example.com"}
    events = [e for e in (await admin.get("/api/v1/admin/audit", params={"page_size": 200})).json()["items"]
              if e["event"] == "group.sso_synced"]
    assert [e["details"] for e in reversed(events)] == [
        {"joined": ["Engineering"], "left": []}, {"joined": [], "left": ["Sales"]}]


async def test_a_mapped_group_is_created_at_first_need(browser: AsyncClient, sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    assert sso_error(await sso_sign_in(browser, "alice")) is None
    members = await group_members(admin)
    assert members == {"Engineering": {"alice@example.com"}}  # "Sales" is not needed yet


# ---- tampering and foreign answers ---------------------------------------------------------------

async def test_a_changed_state_is_refused(browser: AsyncClient, sso_app: Any) -> None:
    callback = await sign_in_at_provider(await start(browser), "alice")
    forged = callback.replace("state=", "state=x")
    r = await browser.get(forged.removeprefix("https://testserver"))
    assert sso_error(r) == "sso_state_mismatch"
    assert not browser.cookies.get("cw_access") and "alice@example.com" not in await users(sso_app)


async def test_an_answer_for_another_browser_is_refused(browser: AsyncClient, sso_app: Any) -> None:
    """Login CSRF: a victim's browser must not accept the attacker's code (no flow cookie there)."""
    callback = await sign_in_at_provider(await start(browser), "alice")
    async with new_browser(sso_app) as victim:
        r = await victim.get(callback.removeprefix("https://testserver"))
        assert sso_error(r) == "sso_state_mismatch" and not victim.cookies.get("cw_access")


async def test_a_wrong_pkce_verifier_is_refused_by_the_provider(browser: AsyncClient,
                                                                sso_app: Any) -> None:
    settings = sso_app.state.container.settings
    callback = await sign_in_at_provider(await start(browser), "alice")
    real = oidc.decode_flow(settings, browser.cookies.get(oidc.FLOW_COOKIE))
    forged = oidc.Flow(state=real.state, nonce=real.nonce, verifier="x" * 64,
                       next_path="/", invite=None)
    set_flow_cookie(browser, oidc.encode_flow(settings, forged))
    r = await browser.get(callback.removeprefix("https://testserver"))
    assert sso_error(r) == "sso_token_failed"
    assert "alice@example.com" not in await users(sso_app)


async def test_a_wrong_nonce_is_refused(browser: AsyncClient, sso_app: Any) -> None:
    settings = sso_app.state.container.settings
    callback = await sign_in_at_provider(await start(browser), "alice")
    real = oidc.decode_flow(settings, browser.cookies.get(oidc.FLOW_COOKIE))
    forged = oidc.Flow(state=real.state, nonce="another-sign-in", verifier=real.verifier,
                       next_path="/", invite=None)
    set_flow_cookie(browser, oidc.encode_flow(settings, forged))
    assert sso_error(await browser.get(callback.removeprefix("https://testserver"))) == \
        "sso_nonce_mismatch"


async def test_a_replayed_callback_is_refused(browser: AsyncClient, sso_app: Any) -> None:
    settings = sso_app.state.container.settings
    callback = await sign_in_at_provider(await start(browser), "alice")
    flow_cookie = browser.cookies.get(oidc.FLOW_COOKIE)
    assert sso_error(await browser.get(callback.removeprefix("https://testserver"))) is None
    # The flow cookie is gone, so the same answer is refused; even with the cookie put back, the
    # provider refuses the used code.
    assert sso_error(await browser.get(callback.removeprefix("https://testserver"))) == \
        "sso_state_mismatch"
    assert oidc.decode_flow(settings, flow_cookie).state
    set_flow_cookie(browser, flow_cookie or "")
    assert sso_error(await browser.get(callback.removeprefix("https://testserver"))) == \
        "sso_token_failed"


async def test_a_forged_flow_cookie_is_refused(browser: AsyncClient, sso_app: Any) -> None:
    callback = await sign_in_at_provider(await start(browser), "alice")
    real = oidc.decode_flow(sso_app.state.container.settings, browser.cookies.get(oidc.FLOW_COOKIE))
    # Same contents, signed with another key: an attacker cannot choose the verifier or nonce.
    other = Settings(secret_key="another-installation-secret-" + "y" * 30, data_dir=Path("/tmp"))
    set_flow_cookie(browser, oidc.encode_flow(other, real))
    assert sso_error(await browser.get(callback.removeprefix("https://testserver"))) == \
        "sso_state_mismatch"


async def test_an_answer_from_another_issuer_is_refused(browser: AsyncClient) -> None:
    callback = await sign_in_at_provider(await start(browser), "alice")
    mixed = callback.replace("iss=http", "iss=http%3A%2F%2Fevil.example%2F&x=http")
    assert sso_error(await browser.get(mixed.removeprefix("https://testserver"))) == \
        "sso_state_mismatch"


async def test_a_provider_error_is_explained(browser: AsyncClient, sso_app: Any) -> None:
    url = await start(browser)
    state = parse_qs(urlsplit(url).query)["state"][0]
    r = await browser.get("/api/v1/auth/oidc/callback",
                          params={"error": "access_denied", "state": state})
    assert sso_error(r) == "sso_denied"


async def test_an_unverified_email_gets_no_account(browser: AsyncClient, sso_app: Any) -> None:
    await make_admin(sso_app)
    assert sso_error(await sso_sign_in(browser, "carol")) == "sso_email_unverified"
    assert "carol@example.com" not in await users(sso_app)


async def test_a_deactivated_account_cannot_sign_in(browser: AsyncClient, sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    assert sso_error(await sso_sign_in(browser, "alice")) is None
    alice = (await users(sso_app))["alice@example.com"]
    admin.headers["X-CSRF-Token"] = admin.cookies.get("cw_csrf") or ""
    r = await admin.patch(f"/api/v1/admin/users/{alice.id}", json={"is_active": False})
    assert r.status_code == 200, r.text
    assert sso_error(await sso_sign_in(new_browser(sso_app), "alice")) == "sso_account_disabled"


# ---- registration policy and password sign-in --------------------------------------------------

async def put_settings(admin: AsyncClient, body: dict[str, Any]) -> Any:
    admin.headers["X-CSRF-Token"] = admin.cookies.get("cw_csrf") or ""
    return await admin.put("/api/v1/admin/settings", json=body)


async def test_domain_restriction_applies_to_sso(browser: AsyncClient, sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    r = await put_settings(admin, {"registration": {"mode": "domains",
                                                    "allowed_domains": ["Example.com"]}})
    assert r.status_code == 200 and r.json()["registration"]["allowed_domains"] == ["example.com"]
    assert sso_error(await sso_sign_in(browser, "bob")) == "sso_registration_domain"
    assert sso_error(await sso_sign_in(new_browser(sso_app), "alice")) is None
    assert set(await users(sso_app)) == {"root@example.com", "alice@example.com"}


async def test_invite_only_admits_sso_with_an_invite(browser: AsyncClient, sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    assert (await put_settings(admin, {"registration": {"mode": "invite"}})).status_code == 200
    assert sso_error(await sso_sign_in(browser, "bob")) == "sso_invite_required"
    r = await admin.post("/api/v1/admin/invites", json={"email": "bob@other.org"})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    # Bound to bob's address: alice cannot use it, and trying does not use it up.
    assert sso_error(await sso_sign_in(new_browser(sso_app), "alice", invite=token)) == \
        "sso_invite_email_mismatch"
    assert sso_error(await sso_sign_in(new_browser(sso_app), "bob", invite=token)) is None
    listed = (await admin.get("/api/v1/admin/invites")).json()["items"]
    assert [i["status"] for i in listed] == ["used"]


async def test_closed_registration_refuses_new_sso_accounts(browser: AsyncClient,
                                                            sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    assert (await put_settings(admin, {"registration": {"mode": "closed"}})).status_code == 200
    assert sso_error(await sso_sign_in(browser, "alice")) == "sso_registration_closed"


async def test_password_login_can_be_turned_off(browser: AsyncClient, sso_app: Any) -> None:
    admin = await make_admin(sso_app)
    r = await put_settings(admin, {"password_login": False})
    assert r.status_code == 200 and r.json()["password_login_enabled"] is False
    assert (await browser.get("/api/v1/config")).json()["password_login"] is False
    r = await login(new_browser(sso_app), "root@example.com", ADMIN_PASSWORD)
    assert r.status_code == 403 and r.json()["error"] == "password_login_disabled"
    r = await new_browser(sso_app).post("/api/v1/auth/register",
                                        json={"email": "new@example.com", "password": "new pass 12"})
    assert r.status_code == 403 and r.json()["error"] == "password_login_disabled"
    # SSO still signs people in, and the admin's existing session still works.
    assert sso_error(await sso_sign_in(browser, "alice")) is None
    assert (await admin.get("/api/v1/admin/settings")).status_code == 200
    assert (await put_settings(admin, {"password_login": True})).status_code == 200
    assert (await login(new_browser(sso_app), "root@example.com", ADMIN_PASSWORD)).status_code == 200


# ---- the ID token checks, against the provider's real key set ------------------------------------

def mint(provider: Provider, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": provider.issuer, "sub": "alice", "aud": CLIENT_ID, "iat": now,
              "exp": now + 300, "nonce": "n-1", **overrides}
    return jwt.encode({k: v for k, v in claims.items() if v is not None},
                      key or provider.private_key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture
async def verifier(provider: Provider) -> AsyncIterator[OidcClient]:
    client = OidcClient(issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                        scopes="openid", timeout=5)
    yield client
    await client.aclose()


async def test_a_well_formed_token_passes(verifier: OidcClient, provider: Provider) -> None:
    assert (await verifier.verify_id_token(mint(provider), nonce="n-1"))["sub"] == "alice"


@pytest.mark.parametrize("case", ["foreign_key", "expired", "audience", "issuer", "nonce",
                                  "no_nonce", "alg_none", "hmac_with_secret", "not_a_jwt",
                                  "several_audiences_without_azp"])
async def test_a_bad_id_token_is_refused(case: str, verifier: OidcClient, provider: Provider) -> None:
    now = int(time.time())
    token = {
        "foreign_key": lambda: mint(provider, rsa.generate_private_key(public_exponent=65537,
                                                                       key_size=2048)),
        "expired": lambda: mint(provider, iat=now - 3600, exp=now - 600),
        "audience": lambda: mint(provider, aud=OTHER_CLIENT_ID),
        "issuer": lambda: mint(provider, iss="http://127.0.0.1:1"),
        "nonce": lambda: mint(provider, nonce="n-2"),
        "no_nonce": lambda: mint(provider, nonce=None),
        "alg_none": lambda: jwt.encode({"iss": provider.issuer, "sub": "alice", "aud": CLIENT_ID,
                                        "iat": now, "exp": now + 300, "nonce": "n-1"},
                                       None, algorithm="none", headers={"kid": KID}),
        "hmac_with_secret": lambda: jwt.encode({"iss": provider.issuer, "sub": "alice",
                                                "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                                                "nonce": "n-1"}, CLIENT_SECRET, algorithm="HS256",
                                               headers={"kid": KID}),
        "not_a_jwt": lambda: "not.a.jwt",
        "several_audiences_without_azp": lambda: mint(provider, aud=[CLIENT_ID, OTHER_CLIENT_ID]),
    }[case]()
    with pytest.raises(OidcError) as caught:
        await verifier.verify_id_token(token, nonce="n-1")
    expected = "sso_nonce_mismatch" if case in ("nonce", "no_nonce") else "sso_id_token_invalid"
    assert caught.value.code == expected, caught.value.detail


async def test_an_unreachable_provider_is_a_clear_error(tmp_path: Path) -> None:
    dead = OidcClient(issuer=f"http://127.0.0.1:{free_port()}", client_id=CLIENT_ID,
                      client_secret=None, scopes="openid", timeout=2)
    settings = Settings(secret_key="test-secret-" + "z" * 40, data_dir=tmp_path)
    try:
        with pytest.raises(oidc.SsoFailed) as caught:
            await oidc.begin(settings, dead, redirect_uri=CALLBACK, next_path=None, invite=None)
        assert caught.value.code == "sso_unavailable"
    finally:
        await dead.aclose()


async def test_a_discovery_document_for_another_issuer_is_refused(provider: Provider) -> None:
    # The provider answers discovery at this URL too, but names its real issuer (no trailing path).
    client = OidcClient(issuer=provider.issuer.replace("127.0.0.1", "localhost"), client_id=CLIENT_ID,
                        client_secret=None, scopes="openid", timeout=5)
    try:
        with pytest.raises(OidcError) as caught:
            await client.metadata()
        assert caught.value.code == "sso_unavailable" and "issuer" in caught.value.detail
    finally:
        await client.aclose()


# ---- without single sign-on ----------------------------------------------------------------------

async def test_without_sso_the_routes_say_so_and_password_login_stays(client: AsyncClient) -> None:
    body = (await client.get("/api/v1/config")).json()
    assert body["sso_enabled"] is False and body["sso_label"] is None and body["password_login"]
    assert sso_error(await client.get("/api/v1/auth/oidc/login")) == "sso_disabled"
    assert sso_error(await client.get("/api/v1/auth/oidc/callback",
                                      params={"code": "x", "state": "y"})) == "sso_disabled"
    await register(client, "root@example.com", ADMIN_PASSWORD)
    r = await put_settings(client, {"password_login": False})
    assert r.status_code == 400 and r.json()["error"] == "sso_not_configured"
