"""Real background-job plumbing: ARQ worker processes, Redis, a Chroma server, PostgreSQL.

Each test gets a `Stack`: settings for an in-test API/container plus the environment for
`arq app.workers.tasks.WorkerSettings` processes that share its database, Redis DB, Chroma server
and data dir (the files dir is shared between API and workers, as in a real deployment).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text

from app.bootstrap import build_container
from app.core.config import Settings
from app.core.db import create_engine, new_id
from app.documents.models import Chunk, Document, Job
from app.ingestion.chunking import chunk_blocks
from app.ingestion.parsers import extract
from app.ingestion.sniff import sniff_file
from app.ingestion.types import ExtractionLimits
from app.platform.container import Container
from app.providers.embeddings.local_onnx import LocalOnnxEmbedder
from tests.conftest import TABLES, TEST_SECRET, migrated_pg_database, require_redis
from tests.faults.conftest import RedisServer
from tests.providers.conftest import chroma_server

BACKEND_DIR = Path(__file__).resolve().parents[2]
ARQ = BACKEND_DIR / ".venv" / "bin" / "arq"
# A Redis DB of our own: the API tests use 15, and every test here starts with FLUSHDB.
WORKER_REDIS_URL = os.environ.get("TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/14")
LEASE_SECONDS = 10
# Long enough that a slow embedding on a loaded machine is never cut off by ARQ's timeout.
JOB_TIMEOUT_SECONDS = 300
# Variables a worker must not inherit from whoever runs the tests.
_INHERITED_CONFIG = ("DATABASE_URL", "REDIS_URL", "CHROMA_URL", "SECRET_KEY")


@pytest.fixture(scope="session")
def worker_database() -> Iterator[str]:
    """A fresh PostgreSQL database for these tests, built by the real migrations."""
    with migrated_pg_database("citewise_workers") as url:
        yield url


@pytest.fixture(scope="session")
def worker_chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("workers-chroma")) as url:
        yield url


class WorkerProcess:
    """One `arq app.workers.tasks.WorkerSettings` process, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(ARQ), *args, "app.workers.tasks.WorkerSettings"], cwd=BACKEND_DIR, env=env,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, exactly like an OOM kill or a pulled plug."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (graceful, the worker's shutdown hook runs); SIGKILL if it hangs."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return int(self.proc.returncode)

    def log_tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    tmp: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    def start_worker(self, **overrides: str) -> WorkerProcess:
        env = {**self.env, **overrides}
        worker = WorkerProcess(env, self.tmp / f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    def worker_logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name} (pid {w.pid})\n{w.log_tail()}" for w in self.workers)


def _settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CITEWISE_") and k not in _INHERITED_CONFIG}
    assert settings.database_url and settings.redis_url and settings.chroma_url
    env.update({
        "CITEWISE_MODE": "production",
        "CITEWISE_DATABASE_URL": settings.database_url,
        "CITEWISE_REDIS_URL": settings.redis_url,
        "CITEWISE_CHROMA_URL": settings.chroma_url,
        "CITEWISE_SECRET_KEY": TEST_SECRET,
        "CITEWISE_DATA_DIR": str(settings.data_dir),
        "CITEWISE_JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
        "CITEWISE_JOB_TIMEOUT_SECONDS": str(settings.job_timeout_seconds),
        "CITEWISE_JOB_MAX_ATTEMPTS": str(settings.job_max_attempts),
        "CITEWISE_JOB_CONCURRENCY": str(settings.job_concurrency),
        "CITEWISE_LOG_JSON": "false",
        "CITEWISE_LOG_LEVEL": "INFO",
    })
    return env


@pytest.fixture
async def stack(worker_database: str, worker_chroma: str, tmp_path: Path) -> AsyncIterator[Stack]:
    """Empty database and Redis DB, a fresh data dir; stops every worker it started."""
    settings = Settings(
        mode="production", data_dir=tmp_path / "data", secret_key=TEST_SECRET,
        database_url=worker_database, redis_url=WORKER_REDIS_URL, chroma_url=worker_chroma,
        serve_frontend=False, cookie_secure=True, log_json=False,
        job_lease_seconds=LEASE_SECONDS, job_timeout_seconds=JOB_TIMEOUT_SECONDS,
        job_max_attempts=3, job_concurrency=2,
    )
    settings.data_dir.mkdir(parents=True)
    require_redis(WORKER_REDIS_URL, "TEST_WORKER_REDIS_URL")
    redis = Redis.from_url(WORKER_REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()
    engine = create_engine(settings.effective_database_url)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE " + ", ".join(TABLES) + " CASCADE"))
    await engine.dispose()
    result = Stack(settings=settings, env=_settings_env(settings), tmp=tmp_path)
    try:
        yield result
    finally:
        for worker in result.workers:
            worker.stop()




# ---- waiting and inspecting -------------------------------------------------------------------


async def wait_for(check: Callable[[], Awaitable[Any]], *, timeout: float, what: str,
                   interval: float = 0.25, on_timeout: Callable[[], str] | None = None) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = on_timeout() if on_timeout is not None else ""
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{extra}")
        await asyncio.sleep(interval)


async def documents(container: Container) -> list[Document]:
    async with container.sessions() as session:
        return list((await session.execute(select(Document).order_by(Document.filename))).scalars())


async def jobs_of(container: Container, document_id: str) -> list[Job]:
    async with container.sessions() as session:
        stmt = select(Job).where(Job.document_id == document_id).order_by(Job.created_at)
        return list((await session.execute(stmt)).scalars())


async def chunk_ids(container: Container, doc: Document) -> list[str]:
    async with container.sessions() as session:
        stmt = select(Chunk.id).where(Chunk.document_id == doc.id)
        return list((await session.execute(stmt)).scalars())


async def chunk_count(container: Container, doc: Document) -> int:
    async with container.sessions() as session:
        stmt = select(func.count(Chunk.id)).where(Chunk.document_id == doc.id,
                                                 Chunk.version == doc.version)
        return int((await session.execute(stmt)).scalar_one())


async def add_user(container: Container, email: str = "worker-test@example.com") -> str:
    from app.auth.models import User

    async with container.sessions() as session:
        user = User(email=email, password_hash="not-a-usable-hash")
        session.add(user)
        await session.commit()
        return user.id


async def add_document(container: Container, owner_id: str, source: Path,
                       filename: str | None = None) -> str:
    """Store a file and a `queued` row the way an upload does (without enqueuing it)."""
    filename = filename or source.name
    detected = await asyncio.to_thread(sniff_file, source, filename)
    doc_id = new_id()
    staged = container.files.staging_dir() / f"test-{doc_id}"
    await asyncio.to_thread(shutil.copyfile, source, staged)
    await container.files.put(doc_id, staged)
    data = source.read_bytes()
    async with container.sessions() as session:
        session.add(Document(id=doc_id, owner_id=owner_id, filename=filename, mime_type=detected.mime,
                             kind=detected.kind, size_bytes=len(data),
                             content_hash=hashlib.sha256(data).hexdigest(), storage_key=doc_id,
                             status="queued"))
        await session.commit()
    return doc_id


_counter: LocalOnnxEmbedder | None = None


def clean_chunk_count(path: Path, settings: Settings) -> int:
    """What a clean, uninterrupted run produces: extract + chunk with the pipeline's settings."""
    global _counter
    if _counter is None:
        _counter = LocalOnnxEmbedder()  # only its tokenizer is used: no model load
    kind = sniff_file(path, path.name).kind
    limits = ExtractionLimits(max_pages=settings.max_pages, ocr_enabled=settings.ocr_enabled,
                              timeout_seconds=settings.extraction_timeout_seconds)
    extracted = extract(path, kind, limits)
    drafts = chunk_blocks(extracted.blocks, _counter.count_tokens,
                          max_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens)
    return len(drafts)


async def start_container(settings: Settings) -> Container:
    return build_container(settings)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, on a free loopback port: stopping it is no outage for
    other tests."""
    redis = RedisServer(tmp_path)
    redis.start()
    yield redis
    redis.stop()
