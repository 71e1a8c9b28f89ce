"""The production topology as real processes, for fault tests: a PostgreSQL cluster, a Redis
server and a Chroma server of the suite's own (so they can be stopped and started), one
`citewise serve` API process and `citewise worker` processes, all on loopback.

Ports are free loopback ports picked by the OS, or taken from CITEWISE_TEST_PORT_RANGE
("18300-18399") when it is set. Every process started here is stopped here, by its own handle.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.providers.conftest import _chroma_binary

BACKEND_DIR = Path(__file__).resolve().parents[2]
CITEWISE = BACKEND_DIR / ".venv" / "bin" / "citewise"
ARQ = BACKEND_DIR / ".venv" / "bin" / "arq"  # the spec's worker command: arq app.workers.tasks.WorkerSettings
# Variables the processes must not inherit from whoever runs the tests.
_INHERITED = ("DATABASE_URL", "REDIS_URL", "CHROMA_URL", "SECRET_KEY")


# ---- ports and processes -------------------------------------------------------------------------

def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


_taken: set[int] = set()


def pick_port() -> int:
    spec = os.environ.get("CITEWISE_TEST_PORT_RANGE", "")
    if spec:
        low, high = (int(p) for p in spec.split("-"))
        for port in range(low, high + 1):
            if port not in _taken and _bindable(port):
                _taken.add(port)
                return port
        pytest.fail(f"no free port in CITEWISE_TEST_PORT_RANGE={spec}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{tail}")
        time.sleep(0.2)


class Process:
    """A child process logging to a file, in its own session (signals reach only it)."""

    def __init__(self, name: str, argv: list[str], log_path: Path, *, env: dict[str, str] | None = None,
                 cwd: Path = BACKEND_DIR) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then SIGKILL if it hangs."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return int(self.proc.returncode)

    def log_tail(self, chars: int = 3000) -> str:
        if not self._log.closed:  # a stopped process's log is closed, and still worth reading
            self._log.flush()
        return f"--- {self.name} (pid {self.pid})\n" + self.log_path.read_text(errors="replace")[-chars:]


# ---- the dependencies, each restartable on the same port and data -----------------------------

class RedisServer:
    """No persistence: a restart comes back empty, like a flushed or replaced Redis."""

    def __init__(self, tmp: Path) -> None:
        self.port = pick_port()
        self.tmp = tmp
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Process | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            pytest.fail("redis-server is not installed (make test installs it)")
        self.proc = Process("redis", [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
                            self.tmp / "redis.log")
        wait_until(lambda: _answers(self.port, b"PING\r\n", b"+PONG"), timeout=20,
                   what="redis-server", log=self.tmp / "redis.log")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


def _answers(port: int, request: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(request)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed (make test installs PostgreSQL)")
    return found[-1]


class PostgresCluster:
    """A cluster of the suite's own (initdb + pg_ctl), run as the `postgres` user when the tests
    run as root (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.port = pick_port()
        # Not under pytest's tmp dir: that one is private to root, and the server runs as postgres.
        self.dir = Path(tempfile.mkdtemp(prefix="citewise-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.url = f"postgresql+asyncpg://citewise@127.0.0.1:{self.port}/citewise"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as, *argv], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "citewise", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self.start()
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "citewise",
                  "citewise")

    def start(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ChromaServer:
    def __init__(self, tmp: Path) -> None:
        self.port = pick_port()
        self.tmp = tmp
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: Process | None = None

    def start(self) -> None:
        self.proc = Process("chroma", [_chroma_binary(), "run", "--path", str(self.tmp / "db"),
                                       "--host", "127.0.0.1", "--port", str(self.port)],
                            self.tmp / "chroma.log")

        def up() -> bool:
            assert self.proc is not None and self.proc.alive(), self.proc and self.proc.log_tail()
            try:
                return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, timeout=60, what="the Chroma server", log=self.tmp / "chroma.log")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


# ---- the topology ---------------------------------------------------------------------------------

@dataclass
class Topology:
    tmp: Path
    env: dict[str, str]
    postgres: PostgresCluster
    redis: RedisServer
    chroma: ChromaServer
    api_url: str = ""
    api: Process | None = None
    workers: list[Process] = field(default_factory=list)

    def start_api(self) -> None:
        port = pick_port()
        self.api_url = f"http://127.0.0.1:{port}"
        self.api = Process("api", [str(CITEWISE), "serve", "--host", "127.0.0.1", "--port", str(port)],
                           self.tmp / "api.log", env=self.env)

        def up() -> bool:
            assert self.api is not None and self.api.alive(), self.logs()
            try:
                return httpx.get(f"{self.api_url}/api/v1/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, timeout=90, what="the API process")

    def start_worker(self, command: list[str] | None = None, **overrides: str) -> Process:
        n = len(self.workers)
        worker = Process(f"worker-{n}", command or [str(CITEWISE), "worker"],
                         self.tmp / f"worker-{n}.log", env={**self.env, **overrides})
        self.workers.append(worker)
        return worker

    def live_workers(self) -> list[Process]:
        return [w for w in self.workers if w.alive()]

    def logs(self) -> str:
        procs = [p for p in (self.api, *self.workers) if p is not None]
        return "\n".join(p.log_tail(2500) for p in procs)

    def stop_all(self) -> None:
        for proc in [*self.workers, *([self.api] if self.api else [])]:
            proc.stop()


def topology_env(tmp: Path, postgres: PostgresCluster, redis: RedisServer,
                 chroma: ChromaServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CITEWISE_") and k not in _INHERITED}
    env.update({
        "CITEWISE_MODE": "production",
        "CITEWISE_DATABASE_URL": postgres.url,
        "CITEWISE_REDIS_URL": redis.url,
        "CITEWISE_CHROMA_URL": chroma.url,
        "CITEWISE_SECRET_KEY": TEST_SECRET,
        "CITEWISE_DATA_DIR": str(tmp / "data"),
        "CITEWISE_SERVE_FRONTEND": "false",
        "CITEWISE_COOKIE_SECURE": "false",  # plain http on loopback
        "CITEWISE_LOG_JSON": "false",
        "CITEWISE_EMBEDDING_THREADS": "1",
        # One document per worker at a time: a signal then hits exactly one document.
        "CITEWISE_JOB_CONCURRENCY": "1",
        # Shortened for the test (the defaults are 90 s and 30 s): a dead worker's or a lost
        # job's document is picked up again within seconds.
        "CITEWISE_JOB_LEASE_SECONDS": "10",
        "CITEWISE_RECONCILE_INTERVAL_SECONDS": "5",
        # Quick retries once a dependency is back; the window stays at 10 minutes, longer than
        # any outage here except the one that is meant to fail a document.
        "CITEWISE_JOB_RETRY_BASE_SECONDS": "1",
        "CITEWISE_JOB_RETRY_MAX_DELAY_SECONDS": "5",
        "CITEWISE_JOB_RETRY_WINDOW_SECONDS": "600",
        "CITEWISE_WORKER_SHUTDOWN_GRACE_SECONDS": "1",
        "PYTHONFAULTHANDLER": "1",  # a hung process shows its stacks on SIGABRT
    })
    return env


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    tmp = tmp_path_factory.mktemp("faults")
    (tmp / "data").mkdir()
    postgres = PostgresCluster()
    redis = RedisServer(tmp)
    chroma = ChromaServer(tmp)
    topo = Topology(tmp=tmp, env=topology_env(tmp, postgres, redis, chroma), postgres=postgres,
                    redis=redis, chroma=chroma)
    try:
        postgres.init()
        redis.start()
        chroma.start()
        migrate = subprocess.run([str(CITEWISE), "migrate"], cwd=BACKEND_DIR, env=topo.env,
                                 capture_output=True, text=True, timeout=120)
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        topo.start_api()
        topo.start_worker()
        topo.start_worker()
        yield topo
    finally:
        topo.stop_all()
        chroma.stop()
        redis.stop()
        postgres.destroy()
