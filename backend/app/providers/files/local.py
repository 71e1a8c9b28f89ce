"""Local-folder file store (a shared volume when several processes run)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

_KEY = re.compile(r"^[a-f0-9-]{8,64}$")


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / ".staging").mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        if not _KEY.match(key):  # keys are generated ids; refuse anything that could traverse
            raise ValueError("invalid storage key")
        return self.root / key[:2] / key

    async def put(self, key: str, source: Path) -> None:
        target = self.path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(os.replace, source, target)

    async def delete(self, key: str) -> None:
        target = self.path(key)
        await asyncio.to_thread(target.unlink, True)

    def staging_dir(self) -> Path:
        return self.root / ".staging"
