"""API-key scopes. Each includes the ones before it: `write` can read, `admin` can read and write.

Browser sessions are not scoped (they hold every power of their user). No key, whatever its scopes,
may manage keys, passwords or sessions: those routes refuse API keys outright."""

from __future__ import annotations

from typing import Literal

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")


def effective(scopes: list[str] | frozenset[str]) -> frozenset[str]:
    """The scopes a key holds, implied ones included."""
    top = max((SCOPES.index(s) for s in scopes if s in SCOPES), default=-1)
    return frozenset(SCOPES[: top + 1])
