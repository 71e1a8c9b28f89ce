"""schemathesis against a live `citewise serve`: every operation of the app's own OpenAPI schema, a
fixed example budget each (fixed seed), signed in as a normal user and anonymously. No answer may be
a 5xx, and every status code, content type and response body must be one the schema declares.

Signed in, the session-ending operations are left out (they would sign the run out half-way; the
authorization matrix and the auth suites cover them) — anonymously, every operation runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.live import citewise_serve

EXAMPLES = 8  # per operation and identity: the fixed budget (about 1,000 requests in all)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# These end the caller's sessions or credentials; run signed in, they would sign the run out.
SESSION_ENDING = {"logout", "logoutAll", "changePassword"}
PW = "schemathesis passphrase 1"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("schemathesis")
    with citewise_serve(data, {
        # The limits would answer 429 to a fuzzer long before it explored anything.
        "CITEWISE_API_RATE_LIMIT_PER_MINUTE": "0", "CITEWISE_REGISTRATION_RATE_LIMIT_PER_HOUR": "0",
        "CITEWISE_LOG_LEVEL": "WARNING",
    }, data / "serve.log") as base:
        yield base


def _signed_in(base: str) -> requests.Session:
    """A normal user's browser session: cookies plus the CSRF header. The first account of an
    installation is its administrator, so a throwaway admin is registered first."""
    with httpx.Client(base_url=base) as c:
        for email in ("first-admin@example.com", "normal@example.com"):
            assert c.post("/api/v1/auth/register", json={"email": email, "password": PW}
                          ).status_code == 202
    session = requests.Session()
    r = session.post(f"{base}/api/v1/auth/login", json={"email": "normal@example.com", "password": PW})
    assert r.status_code == 200 and r.json()["role"] == "user", r.text
    session.headers["X-CSRF-Token"] = session.cookies["cw_csrf"]
    # Something to find: a document, so the read paths have real rows behind them.
    r = session.post(f"{base}/api/v1/documents",
                     files=[("files", ("seed.md", b"# Seed\n\nA document to search.\n", "text/markdown"))])
    assert r.status_code == 202
    return session


def _exercise(base: str, session: requests.Session, operation: Any) -> tuple[int, str | None]:
    """Run one operation's budget; returns the calls made and the first failure's report."""
    calls = 0

    @seed(7)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def exercise(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call(base_url=base, session=session, timeout=60)
        case.validate_response(response, checks=CHECKS)

    try:
        exercise()
    except (Exception, BaseExceptionGroup) as exc:  # a failed check (a FailureGroup) or other
        return calls, f"{operation.label}: {exc}"[:1500]
    return calls, None


def _run(base: str, session: requests.Session, skip: set[str]) -> tuple[int, list[str]]:
    spec: dict[str, Any] = session.get(f"{base}/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    total = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") in skip:
            continue
        calls, failure = _exercise(base, session, operation)
        total += calls
        if failure:
            failures.append(failure)
    return total, failures


def test_signed_in_user(live: str) -> None:
    calls, failures = _run(live, _signed_in(live), SESSION_ENDING)
    assert calls > 300
    assert not failures, "\n\n".join(failures)


def test_anonymous(live: str) -> None:
    calls, failures = _run(live, requests.Session(), set())
    assert calls > 300
    assert not failures, "\n\n".join(failures)
