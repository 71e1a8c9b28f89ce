"""A wire-protocol test double of an OpenAI-compatible chat server (the only remote paid service we
may replace in tests). It speaks real HTTP + SSE on loopback and records what it was asked."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class DoubleState:
    condensed: str = ""
    answer_deltas: list[str] = field(default_factory=list)
    delay: float = 0.0
    fail_status: int | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    stream_closed_early: bool = False
    deltas_sent: int = 0


def _chunk(text: str | None, finish: str | None = None) -> str:
    delta = {"content": text} if text is not None else {}
    body = {"id": "cmpl-1", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": "double", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n"


def build_app(state: DoubleState) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        state.requests.append(body)
        if state.fail_status:
            return JSONResponse({"error": {"message": "model overloaded"}}, status_code=state.fail_status)
        system = body["messages"][0]["content"].lower()
        if "standalone" in system:  # the condense prompt
            text = state.condensed
            if body.get("stream"):
                return StreamingResponse(iter([_chunk(text), _chunk(None, "stop"), "data: [DONE]\n\n"]),
                                         media_type="text/event-stream")
            return JSONResponse({"id": "c", "object": "chat.completion", "model": "double",
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": text}}]})

        async def gen():  # type: ignore[no-untyped-def]
            try:
                for delta in state.answer_deltas:
                    if state.delay:
                        await asyncio.sleep(state.delay)
                    state.deltas_sent += 1
                    yield _chunk(delta)
                yield _chunk(None, "stop")
                yield "data: [DONE]\n\n"
            except (asyncio.CancelledError, GeneratorExit):
                state.stream_closed_early = True
                raise

        return StreamingResponse(gen(), media_type="text/event-stream")

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "double", "object": "model"}]})

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]),
                             Route("/v1/models", models)])


class DoubleServer:
    def __init__(self) -> None:
        self.state = DoubleState()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(build_app(self.state), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> DoubleServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)
