from __future__ import annotations

from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    """Stores uploaded originals under generated keys (never the user's filename)."""

    async def put(self, key: str, source: Path) -> None:
        """Move `source` (a temp file on the same volume) into the store under `key`."""
        ...

    def path(self, key: str) -> Path: ...

    async def delete(self, key: str) -> None: ...

    def staging_dir(self) -> Path:
        """Where uploads are spooled before they are committed (same volume, so `put` is a rename)."""
        ...
