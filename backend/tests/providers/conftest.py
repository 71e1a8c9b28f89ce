"""Provider fixtures: a real Chroma server process, and the local embedder loaded once."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.providers.embeddings.local_onnx import LocalOnnxEmbedder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chroma_binary() -> str:
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command (package chromadb) is not installed")
    return found


@contextlib.contextmanager
def chroma_server(data: Path, port: int | None = None) -> Iterator[str]:
    """`chroma run` as a subprocess on `port` (default: a free loopback port); yields its URL,
    stops it on exit."""
    data.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = data / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [_chroma_binary(), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"chroma server exited: {log_path.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("chroma server did not answer its heartbeat within 60 s")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture(scope="session")
def local_embedder() -> LocalOnnxEmbedder:
    embedder = LocalOnnxEmbedder()
    embedder.load()
    return embedder
