"""The one place that names concrete provider classes; everything else imports protocols."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from app.core.container import Container
from app.core.services import Services
from app.providers.files.local import LocalFileStore
from app.providers.jobs.base import JobQueue
from app.providers.vectorstore.base import VectorStore
from app.providers.vectorstore.chroma_store import ChromaVectorStore

log = logging.getLogger("citewise")


def build_vector_store(container: Container) -> VectorStore:
    settings = container.settings
    if settings.chroma_url:
        return ChromaVectorStore.http(settings.chroma_url)
    # Embedded Chroma is single-writer: only the one-process embedded profile uses it.
    return ChromaVectorStore.embedded(settings.chroma_path)


def build_job_queue(container: Container) -> JobQueue:
    settings = container.settings
    if settings.effective_job_backend == "arq":
        from app.providers.jobs.arq_queue import ArqJobQueue

        if not settings.redis_url:
            raise RuntimeError("The ARQ job backend needs REDIS_URL")
        return ArqJobQueue(settings.redis_url)
    from app.ingestion.pipeline import TransientFailure
    from app.providers.jobs.inprocess import InProcessJobQueue
    from app.workers import registry

    async def handle(document_id: str, request_id: str | None) -> float | None:
        try:
            await registry.ingest(container, document_id, worker="in-process", request_id=request_id)
        except TransientFailure as exc:
            return exc.delay
        return None

    return InProcessJobQueue(handle, concurrency=settings.job_concurrency)


async def build_services(container: Container) -> None:
    from app.admin.reindex import IndexManager
    from app.admin.runtime import RuntimeSettingsService
    from app.rag.generation import ChatModelCache

    settings = container.settings
    runtime = RuntimeSettingsService(settings, container.sessions)
    vectors = build_vector_store(container)
    container.services = Services(
        files=LocalFileStore(settings.files_dir),
        vectors=vectors,
        jobs=build_job_queue(container),
        runtime=runtime,
        index=IndexManager(settings, container.sessions, runtime, vectors),
        chat_models=ChatModelCache(),
    )
    container.closers.append(container.services.chat_models.aclose)


async def start_background(container: Container) -> None:
    """API process: start the in-process runner (embedded) and the periodic reconciler."""
    from app.workers import registry

    services = container.services
    await services.jobs.start()
    container.closers.append(services.jobs.stop)
    container.closers.append(services.index.aclose)
    # Re-index builds (embedding model changed, `citewise reindex`, an interrupted build) run here.
    _background(container, services.index.watch(), "citewise-reindex-watch")
    if container.settings.effective_job_backend != "inprocess":
        return  # ARQ workers own document reconciliation in production

    async def reconcile_forever() -> None:
        await registry.reconcile(container, startup=True)
        while True:
            await asyncio.sleep(container.settings.reconcile_interval_seconds)
            try:
                await registry.reconcile(container)
            except Exception:
                log.exception("reconcile failed")

    _background(container, reconcile_forever(), "citewise-reconciler")


def _background(container: Container, coro: Coroutine[Any, Any, None], name: str) -> None:
    task = asyncio.create_task(coro, name=name)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    container.closers.append(stop)
