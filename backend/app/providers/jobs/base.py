"""Job queue protocol: the in-process runner and ARQ implement it over the same task functions."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    async def enqueue_ingest(self, document_id: str, *, request_id: str | None = None,
                             lost_attempt: int | None = None) -> None:
        """Idempotent: enqueuing a document already queued does not run it twice at once.

        ``lost_attempt``: the reconciler re-enqueues a document whose attempt of that number lost
        its lease (its worker died); the queue must not wait for that dead job to clear.
        """
        ...

    async def queue_depth(self) -> int:
        """Jobs waiting to run (not those running)."""
        ...

    async def active_workers(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
