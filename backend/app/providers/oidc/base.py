"""The OpenID Connect provider protocol: what the sign-in flow needs from an identity provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class OidcError(Exception):
    """The provider could not be used or answered something that must not be trusted.

    `code` is stable (the web app shows a message for it), `detail` says what went wrong for logs."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class OidcTokens:
    id_token: str
    access_token: str | None


class IdentityProvider(Protocol):
    issuer: str

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str,
                                code_challenge: str) -> str:
        """The provider's authorization endpoint with a code-flow request (PKCE S256)."""
        ...

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> OidcTokens:
        ...

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims once signature, issuer, audience, expiry and nonce are checked."""
        ...

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        """Claims from the userinfo endpoint ({} when the provider has none)."""
        ...

    async def aclose(self) -> None: ...
