"""Audit log of security-relevant events. Written in the caller's transaction."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import ClientInfo
from app.platform.models import AuditEntry

log = logging.getLogger("citewise.audit")


class Actor(Protocol):
    """Who did it: a signed-in user (`app.auth.models.User` satisfies this)."""

    @property
    def id(self) -> str: ...

    @property
    def email(self) -> str: ...


def record(
    session: AsyncSession,
    event: str,
    *,
    actor_id: str | None = None,
    actor_email: str | None = None,
    target: str | None = None,
    client: ClientInfo | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    entry = AuditEntry(
        event=event,
        actor_id=actor_id,
        actor_email=actor_email,
        target=target,
        ip=client.ip if client else None,
        request_id=client.request_id if client else None,
        details=details or {},
    )
    session.add(entry)
    log.info("audit", extra={"event": event, "actor": actor_email, "target": target})
