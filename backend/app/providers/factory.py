"""The one place that names concrete provider classes; everything else imports protocols."""

from __future__ import annotations

from app.core.container import Container


async def build_services(container: Container) -> None:
    container.services = None


async def start_background(container: Container) -> None:
    return None


async def stop_background(container: Container) -> None:
    return None
