"""`citewise serve` as a real subprocess on loopback, for the suites that must see what a deployment
sees (uvicorn's own handling of headers, the process's real log output)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET

PORTS = range(9300, 9400)  # this suite's own port range


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free port in 9300-9399")


@contextlib.contextmanager
def citewise_serve(data: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """Start `citewise serve` (embedded profile, data in `data`, stdout+stderr to `log`); yields its
    base URL once /health answers, and stops it on exit."""
    port = _free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("CITEWISE_")}
    full.update({"CITEWISE_DATA_DIR": str(data), "CITEWISE_SECRET_KEY": TEST_SECRET,
                 "CITEWISE_SERVE_FRONTEND": "false", "CITEWISE_COOKIE_SECURE": "false",
                 "CITEWISE_OCR_ENABLED": "false"})
    full.update(env)
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())",
         "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=data, env=full, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"citewise serve exited: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"citewise serve did not start: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()
