"""Job queue protocol: the in-process runner and ARQ implement it over the same task functions."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    async def enqueue_ingest(self, document_id: str, *, request_id: str | None = None) -> None:
        """Idempotent: enqueuing a document already queued does not run it twice at once."""
        ...

    async def queue_depth(self) -> int: ...

    async def active_workers(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
