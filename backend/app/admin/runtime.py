"""Runtime settings that admins change without a restart (stored in `app_settings`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.admin.models import AppSetting
from app.core.config import Settings

REGISTRATION_KEY = "registration"


async def registration_open(session: AsyncSession, settings: Settings) -> bool:
    row = await session.get(AppSetting, REGISTRATION_KEY)
    if row is None or "open" not in row.value:
        return settings.registration_open
    return bool(row.value["open"])
