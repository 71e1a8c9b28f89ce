"""`make stack` for real: scripts/stack.py starts PostgreSQL, Redis, Chroma, two API processes, a worker
and Debian's Nginx under supervisord on free loopback ports; everything below goes through Nginx.

Sign-in, an upload followed to `ready` through its progress, a streamed answer that cites it, the
JSON errors Nginx answers itself (413, 502), supervisord bringing back a Redis and an Nginx killed
with SIGKILL, then SIGINT to the launcher: every process of the stack must be gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import docgen
from tests.api.helpers import parse_sse

REPO = Path(__file__).resolve().parents[3]
STACK = REPO / "scripts" / "stack.py"
VENV_BIN = Path(sys.executable).parent
START_LIMIT_S = 420  # a loaded 2-core machine imports the app slowly; nothing here is timed
PASSWORD = "stack-test-password"  # a throwaway account


def _free_ports(n: int, consecutive: int = 1) -> list[int]:
    """n distinct free ports; the first ``consecutive`` of them in a row (the API processes)."""
    held: list[socket.socket] = []
    try:
        while True:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
            run = [s]
            for k in range(1, consecutive):
                t = socket.socket()
                try:
                    t.bind(("127.0.0.1", base + k))
                except OSError:
                    t.close()
                    break
                run.append(t)
            if len(run) == consecutive:
                held += run
                break
            for t in run:
                t.close()
        while len(held) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def _session_pids(sid: int) -> set[int]:
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[3]) == sid:
                pids.add(int(stat.parent.name))
    return pids


@dataclass
class Stack:
    proc: subprocess.Popen[bytes]
    dir: Path
    log: Path
    url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ctl(self, *args: str) -> str:
        return subprocess.run([str(VENV_BIN / "supervisorctl"), "-c", str(self.dir / "supervisord.conf"), *args],
                              capture_output=True, text=True, check=False, timeout=60).stdout

    def supervisord_pid(self) -> int:
        return int((self.dir / "run" / "supervisord.pid").read_text())


def _require(binary: str, how: str) -> None:
    if not shutil.which(binary):
        pytest.fail(f"`{binary}` is missing: {how}", pytrace=False)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    _require("nginx", "`make services` installs Debian's nginx")
    _require("redis-server", "install Debian's redis-server")
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        pytest.fail("no PostgreSQL server binaries under /usr/lib/postgresql", pytrace=False)
    if not (VENV_BIN / "supervisord").exists():
        pytest.fail("supervisord is not installed in the virtualenv (make install-dev)", pytrace=False)
    # PostgreSQL runs as its own account when the tests run as root: the directory must be enterable.
    root = Path(tempfile.mkdtemp(prefix="citewise-stack-test-", dir="/tmp"))
    root.chmod(0o755)
    api_base, _, http, redis, pg, chroma = _free_ports(6, consecutive=2)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "STACK_"))}
    env.update(STACK_DIR=str(root / "stack"), STACK_HTTP_PORT=str(http), STACK_REDIS_PORT=str(redis),
               STACK_PG_PORT=str(pg), STACK_CHROMA_PORT=str(chroma), STACK_API_PORT=str(api_base),
               STACK_API_PROCS="2", STACK_WORKERS="1", STACK_START_TIMEOUT=str(START_LIMIT_S),
               # Every request of this module comes from 127.0.0.1.
               CITEWISE_REGISTRATION_RATE_LIMIT_PER_HOUR="1000", CITEWISE_LOG_JSON="false")
    log = root / "stack.out"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(STACK)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=REPO)
    s = Stack(proc, root / "stack", log, f"http://127.0.0.1:{http}")
    sid = 0
    try:
        deadline = time.monotonic() + START_LIMIT_S + 60
        while "stack: READY" not in s.output():
            assert proc.poll() is None, f"the stack exited ({proc.returncode}):\n{s.output()[-4000:]}"
            assert time.monotonic() < deadline, f"the stack did not start:\n{s.output()[-4000:]}"
            time.sleep(1)
        sid = s.supervisord_pid()  # its own session: every process of the stack is in it
        yield s
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
        # Anything still alive in the stack's session is a leak the test below reports; kill it here
        # so one failure does not leave servers behind.
        for pid in _session_pids(sid) if sid else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def _browser(url: str) -> httpx.Client:
    # What the SPA sends: same-origin Origin on state-changing requests, CSRF header from the cookie.
    return httpx.Client(base_url=url, timeout=120, headers={"Origin": url})


def _csrf(client: httpx.Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies.get("cw_csrf") or ""}


def _wait(what: str, check: object, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while not (callable(check) and check()):
        assert time.monotonic() < deadline, f"{what} within {limit:.0f} s"
        time.sleep(0.5)


def _ok(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_stack_serves_the_whole_flow_through_nginx(stack: Stack, tmp_path: Path) -> None:
    email = "owner@example.com"
    with _browser(stack.url) as c:
        r = c.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert r.status_code == 202, r.text  # no session: sign in next
        r = c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200 and r.json()["role"] == "admin"  # the first account of a fresh stack
    # Sign in again from a fresh browser: the session cookie must work across both API processes.
    with _browser(stack.url) as c:
        r = c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        for _ in range(4):  # least_conn spreads these over both processes
            assert c.get("/api/v1/auth/me").json()["email"] == email

        pages = ["Kestrel-7 valve manual.\n\nThe Kestrel-7 valve opens at a pressure of 17 bar.",
                 "Maintenance.\n\nGrease the Kestrel-7 spindle every 300 operating hours."]
        pdf = docgen.pdf(tmp_path / "kestrel.pdf", pages)
        r = c.post("/api/v1/documents", headers=_csrf(c),
                   files=[("files", ("kestrel.pdf", pdf.read_bytes(), "application/pdf"))])
        assert r.status_code == 202, r.text
        doc_id = r.json()["documents"][0]["id"]
        seen: list[tuple[str, str | None, int]] = []
        deadline = time.monotonic() + 300
        while True:
            doc = c.get(f"/api/v1/documents/{doc_id}").json()
            seen.append((doc["status"], doc["stage"], doc["progress"]))
            if doc["status"] in ("ready", "failed"):
                break
            assert time.monotonic() < deadline, f"not processed in 300 s: {seen[-5:]}"
            time.sleep(0.2)
        assert doc["status"] == "ready", doc
        assert doc["page_count"] == 2 and doc["chunk_count"] >= 1
        progress = [p for _, _, p in seen]
        assert progress == sorted(progress) and progress[-1] == 100, seen

        conv = c.post("/api/v1/conversations", json={}, headers=_csrf(c)).json()["id"]
        with c.stream("POST", f"/api/v1/conversations/{conv}/messages", headers={
                **_csrf(c), "Accept": "text/event-stream"},
                json={"content": "At what pressure does the Kestrel-7 valve open?"}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert "content-length" not in r.headers  # streamed, not buffered into one body
            body = ""
            for chunk in r.iter_text():
                body += chunk
        events = parse_sse(body)
        names = [n for n, _ in events]
        assert names[0] == "sources" and names[-1] == "done" and "token" in names, names
        answer = "".join(d.get("text", "") for n, d in events if n == "token")
        assert "17 bar" in answer, answer
        citations = next(d for n, d in events if n == "citations")
        assert any(cit["document_id"] == doc_id and cit["page"] == 1
                   for cit in citations["citations"]), citations

        # Nginx's own errors on /api come in the API's JSON error shape.
        r = c.post("/api/v1/conversations", headers={**_csrf(c), "Content-Type": "application/json"},
                   content=b"{" + b" " * (3 * 1024 * 1024) + b"}")
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/json"
        assert r.json()["error"] == "request_too_large" and r.json()["detail"]


def test_security_headers_come_once_through_nginx(stack: Stack) -> None:
    """Nginx adds them to every response; the API processes behind it add none (the stack sets
    CITEWISE_SECURITY_HEADERS=false), so no header comes twice, on the API's answers or Nginx's."""
    names = ["content-security-policy", "x-frame-options", "x-content-type-options",
             "referrer-policy", "permissions-policy", "strict-transport-security"]
    with _browser(stack.url) as c:
        answers = {
            "API JSON": c.get("/api/v1/ready"),
            "API error": c.get("/api/v1/documents"),  # 401 from the API
            "Nginx 404": c.get("/assets/no-such-file.js"),
        }
        assert answers["API error"].status_code == 401, answers["API error"].text
        assert answers["Nginx 404"].status_code == 404
        for what, r in answers.items():
            counts = {name: len(r.headers.get_list(name)) for name in names}
            assert counts == dict.fromkeys(names, 1), (what, r.headers)
        assert answers["API JSON"].headers["x-frame-options"] == "DENY"


def test_nginx_answers_json_while_no_api_process_is_up(stack: Stack) -> None:
    assert "stopped" in stack.ctl("stop", "api:*")
    try:
        with _browser(stack.url) as c:
            r = c.get("/api/v1/documents")
            assert r.status_code == 502
            assert r.headers["content-type"] == "application/json"
            assert r.json()["error"] == "unavailable"
    finally:
        stack.ctl("start", "api:*")
    with _browser(stack.url) as c:
        _wait("the API processes are back", lambda: _ok(c, "/api/v1/ready"))


@pytest.mark.parametrize("program", ["redis", "nginx"])
def test_a_killed_process_is_restarted_alone(stack: Stack, program: str) -> None:
    def pid(name: str) -> int:
        out = stack.ctl("pid", name).strip()
        return int(out) if out.isdigit() else 0

    others = {name: pid(name) for name in ("postgres", "chroma", "api:api-1", "api:api-2", "redis", "nginx")
              if name != program}
    before = pid(program)
    assert before > 0
    os.kill(before, signal.SIGKILL)
    _wait(f"supervisord restarts {program}", lambda: pid(program) not in (0, before)
          and "RUNNING" in stack.ctl("status", program))
    with _browser(stack.url) as c:
        _wait("the stack answers ready again", lambda: _ok(c, "/api/v1/ready"))
    assert {name: pid(name) for name in others} == others, "only the killed process may restart"


def test_sigint_stops_every_process(stack: Stack) -> None:
    sid = stack.supervisord_pid()
    running = _session_pids(sid)
    assert len(running) >= 7, running  # supervisord, postgres (+ its backends), redis, chroma, 2 APIs...
    stack.proc.send_signal(signal.SIGINT)
    assert stack.proc.wait(timeout=180) == 0, stack.output()[-3000:]
    assert "stack: stopped" in stack.output()
    left = _session_pids(sid)
    assert not left, f"still running after Ctrl-C: {left}"
