"""An app of its own for the security suite: SQLite in a temp dir, tight limits, one trusted proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.core.migrations import upgrade_async
from tests.conftest import make_settings, truncate_all

PROXY = "10.0.0.1"


@pytest.fixture(scope="session")
async def sec_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    from app.main import create_app

    tmp: Path = tmp_path_factory.mktemp("security")
    url = f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}"
    await upgrade_async(url)
    app = create_app(make_settings(
        tmp, database_url=url, api_rate_limit_per_minute=0, registration_rate_limit_per_hour=0,
        trusted_proxies=[PROXY], login_max_failures_per_account=5, login_max_failures_per_ip=8,
        max_upload_mb=1))
    async with LifespanManager(app, startup_timeout=120):
        yield app


@pytest.fixture
async def fresh(sec_app: Any) -> Any:
    """The app with empty tables and counters; limits back at the fixture's values."""
    await truncate_all(sec_app)
    s = sec_app.state.container.settings
    s.api_rate_limit_per_minute = 0
    s.registration_rate_limit_per_hour = 0
    return sec_app


@pytest.fixture
def client_at(fresh: Any) -> Callable[[str], AsyncClient]:
    """A client whose socket address is `ip`."""
    def build(ip: str) -> AsyncClient:
        return AsyncClient(transport=ASGITransport(app=fresh, client=(ip, 4321)),
                           base_url="https://testserver")
    return build
