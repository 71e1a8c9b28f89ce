"""Real services for tests: a fresh PostgreSQL database built by the real migrations, a SQLite file,
real Redis. Set TEST_DATABASE_URL / TEST_REDIS_URL to point elsewhere. A service that cannot be
reached is an error, never a skip.

Documents are built at test time (tests/docgen.py). Suites that need the real evaluation
corpus are marked ``eval_docs`` and run only when CITEWISE_EVAL_DOCS names its folder (`make test`
sets it when ../shared/eval/docs exists beside the checkout); otherwise they are skipped, and the
run says so in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import upgrade

EVAL_DOCS_VAR = "CITEWISE_EVAL_DOCS"
EVAL_DOCS_SKIP = f"set {EVAL_DOCS_VAR}=<path to shared/eval/docs> to run the real-document suites"
PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_SECRET = "test-secret-" + "x" * 40


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _sqlalchemy_pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@contextlib.contextmanager
def migrated_pg_database(prefix: str) -> Iterator[str]:
    """A throwaway PostgreSQL database built by the real migrations; dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _asyncpg_dsn(PG_ADMIN_URL)

    async def _exec(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(_exec(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        pytest.fail(f"PostgreSQL is unreachable at {admin}: {exc!r}. Start it (`make services`) or "
                    "point TEST_DATABASE_URL at one.", pytrace=False)
    url = f"{_sqlalchemy_pg(admin).rsplit('/', 1)[0]}/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        asyncio.run(_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ---- the evaluation corpus: an optional extra ---------------------------------------------------


def eval_docs_dir() -> Path | None:
    """The real evaluation corpus named by CITEWISE_EVAL_DOCS, or None when it is not set."""
    value = os.environ.get(EVAL_DOCS_VAR, "").strip()
    return Path(value).resolve() if value else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"eval_docs: needs the real evaluation corpus; runs only when {EVAL_DOCS_VAR} is set")
    folder = eval_docs_dir()
    if folder is not None and not (folder / "MANIFEST.tsv").is_file():
        raise pytest.UsageError(f"{EVAL_DOCS_VAR}={folder} is not the evaluation corpus "
                                "(no MANIFEST.tsv there)")


def _needs_corpus(item: pytest.Item) -> bool:
    return item.get_closest_marker("eval_docs") is not None or "eval_docs" in getattr(
        item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if eval_docs_dir() is not None:
        return
    skip = pytest.mark.skip(reason=EVAL_DOCS_SKIP)
    for item in items:
        if _needs_corpus(item):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per reason for skipped tests, whatever the -r option: nothing is skipped quietly."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"{count} skipped: {reason}", yellow=True)


@pytest.fixture(scope="session")
def eval_docs() -> Path:
    """The real evaluation corpus (tests using it are skipped when CITEWISE_EVAL_DOCS is unset)."""
    folder = eval_docs_dir()
    if folder is None:
        pytest.skip(EVAL_DOCS_SKIP)
    return folder


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One generated document per supported format plus the awkward cases (tests/docgen.py)."""
    from tests.docgen import build_corpus

    return build_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The test session's PostgreSQL database."""
    with migrated_pg_database("citewise_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "citewise.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each module's tests once per database (service-level tests without the API)."""
    # Resolved here, outside the event loop: building either database runs the migrations.
    return str(request.getfixturevalue(f"{request.param.replace('postgres', 'pg')}_database"))


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


def require_redis(url: str, variable: str) -> None:
    """Fail (never skip) with a clear message when the Redis at ``url`` does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except (OSError, redis.RedisError) as exc:
        pytest.fail(f"Redis is unreachable at {url}: {exc!r}. Start it (`make services`) or point "
                    f"{variable} at one.", pytrace=False)
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_redis(REDIS_URL, "TEST_REDIS_URL")
    return REDIS_URL


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp, "secret_key": TEST_SECRET, "serve_frontend": False,
        "cookie_secure": True, "log_json": False,
    }
    values.update(overrides)
    return Settings(**values)


TABLES = ["citations", "messages", "conversations", "chunks", "jobs", "documents", "invites",
          "collection_members", "collections", "group_members", "groups", "refresh_tokens",
          "auth_sessions", "api_keys", "audit_log", "app_settings", "users"]


async def _drain_in_process_jobs(jobs: Any) -> None:
    """Forget the jobs a previous test left queued in the in-process runner (a canceled batch's:
    they would claim this test's documents out of turn) and let the running ones finish. Running
    jobs are not canceled: a job canceled inside a write would leave SQLite locked."""
    from app.providers.jobs.inprocess import InProcessJobQueue

    if not isinstance(jobs, InProcessJobQueue):
        return
    for timer in list(jobs._timers):  # retries waiting for their delay
        timer.cancel()
    while not jobs._queue.empty():
        document_id, _ = jobs._queue.get_nowait()
        jobs._pending.discard(document_id)
        jobs._queue.task_done()
    await asyncio.wait_for(jobs.join(), timeout=120)


async def truncate_all(app: Any) -> None:
    container = app.state.container
    await _drain_in_process_jobs(container.jobs)
    for attempt in range(5):
        try:
            async with container.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    await conn.execute(text("TRUNCATE " + ", ".join(TABLES) + " CASCADE"))
                else:
                    for table in TABLES:
                        await conn.execute(text(f"DELETE FROM {table}"))
            break
        except DBAPIError as exc:
            # A test's background job may still be writing (a job row, an audit line) when the
            # TRUNCATE takes its locks: PostgreSQL aborts one side of that deadlock, and the
            # other finishes. Try again; anything else is a real failure.
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
    container.runtime.invalidate()  # cached runtime values / index state belong to the old rows
    container.index.invalidate()
    if container.redis is not None:
        await container.redis.flushdb()
    throttle = container.throttle
    if hasattr(throttle, "_windows"):
        throttle._windows.clear()


@pytest.fixture(scope="session")
def backend_settings(pg_database: str, sqlite_database: str, redis_url: str,
                     tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Settings]:
    def build(backend: str, **overrides: Any) -> Settings:
        tmp = tmp_path_factory.mktemp(f"data-{backend}")
        if backend == "postgres":
            return make_settings(tmp, database_url=pg_database, redis_url=redis_url, **overrides)
        return make_settings(tmp, database_url=sqlite_database, **overrides)

    return build


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def api_app(request: pytest.FixtureRequest,
                  backend_settings: Callable[[str], Settings]) -> AsyncIterator[Any]:
    from app.main import create_app

    app = create_app(backend_settings(request.param))
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60):
        yield app


@pytest.fixture
async def client(api_app: Any) -> AsyncIterator[AsyncClient]:
    await truncate_all(api_app)
    transport = ASGITransport(app=api_app, client=("10.1.2.3", 1234))
    async with AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def anon_client_factory(api_app: Any) -> Callable[[], AsyncClient]:
    def build() -> AsyncClient:
        return AsyncClient(transport=ASGITransport(app=api_app, client=("10.9.9.9", 1)),
                           base_url="https://testserver")

    return build


async def register(client: AsyncClient, email: str = "alice@example.com",
                   password: str = "correct horse battery") -> dict[str, Any]:
    """Register, then sign in (registration answers 202 and starts no session); returns the user."""
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert r.status_code == 202, r.text
    r = await login(client, email, password)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def login(client: AsyncClient, email: str, password: str) -> Any:
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    if r.status_code == 200:
        client.headers["X-CSRF-Token"] = client.cookies.get("cw_csrf") or ""
    return r


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    r = Redis.from_url(redis_url)
    yield r
    await r.aclose()


@pytest.fixture
def union_answers(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per search Chroma's union index was asked for (`chroma_union`): whether it
    answered (False: the owners' shards did)."""
    from app.providers.vectorstore import chroma_union

    answered: list[bool] = []
    nearest = chroma_union.UnionIndex.nearest

    def spy(self: Any, *args: Any) -> Any:
        found = nearest(self, *args)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(chroma_union.UnionIndex, "nearest", spy)
    return answered
