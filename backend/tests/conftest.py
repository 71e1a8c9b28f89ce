"""Real services for tests: a fresh PostgreSQL database built by the real migrations, a SQLite file,
real Redis. Set TEST_DATABASE_URL / TEST_REDIS_URL to point elsewhere."""

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

from app.core.config import Settings
from app.core.migrations import upgrade

REPO_DIR = Path(__file__).resolve().parents[2]
EVAL_DIR = REPO_DIR.parent / "shared" / "eval"
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
    except OSError as exc:
        pytest.skip(f"PostgreSQL is unreachable: {exc}")
    url = f"{_sqlalchemy_pg(admin).rsplit('/', 1)[0]}/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        asyncio.run(_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp, "secret_key": TEST_SECRET, "serve_frontend": False,
        "cookie_secure": True, "log_json": False,
    }
    values.update(overrides)
    return Settings(**values)


TABLES = ["citations", "messages", "conversations", "chunks", "jobs", "documents",
          "refresh_tokens", "auth_sessions", "api_keys", "audit_log", "app_settings", "users"]


async def truncate_all(app: Any) -> None:
    container = app.state.container
    async with container.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("TRUNCATE " + ", ".join(TABLES) + " CASCADE"))
        else:
            for table in TABLES:
                await conn.execute(text(f"DELETE FROM {table}"))
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
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert r.status_code == 201, r.text
    client.headers["X-CSRF-Token"] = client.cookies.get("cw_csrf") or ""
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
