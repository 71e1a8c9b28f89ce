"""An OpenID Connect relying party over httpx, with PyJWT checking ID tokens against the JWKS.

Discovery (`<issuer>/.well-known/openid-configuration`) is cached for an hour; the key set is
cached and fetched again when a token names a key id it does not hold (key rotation), at most once
a minute so forged key ids cannot make us hammer the provider.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from app.providers.oidc.base import OidcError, OidcTokens

DISCOVERY_TTL_SECONDS = 3600.0
JWKS_REFRESH_MIN_SECONDS = 60.0
CLOCK_SKEW_SECONDS = 60
# Asymmetric algorithms only: "none" and HMAC (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512", "EdDSA")
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class OidcClient:
    def __init__(self, *, issuer: str, client_id: str, client_secret: str | None, scopes: str,
                 timeout: float, http: httpx.AsyncClient | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._http = http or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: jwt.PyJWKSet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- discovery and keys --------------------------------------------------------------------

    async def _get_json(self, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.get(url, **kwargs)
        except httpx.HTTPError as exc:
            raise OidcError("sso_unavailable", f"{what}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise OidcError("sso_unavailable", f"{what}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise OidcError("sso_unavailable", f"{what}: not JSON") from exc
        if not isinstance(body, dict):
            raise OidcError("sso_unavailable", f"{what}: not a JSON object")
        return body

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is not None and time.monotonic() - self._metadata_at < DISCOVERY_TTL_SECONDS:
            return self._metadata
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at >= DISCOVERY_TTL_SECONDS:
                url = f"{self.issuer}/.well-known/openid-configuration"
                meta = await self._get_json(url, "discovery document")
                missing = [k for k in REQUIRED_METADATA if not isinstance(meta.get(k), str)]
                if missing:
                    raise OidcError("sso_unavailable", f"discovery document lacks {missing}")
                # OpenID Connect Discovery §4.3: the document must name exactly the issuer asked for.
                if meta["issuer"].rstrip("/") != self.issuer:
                    raise OidcError("sso_unavailable", f"discovery document names issuer "
                                    f"{meta['issuer']!r}, expected {self.issuer!r}")
                methods = meta.get("code_challenge_methods_supported")
                if isinstance(methods, list) and "S256" not in methods:
                    raise OidcError("sso_unavailable", "the provider does not support PKCE S256")
                self._metadata, self._metadata_at = meta, time.monotonic()
            return self._metadata

    async def _key_set(self, *, refresh: bool) -> jwt.PyJWKSet:
        async with self._lock:
            stale = time.monotonic() - self._keys_at >= JWKS_REFRESH_MIN_SECONDS
            if self._keys is None or (refresh and stale):
                meta = self._metadata or {}
                body = await self._get_json(str(meta["jwks_uri"]), "key set (jwks_uri)")
                try:
                    self._keys = jwt.PyJWKSet.from_dict(body)
                except jwt.PyJWTError as exc:
                    raise OidcError("sso_unavailable", f"key set unusable: {exc}") from exc
                self._keys_at = time.monotonic()
            return self._keys

    async def _signing_key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        for refresh in (False, True):
            keys = await self._key_set(refresh=refresh)
            candidates = [k for k in keys.keys if (kid is None or k.key_id == kid)
                          and (k.algorithm_name == alg or not k.algorithm_name)]
            if kid is None and len(candidates) > 1:
                raise OidcError("sso_id_token_invalid", "the ID token names no key id and the "
                                "provider has several keys")
            if candidates:
                return candidates[0]
        raise OidcError("sso_id_token_invalid", f"no key {kid!r} for {alg} in the provider's key set")

    # ---- the code flow ---------------------------------------------------------------------------

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str,
                                code_challenge: str) -> str:
        meta = await self.metadata()
        query = urlencode({
            "response_type": "code", "client_id": self._client_id, "redirect_uri": redirect_uri,
            "scope": self._scopes, "state": state, "nonce": nonce,
            "code_challenge": code_challenge, "code_challenge_method": "S256",
        })
        endpoint = str(meta["authorization_endpoint"])
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> OidcTokens:
        meta = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        auth: httpx.BasicAuth | None = None
        if self._client_secret is None:
            form["client_id"] = self._client_id  # a public client: PKCE is its proof
        elif "client_secret_basic" in meta.get("token_endpoint_auth_methods_supported",
                                                ["client_secret_basic"]):
            auth = httpx.BasicAuth(self._client_id, self._client_secret)
        else:
            form.update(client_id=self._client_id, client_secret=self._client_secret)
        try:
            response = await self._http.post(str(meta["token_endpoint"]), data=form,
                                              auth=auth or httpx.USE_CLIENT_DEFAULT,
                                              headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OidcError("sso_unavailable", f"token endpoint: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            described = body.get("error_description", "") if isinstance(body, dict) else ""
            raise OidcError("sso_token_failed", f"token endpoint: HTTP {response.status_code} "
                            f"{error} {described}".strip())
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcError("sso_token_failed", "the token response has no id_token")
        access = body.get("access_token")
        return OidcTokens(id_token=id_token, access_token=access if isinstance(access, str) else None)

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        meta = await self.metadata()
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise OidcError("sso_id_token_invalid", f"malformed ID token: {exc}") from exc
        alg = header.get("alg")
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        if alg not in SIGNING_ALGORITHMS or alg not in offered:
            raise OidcError("sso_id_token_invalid", f"ID token algorithm {alg!r} is not accepted")
        key = await self._signing_key(header.get("kid"), alg)
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token, key=key.key, algorithms=[alg], audience=self._client_id,
                issuer=str(meta["issuer"]), leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise OidcError("sso_id_token_invalid", f"ID token rejected: {exc}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self._client_id:
            raise OidcError("sso_id_token_invalid", "ID token for several audiences without our azp")
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
            raise OidcError("sso_nonce_mismatch", "the ID token's nonce is not this sign-in's")
        return claims

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        meta = await self.metadata()
        endpoint = meta.get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        return await self._get_json(endpoint, "userinfo endpoint",
                                    headers={"Authorization": f"Bearer {access_token}",
                                             "Accept": "application/json"})
