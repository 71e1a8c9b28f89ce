"""Run Alembic migrations programmatically (embedded start-up, `citewise migrate`, tests)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

from alembic.config import Config

from alembic import command
from app.core.db import ensure_private_sqlite

BACKEND_DIR = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    cfg = Config(str(BACKEND_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(BACKEND_DIR / "alembic"))
    cfg.attributes["url"] = url
    return cfg


def revision_module(filename: str) -> ModuleType:
    """A migration file of `alembic/versions` as a module: a later migration's downgrade puts
    back the trigger bodies an earlier one defined, from that file rather than a copy."""
    path = BACKEND_DIR / "alembic" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"citewise_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade(url: str, revision: str = "head") -> None:
    ensure_private_sqlite(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    # Alembic's env.py runs its own event loop, so keep it off ours.
    await asyncio.to_thread(upgrade, url)
