"""Where a load run's time goes: CPU and run-queue waits per process group, server-side time per
route, round trips to PostgreSQL and Redis, and what the rest of the machine did meanwhile.

A request's latency is the sum of the time its processes ran and the time they waited: for I/O,
for each other, and for a CPU. The kernel accounts the last one per thread
(/proc/PID/task/TID/schedstat: ns on a CPU, ns runnable but waiting for one), and for the whole
machine (/proc/pressure/cpu: the share of time some runnable task waited). A topology whose
request crosses more processes (Nginx, an API process, PostgreSQL backends, the Chroma server,
Redis) pays one scheduling wait per hop, which is nothing on a quiet machine and tens of
milliseconds each on a machine with ten runnable tasks per core.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import _children

# The bench's endpoints as the API's Prometheus metrics name them (method, end of the route template).
ROUTES = {"list": ("GET", "/documents"), "search": ("POST", "/search"), "chat": ("POST", "}/messages")}
_SERIES = re.compile(r'^citewise_http_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$', re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def _tree(pid: int) -> list[int]:
    seen, todo = [pid], [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.append(child)
                todo.append(child)
    return seen


def _sched_ns(pid: int) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting) summed over the process's threads."""
    run = wait = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                fields = (task / "schedstat").read_text().split()
                run += int(fields[0])
                wait += int(fields[1])
    return run, wait


def _machine_busy_s() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu_pressure_us() -> int | None:
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return None
    return int(some.rsplit("total=", 1)[1])


def route_seconds(metrics_url: str) -> dict[str, tuple[float, float]]:
    """endpoint → (sum of seconds, count) from an API process's Prometheus metrics (loopback:
    the API serves them to a direct loopback client). Several API processes share one multiprocess
    directory, so one scrape covers them all."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=10) as r:  # noqa: S310 - our loopback URL
            text = r.read().decode()
    except OSError:
        return {}
    found: dict[tuple[str, str], dict[str, float]] = {}
    for kind, labels, value in _SERIES.findall(text):
        lab = dict(_LABEL.findall(labels))
        found.setdefault((lab.get("method", ""), lab.get("route", "")), {})[kind] = float(value)
    out = {}
    for endpoint, (method, suffix) in ROUTES.items():
        series = [v for (m, route), v in found.items() if m == method and route.endswith(suffix)]
        out[endpoint] = (sum(v.get("sum", 0.0) for v in series), sum(v.get("count", 0.0) for v in series))
    return out


@dataclass
class Snapshot:
    at: float
    groups: dict[str, tuple[int, int]]
    machine_busy_s: float
    pressure_us: int | None
    routes: dict[str, tuple[float, float]]
    counters: dict[str, float] = field(default_factory=dict)


def snapshot(groups: Mapping[str, Sequence[int]], metrics_url: str | None,
             counters: Mapping[str, float] | None = None) -> Snapshot:
    sampled: dict[str, tuple[int, int]] = {}
    for name, pids in groups.items():
        run = wait = 0
        for pid in pids:
            for p in _tree(pid):
                r, w = _sched_ns(p)
                run, wait = run + r, wait + w
        sampled[name] = (run, wait)
    return Snapshot(time.monotonic(), sampled, _machine_busy_s(), _cpu_pressure_us(),
                    route_seconds(metrics_url) if metrics_url else {}, dict(counters or {}))


def explain(before: Snapshot, after: Snapshot, *, requests: int,
            client_ms: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """The measured phase between two snapshots, per request where that helps."""
    elapsed = after.at - before.at
    n = max(1, requests)
    groups = {}
    for name, (run, wait) in after.groups.items():
        run0, wait0 = before.groups.get(name, (0, 0))
        groups[name] = {"cpu_s": round((run - run0) / 1e9, 2),
                        "cpu_ms_per_request": round((run - run0) / 1e6 / n, 2),
                        "cpu_wait_s": round((wait - wait0) / 1e9, 2),
                        "cpu_wait_ms_per_request": round((wait - wait0) / 1e6 / n, 2)}
    ours = sum(g["cpu_s"] for g in groups.values())
    busy = after.machine_busy_s - before.machine_busy_s
    routes = {}
    for endpoint, latencies in client_ms.items():
        s1, c1 = after.routes.get(endpoint, (0.0, 0.0))
        s0, c0 = before.routes.get(endpoint, (0.0, 0.0))
        server = (s1 - s0) / (c1 - c0) * 1000 if c1 > c0 else None
        client = sum(latencies) / len(latencies) if latencies else None
        routes[endpoint] = {"client_mean_ms": round(client, 1) if client is not None else None,
                            "server_mean_ms": round(server, 1) if server is not None else None,
                            "server_requests": int(c1 - c0)}
    pressure = None
    if before.pressure_us is not None and after.pressure_us is not None and elapsed > 0:
        pressure = round((after.pressure_us - before.pressure_us) / 1e6 / elapsed * 100, 1)
    return {
        "elapsed_s": round(elapsed, 1), "cpus": os.cpu_count(),
        "groups": groups,
        "ours_cpu_s": round(ours, 2),
        "machine_busy_cpu_s": round(busy, 2),
        "others_cpu_s": round(busy - ours, 2),
        "cpu_pressure_pct": pressure,  # share of the time some runnable task waited for a CPU
        "routes": routes,
        "per_request": {k: round((after.counters[k] - before.counters.get(k, 0.0)) / n, 2)
                        for k in after.counters},
    }


def print_explanation(e: Mapping[str, Any], print_table: Any) -> None:
    print(f"\nwhere the time went ({e['elapsed_s']} s measured, {e['cpus']} CPUs = "
          f"{e['elapsed_s'] * (e['cpus'] or 1):.0f} CPU-s available): ours {e['ours_cpu_s']} CPU-s, "
          f"the rest of the machine {e['others_cpu_s']} CPU-s; some task waited for a CPU "
          f"{e['cpu_pressure_pct']}% of the time (/proc/pressure/cpu)")
    rows = [[name, g["cpu_s"], g["cpu_ms_per_request"], g["cpu_wait_s"], g["cpu_wait_ms_per_request"]]
            for name, g in e["groups"].items()]
    print_table(["processes", "CPU s", "CPU ms/request", "waiting for a CPU s", "waiting ms/request"], rows)
    rows = [[ep, r["client_mean_ms"], r["server_mean_ms"],
             round(r["client_mean_ms"] - r["server_mean_ms"], 1)
             if r["client_mean_ms"] is not None and r["server_mean_ms"] is not None else None]
            for ep, r in e["routes"].items()]
    print()
    print_table(["endpoint", "client mean ms", "API handler mean ms", "outside the handler ms"], rows)
    if e["per_request"]:
        print("per request: " + ", ".join(f"{k} {v}" for k, v in e["per_request"].items()))
