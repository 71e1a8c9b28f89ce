"""Single-use registration invites and the registration policy that decides who may sign up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Invite, User
from app.core import security
from app.core.context import ClientInfo
from app.core.errors import Forbidden, NotFound
from app.platform import audit
from app.platform.runtime import RegistrationValues

INVITE_PREFIX = "cwi_"


def _now() -> datetime:
    return datetime.now(UTC)


def invite_status(invite: Invite, now: datetime | None = None) -> str:
    now = now or _now()
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= now:
        return "expired"
    return "pending"


async def create_invite(session: AsyncSession, admin: User, *, email: str | None, days: int,
                        client: ClientInfo) -> tuple[Invite, str]:
    raw = INVITE_PREFIX + security.new_opaque_token()
    invite = Invite(token_hash=security.token_digest(raw),
                    email=email.strip().lower() if email else None, created_by=admin.id,
                    expires_at=_now() + timedelta(days=days))
    session.add(invite)
    await session.flush()
    audit.record(session, "invite.created", actor_id=admin.id, actor_email=admin.email,
                 target=invite.email or invite.id, client=client,
                 details={"invite_id": invite.id, "expires_at": invite.expires_at.isoformat()})
    return invite, raw


async def list_invites(session: AsyncSession) -> list[Invite]:
    return list((await session.execute(select(Invite).order_by(Invite.created_at.desc()))).scalars())


async def revoke_invite(session: AsyncSession, admin: User, invite_id: str, client: ClientInfo) -> None:
    invite = await session.get(Invite, invite_id)
    if invite is None or invite_status(invite) != "pending":
        raise NotFound("No pending invite with this id.", code="invite_not_found")
    invite.revoked_at = _now()
    audit.record(session, "invite.revoked", actor_id=admin.id, actor_email=admin.email,
                 target=invite.email or invite.id, client=client, details={"invite_id": invite.id})


async def find_usable(session: AsyncSession, raw: str, email: str) -> Invite:
    """The pending invite behind `raw` that `email` may use, or a clear refusal."""
    invite = (await session.execute(
        select(Invite).where(Invite.token_hash == security.token_digest(raw.strip()))
    )).scalar_one_or_none()
    if invite is None or invite_status(invite) != "pending":
        raise Forbidden("This invite link is invalid, expired or already used. Ask an administrator "
                        "for a new one.", code="invite_invalid")
    if invite.email is not None and invite.email != email:
        raise Forbidden("This invite is for another email address.", code="invite_email_mismatch")
    return invite


async def consume(session: AsyncSession, invite: Invite, user: User) -> None:
    """Mark the invite used, once: of two registrations racing with one link, one wins."""
    now = _now()
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None),
               Invite.expires_at > now)
        .values(used_at=now, used_by=user.id)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise Forbidden("This invite link has just been used.", code="invite_invalid")


async def admit(session: AsyncSession, policy: RegistrationValues, email: str,
                invite_token: str | None) -> Invite | None:
    """Check that `email` may create an account now; returns the invite to consume, if one is used.

    An administrator's invite admits under every mode; without one, "open" admits everybody,
    "domains" the allowed email domains, "invite" and "closed" nobody."""
    if invite_token:
        return await find_usable(session, invite_token, email)
    if policy.mode == "open":
        return None
    if policy.mode == "domains":
        if policy.domain_allowed(email):
            return None
        raise Forbidden("Registration is limited to addresses at: "
                        f"{', '.join(policy.allowed_domains)}.", code="registration_domain")
    if policy.mode == "invite":
        raise Forbidden("Registration needs an invite link from an administrator.",
                        code="invite_required")
    raise Forbidden("Registration is closed. Ask an administrator for an account.",
                    code="registration_closed")
