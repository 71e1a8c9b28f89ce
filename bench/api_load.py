"""API under concurrent users: list documents, search, extractive chat against a real uvicorn server.

    cd backend && .venv/bin/python ../bench/api_load.py                     # 50 users x 20 requests
    cd backend && .venv/bin/python ../bench/api_load.py --users 10 --requests 10
    cd backend && .venv/bin/python ../bench/api_load.py --stack             # production topology

Starts `uvicorn app.main:app_factory --factory` (embedded profile, one process, temp data dir) on a
free loopback port. Every simulated user registers, uploads one small real PDF (so every query is
owner-filtered over a collection holding everyone's chunks) and opens a conversation; once every
document is ready, all users start at once; each waits for its previous answer, then "reads" for a
random think time (uniform 0.5–1.5 x --think seconds, default 2 s, as people do between clicks)
before the next request. `--think 0` removes the pause: 50 requests always in flight, a saturation
test of the server rather than 50 people. Reports errors and p50/p95/p99 per endpoint (DESIGN §7:
0 errors, p99 < 250 ms). The run is bounded by --requests per user and --deadline seconds.

`--stack` drives the production topology instead: `scripts/stack.py` (what `make stack` runs) in a
temp dir on free loopback ports — PostgreSQL, Redis, the Chroma server, `--api-procs` API processes
behind Nginx and `--workers` ARQ workers — and every request goes through Nginx. Peak RSS is then
the sum over the API processes (the workers are reported apart).

Before measuring, every user makes one search that is not counted: an API process loads its query
embedder on its first search, and the stack's API processes (unlike the embedded server, which
embedded the uploads itself) would otherwise pay that inside the measured phase.

Both modes then print where the measured phase's time went (bench/_where.py): CPU time and time
spent waiting for a CPU (the kernel's run-queue accounting) per process group — the stack's API
processes, workers, PostgreSQL, Redis, Chroma and Nginx, or the one embedded server — and for this
client; what the rest of the machine used meanwhile and how often a runnable task waited
(/proc/pressure/cpu); each endpoint's mean as the client saw it next to the mean the API processes
measured inside the handler (their Prometheus metrics); and, for the stack, PostgreSQL
transactions and WAL fsyncs and Redis commands per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c
import _where

DEFAULT_PDF = "layout-parser-paper-fast.pdf"
QUERIES = ["layout detection models", "document image analysis toolkit", "optical character recognition",
           "deep learning for documents", "how are layouts represented", "open source library",
           "dataset for training", "evaluation of the models", "community platform for sharing models",
           "what does the paper propose"]
ENDPOINTS = ("list", "search", "chat")


# Every simulated user comes from 127.0.0.1: lift the per-address limits.
UNTHROTTLED = {"CITEWISE_API_RATE_LIMIT_PER_MINUTE": "1000000",
               "CITEWISE_LOGIN_MAX_FAILURES_PER_IP": "1000000",
               "CITEWISE_REGISTRATION_RATE_LIMIT_PER_HOUR": "1000000", "CITEWISE_LOG_LEVEL": "WARNING"}


def start_server(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CITEWISE_DATA_DIR": str(tmp / "data"), "CITEWISE_SECRET_KEY": c.BENCH_SECRET,
           "CITEWISE_SERVE_FRONTEND": "false", "CITEWISE_COOKIE_SECURE": "false", **UNTHROTTLED}
    log = (tmp / "server.log").open("wb")
    # cwd = tmp so no developer's .env is picked up.
    return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "uvicorn", "app.main:app_factory", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)


def start_stack(tmp: Path, api_procs: int, workers: int) -> tuple[subprocess.Popen[bytes], str, int]:
    """scripts/stack.py on free loopback ports in ``tmp``; returns it, Nginx's URL and the first API
    process's port once READY."""
    tmp.chmod(0o755)  # PostgreSQL runs as its own account when this runs as root
    api = consecutive_free_ports(api_procs)
    http, redis, pg, chroma = (c.free_port() for _ in range(4))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "STACK_"))}
    env.update(UNTHROTTLED, STACK_DIR=str(tmp / "stack"), STACK_HTTP_PORT=str(http),
               STACK_REDIS_PORT=str(redis), STACK_PG_PORT=str(pg), STACK_CHROMA_PORT=str(chroma),
               STACK_API_PORT=str(api), STACK_API_PROCS=str(api_procs), STACK_WORKERS=str(workers))
    log = tmp / "stack.out"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(c.ROOT / "scripts" / "stack.py")],  # noqa: S603
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while "stack: READY" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the stack did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(1)
    return proc, f"http://127.0.0.1:{http}", api


def consecutive_free_ports(n: int) -> int:
    """The first of ``n`` free loopback ports in a row (the stack's API processes)."""
    import socket

    while True:
        base = c.free_port()
        with contextlib.ExitStack() as held:
            try:
                for port in range(base, base + n):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
            return base


def stack_programs(stack_dir: Path) -> dict[str, list[int]]:
    """PIDs of the stack's running programs by supervisord group (api, workers) or program name
    (postgres, redis, chroma, nginx)."""
    import re

    out = subprocess.run([str(Path(sys.executable).parent / "supervisorctl"), "-c",  # noqa: S603
                          str(stack_dir / "supervisord.conf"), "status"],
                         capture_output=True, text=True, check=False).stdout
    programs: dict[str, list[int]] = {}
    for name, pid in re.findall(r"^(\S+)\s+RUNNING\s+pid (\d+)", out, re.M):
        programs.setdefault(name.split(":")[0], []).append(int(pid))
    return programs


def stack_pids(stack_dir: Path, group: str) -> list[int]:
    return stack_programs(stack_dir).get(group, [])


async def stack_counters(stack_dir: Path) -> dict[str, float]:
    """Round trips so far: PostgreSQL transactions (pg_stat_database, flushed within a second) and
    Redis commands of the stack's own servers."""
    import asyncpg
    import redis

    env = dict(line.split("=", 1) for line in (stack_dir / "citewise.env").read_text().splitlines()
               if "=" in line and not line.startswith("#"))
    dsn = env["DATABASE_URL"].strip("'").replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        xacts = await conn.fetchval("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                    "WHERE datname = current_database()")
        # WAL flushes: each is an fsync a committing request waits for (synchronous_commit=on).
        syncs = await conn.fetchval("SELECT wal_sync FROM pg_stat_wal")
    finally:
        await conn.close()
    with redis.Redis.from_url(env["REDIS_URL"].strip("'")) as client:
        commands = client.info("stats")["total_commands_processed"]
    return {"PostgreSQL transactions": float(xacts), "PostgreSQL WAL fsyncs": float(syncs),
            "Redis commands": float(commands)}


def stop_stack(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()


async def wait_healthy(url: str, proc: subprocess.Popen[bytes], tmp: Path) -> None:
    import httpx

    deadline = time.monotonic() + 180
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited; see {tmp / 'server.log'}")
            try:
                if (await client.get(f"{url}/api/v1/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("server did not become healthy within 180 s")


class User:
    def __init__(self, url: str, n: int) -> None:
        import httpx

        self.n = n
        self.client = httpx.AsyncClient(base_url=url, timeout=60)
        self.conversation = ""

    async def setup(self, pdf: Path) -> None:
        await c.register(self.client, f"load{self.n}@example.com")
        files = [("files", (pdf.name, pdf.read_bytes(), "application/pdf"))]  # noqa: ASYNC240 - setup
        r = await self.client.post("/api/v1/documents", files=files)
        if r.status_code != 202:
            raise SystemExit(f"upload failed: {r.status_code} {r.text}")
        self.conversation = (await self.client.post("/api/v1/conversations", json={})).json()["id"]

    async def ready(self) -> bool:
        import httpx

        try:
            items = (await self.client.get("/api/v1/documents")).json()["items"]
        except httpx.RemoteProtocolError:
            # Setup only: a connection idle past uvicorn's 5 s keep-alive can be closed by the
            # server just as the client reuses it. Not counted; the measured phase has no retries.
            return False
        if any(d["status"] == "failed" for d in items):
            raise SystemExit(f"ingestion failed: {items}")
        return bool(items) and all(d["status"] == "ready" for d in items)

    async def request(self, endpoint: str, rng: random.Random) -> int:
        if endpoint == "list":
            r = await self.client.get("/api/v1/documents")
        elif endpoint == "search":
            r = await self.client.post("/api/v1/search", json={"query": rng.choice(QUERIES), "k": 5})
        else:
            r = await self.client.post(f"/api/v1/conversations/{self.conversation}/messages",
                                       json={"content": rng.choice(QUERIES)},
                                       headers={"Accept": "application/json"})
        return r.status_code


async def user_loop(user: User, n_requests: int, deadline: float, seed: int, think: float,
                    lat: dict[str, list[float]], errors: dict[str, list[str]]) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload mix, not security
    if think:  # users arrive spread over one think time, not in one burst
        await asyncio.sleep(rng.uniform(0, think))
    for n in range(n_requests):
        if time.monotonic() > deadline:
            return
        if think and n:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
        endpoint = rng.choice(ENDPOINTS)
        t = time.perf_counter()
        try:
            status = await user.request(endpoint, rng)
            if status >= 400:
                errors[endpoint].append(str(status))
        except Exception as exc:  # a timeout or reset is an error of the run, not a crash
            errors[endpoint].append(type(exc).__name__)
        lat[endpoint].append((time.perf_counter() - t) * 1000)


def server_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(args: argparse.Namespace) -> dict[str, Any]:
    pdf = Path(args.pdf) if args.pdf else c.PDF_DIR / DEFAULT_PDF
    with tempfile.TemporaryDirectory(prefix="citewise-bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        if args.stack:
            proc, url, api_port = start_stack(tmp, args.api_procs, args.workers)
            log_path = tmp / "stack" / "log"
            metrics_url = f"http://127.0.0.1:{api_port}/api/v1/metrics"  # straight to an API process
        else:
            port = c.free_port()
            url = f"http://127.0.0.1:{port}"
            proc = start_server(tmp, port)
            log_path = tmp / "server.log"
            metrics_url = f"{url}/api/v1/metrics"
        users: list[User] = []
        try:
            if not args.stack:
                await wait_healthy(url, proc, tmp)
            users = [User(url, i) for i in range(args.users)]
            t = time.perf_counter()
            for u in users:  # sequential: registration hashes a password, uploads queue jobs
                await u.setup(pdf)
            setup_deadline = time.monotonic() + args.setup_timeout
            while not all(await asyncio.gather(*(u.ready() for u in users))):
                if time.monotonic() > setup_deadline:
                    raise SystemExit("documents not ready in time")
                await asyncio.sleep(1)
            setup_s = time.perf_counter() - t
            # Not measured: each API process loads its query embedder on its first search (seconds
            # of CPU); a search per user reaches every process (Nginx's least_conn spreads them).
            for u in users:
                await u.request("search", random.Random(u.n))  # noqa: S311 - not security

            lat: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
            errors: dict[str, list[str]] = {e: [] for e in ENDPOINTS}
            if args.stack:
                groups = stack_programs(tmp / "stack")
            else:
                groups = {"server (API, SQLite, Chroma, jobs)": [proc.pid]}
            groups["bench client"] = [os.getpid()]

            async def counters() -> dict[str, float]:
                if not args.stack:
                    return {}
                await asyncio.sleep(1.5)  # PostgreSQL flushes its statistics at most once a second
                return await stack_counters(tmp / "stack")

            before = _where.snapshot(groups, metrics_url, await counters())
            load_before = os.getloadavg()
            t = time.perf_counter()
            deadline = time.monotonic() + args.deadline
            await asyncio.gather(*(user_loop(u, args.requests, deadline, i, args.think, lat, errors)
                                   for i, u in enumerate(users)))
            elapsed = time.perf_counter() - t
            load_after = os.getloadavg()
            after = _where.snapshot(groups, metrics_url)
            after.counters = await counters()
            where = _where.explain(before, after, requests=sum(len(v) for v in lat.values()),
                                   client_ms=lat)
            if args.stack:
                hwm = sum(server_hwm_mb(p) for p in stack_pids(tmp / "stack", "api"))
                worker_hwm = sum(server_hwm_mb(p) for p in stack_pids(tmp / "stack", "workers"))
            else:
                hwm, worker_hwm = server_hwm_mb(proc.pid), 0.0
            # The data dir is deleted on exit: keep the server's distinct error lines as evidence.
            logs = sorted(log_path.glob("*.log")) if log_path.is_dir() else [log_path]
            log_lines = [ln for f in logs for ln in f.read_text(errors="replace").splitlines()]
            server_errors = list(dict.fromkeys(
                ln.strip()[:200] for ln in log_lines if "Error" in ln or "error" in ln))[:10]
        finally:
            await asyncio.gather(*(u.client.aclose() for u in users))
            if args.stack:
                stop_stack(proc)
            else:
                proc.terminate()
                proc.wait(timeout=60)
    done = sum(len(v) for v in lat.values())
    return {
        "profile": (f"stack: {args.api_procs} API processes behind Nginx, {args.workers} workers"
                    if args.stack else "embedded: one process"),
        "users": args.users, "requests_per_user": args.requests, "think_s": args.think,
        "completed": done,
        "seconds": round(elapsed, 1), "throughput_rps": round(done / elapsed, 1),
        "setup_s": round(setup_s, 1), "errors": {e: len(v) for e, v in errors.items()},
        "error_kinds": {e: sorted(set(v)) for e, v in errors.items() if v},
        "latency_ms": {e: c.summary_ms(v) for e, v in lat.items()},
        "all_ms": c.summary_ms([x for v in lat.values() for x in v]),
        "server_peak_rss_mb": round(hwm, 1), "worker_peak_rss_mb": round(worker_hwm, 1),
        "server_error_lines": server_errors,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "where": where,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="requests per user")
    parser.add_argument("--deadline", type=float, default=300, help="stop issuing after this many s")
    parser.add_argument("--setup-timeout", type=float, default=900)
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean pause between a user's requests, s (0: closed loop, saturation)")
    parser.add_argument("--pdf", help="the document every user uploads")
    parser.add_argument("--stack", action="store_true",
                        help="drive the production topology (scripts/stack.py) through its Nginx")
    parser.add_argument("--api-procs", type=int, default=2, help="API processes of --stack")
    parser.add_argument("--workers", type=int, default=2, help="ARQ workers of --stack")
    args = parser.parse_args()
    r = asyncio.run(run(args))

    print(f"\n{r['profile']}: {r['users']} users (think {r['think_s']} s), {r['completed']} requests in "
          f"{r['seconds']} s ({r['throughput_rps']} req/s); setup {r['setup_s']} s; "
          f"load average before {r['loadavg_before']}, after {r['loadavg_after']}\n")
    rows = [[e, s["n"], r["errors"][e], s["p50"], s["p95"], s["p99"], s["max"]]
            for e, s in r["latency_ms"].items()]
    a = r["all_ms"]
    rows.append(["all", a["n"], sum(r["errors"].values()), a["p50"], a["p95"], a["p99"], a["max"]])
    c.print_table(["endpoint", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows)
    if r["error_kinds"]:
        print(f"\nerrors: {r['error_kinds']}")
        print("server log:\n  " + "\n  ".join(r["server_error_lines"]))
    print(f"server peak RSS {r['server_peak_rss_mb']} MB"
          + (f" (API processes); workers {r['worker_peak_rss_mb']} MB" if r["worker_peak_rss_mb"] else ""))
    _where.print_explanation(r["where"], c.print_table)
    c.emit_json("api_load", r)


if __name__ == "__main__":
    main()
