"""Ingestion through the REAL pipeline vs the physical limit: the same model configured for speed.

    cd backend && .venv/bin/python ../bench/ingest.py                  # both sets: small HTML/MD, PDFs
    cd backend && .venv/bin/python ../bench/ingest.py --set pdf --skip-model-alone --timeout 7200 \
        --pdf ../../shared/eval/docs/pdf/fullrefman.pdf                # the < 1 GiB memory target

For each set, in one run: start the embedded-profile app in a temp data dir (model loaded and the
extraction hosts started before the clock, as in a running server), upload the files through the
API, poll until every document is ready (upload -> all ready is the pipeline's wall time), then
take the chunk texts the pipeline stored (``embedding_text(heading_path, text)`` of every chunk
row) and embed them with ``bench/speed_reference.py`` in a subprocess: the same model file and
tokenizer on an independent code path with onnxruntime's defaults, one global length sort and the
fastest batch size of a sweep. ratio = reference wall time / pipeline wall time (target >= 0.85).

Sets: ``small`` = the many-small-documents set (``_common.many_small_docs``: 7 HTML/Markdown files
of the eval set cut at their headings into 123 files); ``pdf`` = R-intro.pdf + camlidl-1.04.doc.pdf
(139 pages), or the files given with ``--pdf``.

Also reported: stage seconds summed over documents, peak RSS of this process (API + in-process
worker) and of the largest extraction host/child (sampled from /proc), CPU seconds of this process,
and query-embedding latency (one query at a time, p50/p95) of the product's embedder and of the
reference, on SciFact claims.

    cd backend && .venv/bin/python ../bench/ingest.py --set pdf \
        --llamaindex-python /tmp/llamaindex-venv/bin/python

also runs bench/llamaindex_baseline.py (its own venv, see bench/README.md) on the same PDFs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c

PDF_SET = ["R-intro.pdf", "camlidl-1.04.doc.pdf"]
POLL_S = 0.25


async def chunk_texts(app: Any, document_ids: list[str]) -> list[str]:
    """What the pipeline embedded: ``embedding_text`` of every stored chunk row."""
    from sqlalchemy import select

    from app.documents.models import Chunk
    from app.ingestion.embedding_text import embedding_text

    async with app.state.container.sessions() as session:
        rows = (await session.execute(
            select(Chunk.heading_path, Chunk.text).where(Chunk.document_id.in_(document_ids))
            .order_by(Chunk.document_id, Chunk.n))).all()
    return [embedding_text(path or [], text) for path, text in rows]


def cpu_s() -> float:
    """CPU seconds of this process (all threads)."""
    t = os.times()
    return t.user + t.system


async def pending(app: Any, ids: list[str]) -> int:
    """Documents of ``ids`` not yet ready or failed: one indexed query on the app's database (an
    HTTP poll per document would cost the pipeline CPU on a set of 100+ files)."""
    from sqlalchemy import func, select

    from app.documents.models import Document

    async with app.state.container.sessions() as session:
        return int((await session.execute(
            select(func.count()).select_from(Document)
            .where(Document.id.in_(ids), Document.status.in_(("queued", "processing"))))).scalar_one())


async def upload_all_and_wait(app: Any, client: Any, paths: list[Path], per_request: int,
                              limit_s: float) -> list[dict[str, Any]]:
    """Upload through the API in requests of ``per_request`` files (the product's limit), poll the
    database until none is queued or processing, then read the documents through the API."""
    ids: list[str] = []
    for start in range(0, len(paths), per_request):
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream"))
                 for p in paths[start:start + per_request]]
        r = await client.post("/api/v1/documents", files=files)
        if r.status_code != 202:
            raise SystemExit(f"upload failed: {r.status_code} {r.text}")
        body = r.json()
        docs = body if isinstance(body, list) else body.get("items") or body.get("documents") or []
        ids += [d["id"] for d in docs]
    deadline = time.monotonic() + limit_s
    while await pending(app, ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"documents not processed within {limit_s:.0f} s")
        await asyncio.sleep(POLL_S)
    wanted, found = set(ids), {}
    page = 1
    while len(found) < len(wanted):
        r = await client.get("/api/v1/documents", params={"page": page, "page_size": 200})
        items = r.json()["items"]
        if not items:
            break
        found.update({d["id"]: d for d in items if d["id"] in wanted})
        page += 1
    return [found[i] for i in ids]


async def query_latency(embedder: Any, queries: list[str]) -> dict[str, float]:
    for q in queries[:5]:
        await embedder.embed_query(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        await embedder.embed_query(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"n": len(times), "p50_ms": round(c.percentile(times, 50), 2),
            "p95_ms": round(c.percentile(times, 95), 2)}


def reference(texts: list[str], queries: list[str], sweep: str, sample: int,
              tmp: Path) -> dict[str, Any]:
    """bench/speed_reference.py in its own process on the stored chunk texts."""
    texts_file, queries_file = tmp / "chunk-texts.json", tmp / "queries.json"
    texts_file.write_text(json.dumps(texts))
    queries_file.write_text(json.dumps(queries))
    cmd = [sys.executable, str(Path(__file__).with_name("speed_reference.py")), "--texts",
           str(texts_file), "--sweep", sweep, "--sample", str(sample), "--queries", str(queries_file)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout  # noqa: S603
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def llamaindex(python: str, paths: list[Path], model_alone: bool) -> dict[str, Any]:
    """bench/llamaindex_baseline.py in its own interpreter (venv) on the same files."""
    cmd = [python, str(Path(__file__).with_name("llamaindex_baseline.py"))]
    for p in paths:
        cmd += ["--pdf", str(p)]
    if not model_alone:
        cmd.append("--skip-model-alone")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,  # noqa: S603 - our own script
                         env={**os.environ, "PYTHONPATH": ""}).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


async def run_set(name: str, paths: list[Path], args: argparse.Namespace,
                  queries: list[str]) -> dict[str, Any]:
    from app.ingestion import sandbox

    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="citewise-bench-ingest-") as tmp:
        settings = c.bench_settings(Path(tmp) / "data", max_pages=args.max_pages,
                                    job_concurrency=args.concurrency,
                                    extraction_timeout_seconds=args.extraction_timeout,
                                    # polling outlives the default 15-minute access token on
                                    # fullrefman.pdf; the bench client never refreshes
                                    access_token_minutes=24 * 60)
        async with c.app_client(settings) as (app, client):
            await c.register(client, "bench@example.com")
            # A running server has its model loaded and its extraction hosts started.
            active = await app.state.container.index.active()
            await active.embedder.embed_documents(["warm up"])
            await asyncio.to_thread(sandbox.warm_up, args.concurrency)
            with c.DescendantPeak(interval=0.2) as children:
                t, cpu0 = time.perf_counter(), cpu_s()
                docs = await upload_all_and_wait(app, client, paths, settings.max_files_per_upload,
                                                 args.timeout)
                wall, cpu = time.perf_counter() - t, cpu_s() - cpu0
            rss = c.peak_rss_mb()
            load_after = [round(x, 2) for x in os.getloadavg()]
            failed = [d for d in docs if d["status"] != "ready"]
            if failed:
                raise SystemExit(f"failed: {[(d['filename'], d['error']) for d in failed][:5]}")
            texts = await chunk_texts(app, [d["id"] for d in docs])
            query = await query_latency(active.embedder, queries)
        if args.dump_texts:
            dump = Path(f"{args.dump_texts}-{name}.json")
            await asyncio.to_thread(dump.write_text, json.dumps(texts))

        pages = sum(d["page_count"] or 0 for d in docs)
        chunks = sum(d["chunk_count"] for d in docs)
        stages: dict[str, float] = {}
        for d in docs:
            for stage, seconds in (d.get("timings") or {}).items():
                stages[stage] = stages.get(stage, 0.0) + seconds
        result: dict[str, Any] = {
            "set": name, "files": len(docs), "pages": pages, "chunks": chunks,
            "wall_s": round(wall, 2), "pages_per_s": round(pages / wall, 2),
            "chunks_per_s": round(chunks / wall, 2), "cpu_s": round(cpu, 2),
            "extraction_cpu_s": round(children.cpu_s, 2),
            "cores_busy": round((cpu + children.cpu_s) / wall, 2),
            "pages_per_cpu_s": round(pages / cpu, 3),
            "stage_seconds_sum": {k: round(v, 2) for k, v in stages.items()},
            "concurrency": args.concurrency, "loadavg_before": load_before,
            "loadavg_after_pipeline": load_after,
            "peak_rss_mb": rss["self_mb"], "extraction_peak_mb": round(children.peak_mb, 1),
            "peak_rss_sum_mb": round(rss["self_mb"] + children.peak_mb, 1),
            "query_embedding_ms": query,
        }
        if not args.skip_model_alone:
            ref = reference(texts, queries, args.sweep, args.sample, Path(tmp))
            result["reference"] = {k: v for k, v in ref.items() if k != "bench"}
            result["ratio_vs_reference"] = round(ref["wall_s"] / wall, 3)
            result["loadavg_after_reference"] = [round(x, 2) for x in os.getloadavg()]
    if args.llamaindex_python and name == "pdf":
        li = llamaindex(args.llamaindex_python, paths, args.llamaindex_model_alone)
        result["llamaindex"] = {k: li[k] for k in li if k not in ("bench", "files")}
        result["ratio_pages_per_s_vs_llamaindex"] = round(result["pages_per_s"] / li["pages_per_s"], 3)
    return result


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    queries = [q for _, q in sorted(c.scifact_queries().items())][: args.queries]
    results = []
    with tempfile.TemporaryDirectory(prefix="citewise-bench-small-") as small_dir:
        for name in args.set.split(","):
            if name == "small":
                paths = c.many_small_docs(Path(small_dir))
            elif name == "pdf":
                paths = [Path(p) for p in args.pdf] if args.pdf else [c.PDF_DIR / n for n in PDF_SET]
            else:
                raise SystemExit(f"unknown set {name!r}: small, pdf")
            paths = paths[::args.every]
            for p in paths:
                if not p.is_file():
                    raise SystemExit(f"{p} not found")
            results.append(await run_set(name, paths, args, queries))
            report(results[-1])
    summary(results)
    return results


def summary(results: list[dict[str, Any]]) -> None:
    """Every set of the run side by side: what issue 15 is judged on."""
    print("\n== summary (one run)")
    rows = [[r["set"], r["chunks"], r["wall_s"], r.get("reference", {}).get("wall_s", "-"),
             r.get("ratio_vs_reference", "-"),
             f"{r['cpu_s']} + {r['extraction_cpu_s']}", r.get("reference", {}).get("cpu_s", "-"),
             f"{r['peak_rss_mb']} + {r['extraction_peak_mb']}", r["loadavg_before"][0]]
            for r in results]
    c.print_table(["set", "chunks", "pipeline s", "reference s", "ratio (>= 0.85)",
                   "pipeline CPU s (+ extraction)", "reference CPU s", "peak RSS MB (+ extraction)",
                   "load before"], rows)
    sys.stdout.flush()


def report(r: dict[str, Any]) -> None:
    print(f"\n== set {r['set']}: {r['files']} files, {r['pages']} pages -> {r['chunks']} chunks "
          f"(job concurrency {r['concurrency']})")
    rows: list[list[Any]] = [["pipeline, upload -> all ready", r["wall_s"], r["chunks_per_s"]]]
    if "reference" in r:
        ref = r["reference"]
        rows.append([f"model alone, configured for speed (batch {ref['best_batch_size']})",
                     ref["wall_s"], round(ref["texts"] / ref["wall_s"], 2)])
    c.print_table(["run", "seconds", "chunks/s"], rows)
    if "reference" in r:
        ref = r["reference"]
        sweep = ", ".join(f"{s['batch_size']}: {s['wall_s']} s" for s in ref["sweep"])
        print(f"ratio pipeline / model alone: {r['ratio_vs_reference']} (target >= 0.85); "
              f"batch sweep on {ref['sweep'][0]['texts'] if ref['sweep'] else 0} texts: {sweep}")
    print(f"stages summed over documents: {r['stage_seconds_sum']}")
    print(f"CPU s: pipeline process {r['cpu_s']} + extraction hosts {r['extraction_cpu_s']} "
          f"({r['cores_busy']} cores busy)"
          + (f"; reference {r['reference']['cpu_s']}" if "reference" in r else ""))
    q = r["query_embedding_ms"]
    print(f"query embedding, one query (ms): product p50 {q['p50_ms']} / p95 {q['p95_ms']}"
          + (f"; reference p50 {r['reference']['query_latency']['p50_ms']} / p95 "
             f"{r['reference']['query_latency']['p95_ms']}" if "reference" in r else ""))
    print(f"peak RSS: this process {r['peak_rss_mb']} MB; largest extraction host/child "
          f"{r['extraction_peak_mb']} MB; sum {r['peak_rss_sum_mb']} MB (target < 1024)")
    print(f"load average before / after the pipeline / after the reference: {r['loadavg_before']} / "
          f"{r['loadavg_after_pipeline']} / {r.get('loadavg_after_reference')}")
    if "llamaindex" in r:
        li = r["llamaindex"]
        print(f"LlamaIndex, same files and model: {li['pages_per_s']} pages/s; Citewise / LlamaIndex "
              f"pages/s: {r['ratio_pages_per_s_vs_llamaindex']}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="small,pdf", help="comma-separated: small, pdf")
    parser.add_argument("--pdf", action="append", help="PDFs of the pdf set (repeatable)")
    parser.add_argument("--max-pages", type=int, default=5000, help="runtime max_pages setting")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="in-process job concurrency (default: the job_concurrency setting's)")
    parser.add_argument("--every", type=int, default=1,
                        help="take every N-th file of each set (a smaller run with the same mix)")
    parser.add_argument("--extraction-timeout", type=float, default=300.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many s")
    parser.add_argument("--skip-model-alone", action="store_true")
    parser.add_argument("--sweep", default="8,16,32,64", help="reference batch sizes to try")
    parser.add_argument("--sample", type=int, default=384, help="texts per sweep point")
    parser.add_argument("--queries", type=int, default=200, help="SciFact claims for query latency")
    parser.add_argument("--dump-texts", metavar="PREFIX", help="write PREFIX-<set>.json (chunk texts)")
    parser.add_argument("--llamaindex-python", metavar="PYTHON",
                        help="also run llamaindex_baseline.py with this interpreter (its own venv)")
    parser.add_argument("--llamaindex-model-alone", action="store_true",
                        help="let the LlamaIndex run also time the model alone on its node texts")
    args = parser.parse_args()
    if args.concurrency is None:  # measure what ships
        from app.core.config import Settings

        args.concurrency = Settings.model_fields["job_concurrency"].default
    results = asyncio.run(run(args))
    c.emit_json("ingest", {"sets": results})


if __name__ == "__main__":
    main()
