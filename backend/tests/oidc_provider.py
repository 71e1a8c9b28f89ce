"""A real OpenID Connect provider for the tests: `oidc-provider` (npm) run by node on loopback.

`make test` installs it (`npm ci` in tests/oidc). The provider is started per test session with
the clients and accounts below, and a signing key the tests also hold, so they can mint tokens the
provider's published JWKS vouches for (expired, wrong audience, wrong issuer) to test the checks.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "citewise"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
OTHER_CLIENT_ID = "other-app"
KID = "test-rsa-1"
PASSWORD = "provider pass 1"

ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice Example",
              "groups": ["eng", "everyone"]},
    "bob": {"email": "bob@other.org", "email_verified": True, "name": "Bob Other",
            "groups": ["everyone"]},
    "carol": {"email": "carol@example.com", "email_verified": False, "name": "Carol Unverified",
              "groups": []},
    "dave": {"email": "dave@example.com", "email_verified": True, "name": "Dave"},
}


@dataclass(frozen=True)
class Provider:
    issuer: str
    private_key: rsa.RSAPrivateKey

    def private_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key))
        return {**jwk, "kid": KID, "use": "sig", "alg": "RS256"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def run_provider(tmp: Path, redirect_uris: list[str], port: int | None = None) -> Iterator[Provider]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: the SSO tests run a real OpenID provider on node")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(f"oidc-provider is not installed in {HERE}: run `make test` or "
                           f"`npm ci` in {HERE}")
    port = port or free_port()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    provider = Provider(issuer=f"http://127.0.0.1:{port}", private_key=key)
    config = {
        "port": port,
        "signing_key": provider.private_jwk(),
        "clients": [
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
             "grant_types": ["authorization_code"], "response_types": ["code"]},
            {"client_id": OTHER_CLIENT_ID, "client_secret": CLIENT_SECRET + "-other",
             "redirect_uris": redirect_uris, "grant_types": ["authorization_code"],
             "response_types": ["code"]},
        ],
        "accounts": {login: {"password": PASSWORD, "claims": claims}
                     for login, claims in ACCOUNTS.items()},
    }
    path = tmp / "oidc-provider.json"
    path.write_text(json.dumps(config))
    log = (tmp / "oidc-provider.log").open("w+")
    proc = subprocess.Popen([node, str(HERE / "provider.mjs"), str(path)], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            log.seek(0)
            if "ready " in log.read():
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the OpenID provider did not start:\n{log.read()}")
            time.sleep(0.1)
        yield provider
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


async def sign_in_at_provider(auth_url: str, login: str, password: str = PASSWORD,
                              *, app_prefix: str = "https://testserver/") -> str:
    """Play the browser at the provider: follow redirects, fill in its sign-in form, and return
    the URL the provider sends the browser back to (our callback)."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=15) as browser:
        url = auth_url
        for _ in range(12):
            r = await browser.get(url)
            if r.status_code in (302, 303):
                url = urljoin(url, r.headers["location"])
                if url.startswith(app_prefix):
                    return url
                continue
            form = re.search(r'<form method="post" action="([^"]+)"', r.text)
            assert r.status_code == 200 and form, f"unexpected provider page {r.status_code}: {r.text}"
            r = await browser.post(urljoin(url, form.group(1)),
                                   data={"login": login, "password": password})
            assert r.status_code in (302, 303), f"provider refused the sign-in: {r.text}"
            url = urljoin(url, r.headers["location"])
            if url.startswith(app_prefix):
                return url
    raise AssertionError("the provider never redirected back")
