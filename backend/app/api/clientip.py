"""The real client address: the socket peer, or `X-Forwarded-For` when the peer is a trusted proxy.

The chain is read from the right: every hop appended by a trusted proxy is skipped and the first
address that is not a trusted proxy is the client. Anything to its left was written by the client
itself and is never believed, so a forged `X-Forwarded-For` cannot pick the address that the rate
limit, the login throttle and the audit log see."""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

from app.core.config import IPNetwork


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
             networks: tuple[IPNetwork, ...]) -> bool:
    return addr is not None and any(addr.version == n.version and addr in n for n in networks)


def client_address(scope: Scope, trusted: tuple[IPNetwork, ...]) -> str:
    client = scope.get("client")
    peer = client[0] if client else ""
    if not trusted or not _trusted(_parse(peer), trusted):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-for":
            forwarded.extend(part for part in value.decode("latin-1").split(","))
    for hop in reversed(forwarded):
        addr = _parse(hop)
        if addr is None:
            return peer  # garbage in the chain: don't guess, fall back to the proxy's address
        if not _trusted(addr, trusted):
            return str(addr)
    return peer
