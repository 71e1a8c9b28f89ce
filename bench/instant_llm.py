"""An OpenAI-compatible chat server whose model costs nothing: it streams a short answer at once.

    python bench/instant_llm.py --port 8765

Used by `chat_latency.py --llm-server instant`: with a model whose own time to first token is
~1 ms, the pipeline's time to first token IS the time the pipeline adds (retrieval, prompt
building, storage, streaming), measured without the noise of a real model's prompt evaluation
on a busy CPU. It speaks the real wire protocol (SSE `chat.completion.chunk` deltas, `[DONE]`).
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import AsyncIterator

ANSWER = ["The", " sources", " say", " so", " [1]", "."]


def create_app() -> object:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "instant", "object": "model"}]})

    def chunk(cid: str, model: str, delta: dict[str, str], finish: str | None) -> str:
        return "data: " + json.dumps({
            "id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

    async def completions(request: Request) -> Response:
        body = await request.json()
        model, cid = body.get("model", "instant"), f"chatcmpl-{uuid.uuid4().hex}"
        if not body.get("stream"):
            return JSONResponse({
                "id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "".join(ANSWER)}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": len(ANSWER), "total_tokens": 0}})

        async def events() -> AsyncIterator[str]:
            yield chunk(cid, model, {"role": "assistant"}, None)
            for piece in ANSWER:
                yield chunk(cid, model, {"content": piece}, None)
            yield chunk(cid, model, {}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/models", models),
                             Route("/v1/chat/completions", completions, methods=["POST"])])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning",  # type: ignore[arg-type]
                access_log=False)


if __name__ == "__main__":
    main()
