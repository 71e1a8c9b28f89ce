"""Helpers shared by the benchmarks: paths, an app in a temp data dir, timing summaries, tables.

Every benchmark runs with the backend virtualenv from `backend/` (see bench/README.md) and never
downloads anything: documents come from `shared/eval`, models from installed packages.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import platform
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"
EVAL = ROOT.parent / "shared" / "eval"
SCIFACT = EVAL / "scifact"
PDF_DIR = EVAL / "docs" / "pdf"
sys.path.insert(0, str(BACKEND))

BENCH_SECRET = "bench-secret-" + "b" * 40
PASSWORD = "correct horse battery staple"  # noqa: S105 - throwaway bench accounts


# ---- app in a temporary data dir ------------------------------------------------------------------

def bench_settings(data_dir: Path, **overrides: Any) -> Any:
    """Embedded-profile settings in ``data_dir``; quiet logs, no SPA, plain-http cookies."""
    from app.core.config import Settings

    values: dict[str, Any] = {
        "data_dir": data_dir, "secret_key": BENCH_SECRET, "serve_frontend": False,
        "cookie_secure": False, "log_json": False, "log_level": "WARNING",
        # The load test registers/logs in many users from one address; lift the throttles.
        "api_rate_limit_per_minute": 1_000_000, "login_max_failures_per_ip": 1_000_000,
        "registration_rate_limit_per_hour": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def app_client(settings: Any) -> AsyncIterator[tuple[Any, Any]]:
    """The real app (create_app + lifespan) and an httpx client talking to it in-process."""
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport, AsyncClient

    from app.main import create_app

    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60):
        transport = ASGITransport(app=app, client=("127.0.0.1", 4321))
        async with AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
            yield app, client


async def register(client: Any, email: str) -> dict[str, Any]:
    """Register and sign in (the cookie session stays on ``client``); set the CSRF header."""
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    if r.status_code != 202:
        raise SystemExit(f"register failed: {r.status_code} {r.text}")
    return await login(client, email)


async def login(client: Any, email: str) -> dict[str, Any]:
    """Sign in a bench account (the cookie session stays on ``client``); set the CSRF header."""
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    if r.status_code != 200:
        raise SystemExit(f"sign-in failed: {r.status_code} {r.text}")
    client.headers["X-CSRF-Token"] = client.cookies.get("cw_csrf") or ""
    return dict(r.json())


async def sign_in(client: Any, email: str) -> dict[str, Any]:
    """Sign an existing bench user in (a data dir kept from an earlier run); set the CSRF header."""
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    if r.status_code != 200:
        raise SystemExit(f"sign-in failed: {r.status_code} {r.text}")
    client.headers["X-CSRF-Token"] = client.cookies.get("cw_csrf") or ""
    return dict(r.json())


async def upload_and_wait(client: Any, paths: Sequence[Path], *, limit_s: float = 1800.0,
                          poll: float = 0.5) -> list[dict[str, Any]]:
    """Upload files through the API and poll until every document is ready or failed."""
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    r = await client.post("/api/v1/documents", files=files)
    if r.status_code != 202:
        raise SystemExit(f"upload failed: {r.status_code} {r.text}")
    body = r.json()
    docs = body if isinstance(body, list) else body.get("items") or body.get("documents") or []
    ids = [d["id"] for d in docs]
    deadline = time.monotonic() + limit_s
    final: dict[str, dict[str, Any]] = {}
    while len(final) < len(ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"documents not processed within {limit_s:.0f} s")
        for doc_id in ids:
            if doc_id in final:
                continue
            d = (await client.get(f"/api/v1/documents/{doc_id}")).json()
            if d["status"] in ("ready", "failed"):
                final[doc_id] = d
        await _sleep(poll)
    return [final[i] for i in ids]


async def chat_events(client: Any, question: str,
                      conversation_id: str | None = None) -> AsyncIterator[tuple[str, Any]]:
    """Ask ``question`` (in a new conversation unless one is given) and yield the chat stream's
    server-sent events as ``(event, data)``; the ``token`` events' data is their raw JSON."""
    if conversation_id is None:
        conversation_id = (await client.post("/api/v1/conversations", json={})).json()["id"]
    event = ""
    async with client.stream("POST", f"/api/v1/conversations/{conversation_id}/messages",
                             json={"content": question},
                             headers={"Accept": "text/event-stream"}) as r:
        if r.status_code != 200:
            raise SystemExit(f"chat failed: {r.status_code} {await r.aread()!r}")
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                yield event, json.loads(line[5:])


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def pdf_pages(name: str) -> int | None:
    """Page count of an eval PDF from MANIFEST.tsv."""
    manifest = EVAL / "docs" / "MANIFEST.tsv"
    for line in manifest.read_text().splitlines()[1:]:
        cols = line.split("\t")
        if cols[0] == f"pdf/{name}" and cols[4]:
            return int(cols[4])
    return None


# ---- SciFact --------------------------------------------------------------------------------------

def scifact_corpus() -> list[dict[str, str]]:
    with (SCIFACT / "corpus.jsonl").open() as fh:
        return [json.loads(line) for line in fh]


def scifact_queries() -> dict[str, str]:
    with (SCIFACT / "queries.jsonl").open() as fh:
        return {q["_id"]: q["text"] for q in map(json.loads, fh)}


def scifact_qrels(split: str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in (SCIFACT / "qrels" / f"{split}.tsv").read_text().splitlines()[1:]:
        qid, did, score = line.split("\t")
        qrels.setdefault(qid, {})[did] = int(score)
    return qrels


def bench_cache_dir() -> Path:
    """Where benchmarks keep what is slow to make (embeddings, built corpora): survives reboots,
    unlike /tmp. ``CITEWISE_BENCH_CACHE`` overrides ``~/.cache/citewise-bench``."""
    path = Path(os.environ.get("CITEWISE_BENCH_CACHE") or Path.home() / ".cache" / "citewise-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def embed_cached(texts: Sequence[str], *, batch_size: int = 16, cache_dir: Path | None = None,
                 label: str = "texts") -> Any:
    """Embed ``texts`` with the real LocalOnnxEmbedder, each vector cached on disk by model id,
    max length and the text's hash (one SQLite file per model in `bench_cache_dir()`).

    Returns a float32 array (len(texts), dim). Any run that embeds a text makes it free for every
    later run, whatever subset it asks for (``--docs 1000`` then the full corpus embeds each
    abstract once); an interrupted run keeps what it finished (saved every 256 texts). A changed
    embedding text has another hash, so stale vectors are never reused.
    """
    import asyncio
    import sqlite3

    import numpy as np

    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    embedder = LocalOnnxEmbedder(batch_size=batch_size)
    model = re.sub(r"[^\w.-]+", "_", f"{embedder.model_id}-{embedder.max_length}")
    path = (cache_dir or bench_cache_dir()) / f"embeddings-{model}.sqlite"
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        have: dict[str, Any] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            part = unique[start:start + 500]
            marks = ",".join("?" * len(part))
            for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})",  # noqa: S608
                                        part):
                have[key] = np.frombuffer(blob, dtype=np.float32)
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        missing = [k for k in unique if k not in have]
        t = time.perf_counter()
        for start in range(0, len(missing), 256):
            part = missing[start:start + 256]
            vecs = np.asarray(asyncio.run(embedder.embed_documents([texts[first[k]] for k in part])),
                              dtype=np.float32)
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                           [(k, v.tobytes()) for k, v in zip(part, vecs, strict=True)])
            db.commit()
            have.update(zip(part, vecs, strict=True))
            print(f"embedded {start + len(part)}/{len(missing)} {label} "
                  f"({time.perf_counter() - t:.0f} s) -> {path}", file=sys.stderr)
    finally:
        db.close()
    return np.stack([have[k] for k in keys]).astype(np.float32)


# ---- measuring and reporting ----------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max of values already in milliseconds."""
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "mean": round(sum(values) / len(values), 2) if values else math.nan,
        "max": round(max(values), 2) if values else math.nan,
    }


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def machine() -> dict[str, Any]:
    """What the figures depend on: date, cores, load average (the machine is shared)."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
    }


def emit_json(bench: str, payload: dict[str, Any]) -> None:
    """The machine-readable result: one JSON line, last line of output."""
    print(json.dumps({"bench": bench, **payload, "machine": machine()}, default=str))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb() -> dict[str, float]:
    """Peak RSS of this process and of its largest waited-for child (ru_maxrss is KiB on Linux)."""
    import resource

    return {
        "self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


class DescendantPeak:
    """Samples /proc for this process's descendants (extraction hosts and the children they fork, which
    RUSAGE_CHILDREN never sees: they are not its children) and keeps the largest
    VmHWM (peak RSS) seen. A child that lives less than one interval can be missed.

    ``cpu_s``: CPU seconds this process's direct children (the extraction hosts) spent while inside
    the ``with``, including the per-document children they forked and reaped (a host's cutime)."""

    def __init__(self, interval: float = 0.05) -> None:
        import threading

        self.peak_mb = 0.0
        self.seen: set[int] = set()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._cpu0: dict[int, float] = {}
        self._cpu: dict[int, float] = {}

    @property
    def cpu_s(self) -> float:
        return sum(cpu - self._cpu0.get(pid, 0.0) for pid, cpu in self._cpu.items())

    def __enter__(self) -> DescendantPeak:
        self._cpu0 = {pid: _cpu_s(pid) for pid in _children(os.getpid())}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        me = os.getpid()
        # Walk this process's tree only (/proc/PID/task/TID/children): scanning every process
        # of a busy machine several times a second costs the measured process real CPU.
        todo, seen = [me], set()
        while todo:
            pid = todo.pop()
            for child in _children(pid):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
                    if pid == me:
                        self._cpu[child] = max(self._cpu.get(child, 0.0), _cpu_s(child))
        for pid in seen:
            self.seen.add(pid)
            self.peak_mb = max(self.peak_mb, _hwm_mb(pid))


def _cpu_s(pid: int) -> float:
    """utime + stime + cutime + cstime of ``pid`` (its waited-for children included), seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After "pid (comm)": state is fields[0], so utime..cstime (stat fields 14-17) are [11:15].
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(x) for x in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@asynccontextmanager
async def served_app(settings: Any, port: int | None = None) -> AsyncIterator[tuple[Any, str]]:
    """The real app behind a real uvicorn server on a loopback port, in this event loop.

    Streaming needs a real server: httpx's ASGITransport buffers the whole response body.
    """
    import asyncio

    import uvicorn

    from app.main import create_app

    app = create_app(settings)
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", access_log=False,
                                           # Bench clients sit idle while others sign in (argon2)
                                           # or a corpus loads: uvicorn's 5 s default closed their
                                           # connections under load, racing the next request.
                                           timeout_keep_alive=600))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 120
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise SystemExit("uvicorn did not start")
        await asyncio.sleep(0.05)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


# ---- the many-small-documents set -----------------------------------------------------------------

SMALL_SOURCES = ("html/live-manual.en.html", "html/python_library_functools.html",
                 "html/python_library_json.html", "html/python_tutorial_classes.html",
                 "html/example-with-scripts.html", "markdown/crypto.md", "markdown/url.md")
_HTML_HEADING = re.compile(r"<h[1-4]\b", re.I)
_MD_HEADING = re.compile(r"(?m)^(?=#{1,3} )")
_TAG = re.compile(r"<[^>]+>")


def many_small_docs(out_dir: Path, *, min_words: int = 250) -> list[Path]:
    """The eval set has only 10 HTML/Markdown files; this cuts 7 of them (the Python docs pages,
    the Debian live manual, two long Markdown files) at their headings (HTML h1-h4, Markdown # to
    ###) into one file per section, merging consecutive sections of the same file until a piece has
    ``min_words`` words (last pieces shorter than 40 words are dropped). Deterministic: the same
    inputs always give the same files (123 with the defaults). HTML pieces keep the source's
    ``<head>`` so they parse as the pages they came from."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for source in SMALL_SOURCES:
        text = (EVAL / "docs" / source).read_text(encoding="utf-8", errors="replace")
        if source.endswith((".html", ".htm")):
            body = re.search(r"<body\b[^>]*>(.*)</body>", text, re.S | re.I)
            head = re.search(r"<head\b.*?</head>", text, re.S | re.I)
            inner = body.group(1) if body else text
            cuts = [0, *(m.start() for m in _HTML_HEADING.finditer(inner)), len(inner)]
            sections = [inner[a:b] for a, b in itertools.pairwise(cuts) if b > a]
            words = [len(_TAG.sub(" ", s).split()) for s in sections]

            def wrap(piece: str, head: Any = head) -> str:
                return (f"<!DOCTYPE html><html>{head.group(0) if head else ''}"
                        f"<body>{piece}</body></html>")
        else:
            sections = [s for s in _MD_HEADING.split(text) if s]
            words = [len(s.split()) for s in sections]

            def wrap(piece: str, head: Any = None) -> str:
                return piece
        piece, count = "", 0
        pieces: list[str] = []
        for section, n in zip(sections, words, strict=True):
            piece, count = piece + section, count + n
            if count >= min_words:
                pieces.append(piece)
                piece, count = "", 0
        if count >= 40:
            pieces.append(piece)
        stem, suffix = Path(source).stem, Path(source).suffix
        for k, p in enumerate(pieces):
            path = out_dir / f"{stem}-{k:03d}{suffix}"
            path.write_text(wrap(p), encoding="utf-8")
            paths.append(path)
    return paths
