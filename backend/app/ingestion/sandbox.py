"""Run a parser in a separate process with a memory cap and a wall-clock timeout.

Parsers handle hostile input; a crafted file can still make a C library loop, crash or allocate
without bound. Every document is read by a fresh child process that sets RLIMIT_AS (the
``memory_limit_bytes`` of its limits) and is killed at its deadline (``timeout_seconds``); any
failure of the child becomes an ``ExtractionError``, and the calling worker never sees anything
else. The children are forked from warm hosts that have the parsers imported already
(``app.ingestion.warm_pool``), so a document costs a fork, not a cold interpreter start.
"""

from __future__ import annotations

import atexit
from pathlib import Path

from app.ingestion.types import ExtractedDocument, ExtractionLimits
from app.ingestion.warm_pool import HostPool, OnPage

_POOL = HostPool()
atexit.register(_POOL.close)


async def extract_isolated(
    path: Path, kind: str, limits: ExtractionLimits, on_page: OnPage | None = None
) -> ExtractedDocument:
    """``extract`` in a fresh child process; raises ExtractionError for every kind of failure."""
    return await _POOL.extract(path, kind, limits, on_page)


def warm_up(hosts: int = 1) -> None:
    """Start ``hosts`` extraction hosts now instead of at the first document (blocking)."""
    _POOL.warm(hosts)


def pool() -> HostPool:
    return _POOL
