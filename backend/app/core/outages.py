"""Recognise "a dependency is down" among exceptions: such a request gets 503, not 500, and
such a job is retried later instead of failing."""

from __future__ import annotations

import redis.exceptions as redis_errors
from sqlalchemy import exc as sa_errors


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def database_outage(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (not a bad statement)."""
    if redis_outage(exc):  # redis-py's ConnectionError wraps the same OSError asyncpg raises
        return False
    for e in _chain(exc):
        if isinstance(e, (sa_errors.OperationalError, sa_errors.InterfaceError,
                          sa_errors.TimeoutError)):
            return True
        if isinstance(e, sa_errors.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, (ConnectionError, TimeoutError)):
            return True  # asyncpg raises OSError subclasses for a refused or reset connection
        if type(e).__module__.startswith("asyncpg") and type(e).__name__ in (
                "CannotConnectNowError", "ConnectionDoesNotExistError", "ConnectionFailureError",
                "AdminShutdownError", "InterfaceError"):
            return True
    return False


def redis_outage(exc: BaseException) -> bool:
    return any(isinstance(e, (redis_errors.ConnectionError, redis_errors.TimeoutError,
                              redis_errors.BusyLoadingError))
               for e in _chain(exc))
