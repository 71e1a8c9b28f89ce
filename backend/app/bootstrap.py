"""The composition root: the one place that names concrete classes and wires them together.

`build_container(settings)` returns one frozen, fully typed `Container` for the API lifespan, the
ARQ worker, the CLI and the tests alike; settings alone decide which implementations it holds
(embedded: SQLite + FTS5, embedded Chroma, in-process jobs; production: PostgreSQL full text,
Chroma server, ARQ).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from redis.asyncio import Redis

from app.admin.reindex import Reindexer
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.documents.vectors import chunk_document
from app.ingestion.pipeline import TransientFailure
from app.platform.chat_models import ChatModelCache
from app.platform.container import Container
from app.platform.index import IndexState
from app.platform.runtime import EmbeddingValues, LLMValues, RuntimeSettingsService
from app.providers.embeddings.base import Embedder
from app.providers.files.local import LocalFileStore
from app.providers.jobs.base import JobQueue
from app.providers.jobs.inprocess import Handler, InProcessJobQueue, Upkeep
from app.providers.keyword.base import KeywordIndex
from app.providers.keyword.postgres_fts import PostgresKeywordIndex
from app.providers.keyword.sqlite_fts5 import SqliteFts5KeywordIndex
from app.providers.llm.base import ChatModel
from app.providers.llm.openai_compat import OpenAICompatChatModel
from app.providers.oidc.base import IdentityProvider
from app.providers.oidc.oidc_client import OidcClient
from app.providers.throttle import FallbackThrottle, MemoryThrottle, RedisThrottle, Throttle
from app.providers.vectorstore.base import VectorStore
from app.providers.vectorstore.chroma_store import ChromaVectorStore
from app.workers import registry

log = logging.getLogger("citewise")
# An unreachable Redis must fail a call quickly (the caller degrades), not hang a request.
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_SOCKET_TIMEOUT = 5.0
# The embedded job runner merges the SQLite keyword index's segments when idle, in steps of
# about this many pages (~0.1 s each at 100k chunks): a job that arrives waits at most one.
KEYWORD_MERGE_PAGES = 2000


def build_embedder(values: EmbeddingValues) -> Embedder:
    if values.provider == "openai":
        from app.providers.embeddings.openai_compat import OpenAICompatEmbedder

        if not values.base_url:
            raise ValueError("an OpenAI-compatible embedder needs a base URL")
        return OpenAICompatEmbedder(base_url=values.base_url, model=values.model,
                                    api_key=values.api_key, dimension=values.dimension)
    # Imported on demand: onnxruntime is heavy and a remote-embedding deployment never needs it.
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    return LocalOnnxEmbedder(batch_size=values.batch_size, threads=values.threads)


def build_chat_model(values: LLMValues) -> ChatModel:
    if not values.base_url:
        raise ValueError("a chat model needs a base URL")
    return OpenAICompatChatModel(base_url=values.base_url, model=values.model,
                                 api_key=values.api_key or None, timeout=values.timeout_seconds,
                                 max_retries=values.max_retries)


def build_vector_store(settings: Settings) -> VectorStore:
    # The app's vector ids are its chunk ids, which name their document (`chunk_id`).
    union = settings.vector_union_index
    if settings.chroma_url:
        return ChromaVectorStore.http(settings.chroma_url, document_of=chunk_document, union=union)
    # Embedded Chroma is single-writer: only the one-process embedded profile uses it.
    return ChromaVectorStore.embedded(settings.chroma_path, document_of=chunk_document,
                                      union=union)


def build_keyword_index(dialect: str) -> KeywordIndex:
    """The full-text search for the database: its index is what the migrations built there."""
    if dialect == "postgresql":
        return PostgresKeywordIndex()
    if dialect == "sqlite":
        return SqliteFts5KeywordIndex()
    raise ValueError(f"no keyword index for the {dialect!r} database dialect")


def build_throttle(redis: Redis | None) -> Throttle:
    if redis is None:
        return MemoryThrottle()
    return FallbackThrottle(RedisThrottle(redis), MemoryThrottle())


def build_job_queue(settings: Settings, run_in_process: Handler,
                    upkeep: Upkeep | None = None) -> JobQueue:
    if settings.effective_job_backend == "arq":
        from app.providers.jobs.arq_queue import ArqJobQueue

        if not settings.redis_url:
            raise RuntimeError("The ARQ job backend needs REDIS_URL")
        return ArqJobQueue(settings.redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                           socket_timeout=REDIS_SOCKET_TIMEOUT)
    return InProcessJobQueue(run_in_process, concurrency=settings.job_concurrency,
                             on_idle=upkeep)


def build_container(settings: Settings) -> Container:
    engine = create_engine(settings.effective_database_url)
    sessions = create_sessionmaker(engine)
    redis = (Redis.from_url(settings.redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                            socket_timeout=REDIS_SOCKET_TIMEOUT) if settings.redis_url else None)
    runtime = RuntimeSettingsService(settings, sessions)
    vectors = build_vector_store(settings)
    index = IndexState(sessions, runtime, build_embedder)

    async def ingest_in_process(document_id: str, request_id: str | None) -> float | None:
        # Runs only once the runner has started, long after `container` below is assigned.
        try:
            await registry.ingest(container, document_id, worker="in-process", request_id=request_id)
        except TransientFailure as exc:
            return exc.delay
        return None

    async def merge_keyword_index() -> bool:
        async with sessions() as session:
            return await container.keywords.compact(session, pages=KEYWORD_MERGE_PAGES)

    container = Container(
        settings=settings, engine=engine, sessions=sessions, redis=redis,
        throttle=build_throttle(redis),
        files=LocalFileStore(settings.files_dir),
        vectors=vectors,
        keywords=build_keyword_index(engine.dialect.name),
        jobs=build_job_queue(settings, ingest_in_process, merge_keyword_index),
        runtime=runtime,
        index=index,
        reindex=Reindexer(index, sessions, vectors),
        embedders=build_embedder,
        chat_models=ChatModelCache(build_chat_model),
        identity=build_identity_provider(settings),
    )
    return container


def build_identity_provider(settings: Settings) -> IdentityProvider | None:
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return None
    secret = settings.oidc_client_secret
    return OidcClient(issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
                      client_secret=secret.get_secret_value() if secret else None,
                      scopes=settings.oidc_scopes, timeout=settings.oidc_timeout_seconds)


async def start_background(container: Container) -> None:
    """API process: the job runner (embedded), the re-index watcher and the reconciler."""
    await container.jobs.start()
    container.closers.append(container.jobs.stop)
    # Re-index builds (embedding model changed, `citewise reindex`, an interrupted build) run here.
    _background(container, container.reindex.watch(), "citewise-reindex-watch")
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
