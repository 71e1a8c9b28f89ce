"""Ingestion throughput through the REAL pipeline vs the embedding model alone on the same chunks.

    cd backend && .venv/bin/python ../bench/ingest.py                     # default PDF set (~320 pages)
    cd backend && .venv/bin/python ../bench/ingest.py --pdf ../../shared/eval/docs/pdf/fullrefman.pdf \
        --max-pages 3000 --skip-model-alone                               # the < 1 GiB memory target

Starts the embedded-profile app in a temp data dir, uploads the PDFs through the API, polls until
every document is ready, then embeds the stored chunk rows' `embedding_text(...)` with a fresh
LocalOnnxEmbedder in the same process: pipeline chunks/s ÷ model-alone chunks/s is the DESIGN §7
ratio (target ≥ 0.9), against the model embedding all chunks in one call (the strictest
reference: one global length sort) and in the calls the pipeline makes (per document, length
order, EMBED_BATCH texts). Peak RSS of this process (API + in-process worker) is taken before the
model-alone run; extraction children are sampled from /proc.

    cd backend && .venv/bin/python ../bench/ingest.py --llamaindex-python /tmp/llamaindex-venv/bin/python

also runs bench/llamaindex_baseline.py (its own venv, see bench/README.md) on the same files after
the pipeline and prints Citewise pages/s ÷ LlamaIndex pages/s (DESIGN §7 target ≥ 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c

DEFAULT_PDFS = ["R-intro.pdf", "GeoTopo-komprimiert.pdf", "live-manual.portrait.en.a4.pdf",
                "camlidl-1.04.doc.pdf"]


async def chunk_rows(app: Any, document_ids: list[str]) -> list[list[dict[str, Any]]]:
    """The chunk rows of each document, as the pipeline embedded them (per document)."""
    from sqlalchemy import select

    from app.documents.models import Chunk

    async with app.state.container.sessions() as session:
        rows = (await session.execute(
            select(Chunk).where(Chunk.document_id.in_(document_ids))
            .order_by(Chunk.document_id, Chunk.n))).scalars().all()
    per_doc: dict[str, list[dict[str, Any]]] = {d: [] for d in document_ids}
    for r in rows:
        per_doc[r.document_id].append({"heading_path": r.heading_path or [], "text": r.text,
                                       "token_count": r.token_count})
    return list(per_doc.values())


def cpu_s() -> float:
    """CPU seconds of this process (all threads): robust to other load, unlike wall time."""
    t = os.times()
    return t.user + t.system


def pipeline_calls(docs_rows: list[list[dict[str, Any]]], count_tokens: Any) -> list[list[str]]:
    """The texts of each embedding call the pipeline makes: per document, in embedding_order, cut
    every EMBED_BATCH texts."""
    from app.ingestion.embedding_text import embedding_text
    from app.ingestion.pipeline import EMBED_BATCH, embedding_order

    calls = []
    for rows in docs_rows:
        texts = [embedding_text(r["heading_path"], r["text"]) for r in embedding_order(rows, count_tokens)]
        calls += [texts[i:i + EMBED_BATCH] for i in range(0, len(texts), EMBED_BATCH)]
    return calls


async def model_alone(calls: list[list[str]], batch_size: int) -> tuple[float, float]:
    """Wall and CPU seconds for a fresh embedder to make these embedding calls."""
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    embedder = LocalOnnxEmbedder(batch_size=batch_size)
    await embedder.embed_documents(calls[0][:8])  # load + warm up outside the timing
    t, c = time.perf_counter(), cpu_s()
    for texts in calls:
        await embedder.embed_documents(texts)
    return time.perf_counter() - t, cpu_s() - c


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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    paths = [Path(p) for p in args.pdf] if args.pdf else [c.PDF_DIR / n for n in DEFAULT_PDFS]
    for p in paths:
        if not p.is_file():
            raise SystemExit(f"{p} not found")
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="citewise-bench-ingest-") as tmp:
        settings = c.bench_settings(Path(tmp), max_pages=args.max_pages,
                                    job_concurrency=args.concurrency,
                                    extraction_timeout_seconds=args.extraction_timeout,
                                    # polling outlives the default 15-minute access token on
                                    # fullrefman.pdf; the bench client never refreshes
                                    access_token_minutes=24 * 60)
        async with c.app_client(settings) as (app, client):
            await c.register(client, "bench@example.com")
            # Load the model before the clock starts, as a long-running server would have.
            active = await app.state.container.index.active()
            await active.embedder.embed_documents(["warm up"])
            with c.DescendantPeak() as children:
                t, cpu0 = time.perf_counter(), cpu_s()
                docs = await c.upload_and_wait(client, paths, limit_s=args.timeout)
                wall, cpu = time.perf_counter() - t, cpu_s() - cpu0
            rss_pipeline = c.peak_rss_mb()
            failed = [d for d in docs if d["status"] != "ready"]
            if failed:
                raise SystemExit(f"failed: {[(d['filename'], d['error']) for d in failed]}")
            docs_rows = await chunk_rows(app, [d["id"] for d in docs])
            counter = active.embedder.count_tokens

    pages = sum(d["page_count"] or 0 for d in docs)
    chunks = sum(d["chunk_count"] for d in docs)
    stages: dict[str, float] = {}
    for d in docs:
        for stage, seconds in (d.get("timings") or {}).items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    result: dict[str, Any] = {
        "files": [d["filename"] for d in docs], "pages": pages, "chunks": chunks,
        "wall_s": round(wall, 2), "pages_per_s": round(pages / wall, 2),
        "chunks_per_s": round(chunks / wall, 2), "cpu_s": round(cpu, 2),
        "pages_per_cpu_s": round(pages / cpu, 3), "stage_seconds_sum": {
            k: round(v, 2) for k, v in stages.items()},
        "concurrency": args.concurrency, "loadavg_before": load_before,
        "loadavg_after_pipeline": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_mb": rss_pipeline["self_mb"], "extraction_child_peak_mb": round(children.peak_mb, 1),
        "peak_rss_sum_mb": round(rss_pipeline["self_mb"] + children.peak_mb, 1),
        "descendants_seen": len(children.seen),
    }
    if not args.skip_model_alone:
        texts = [t for call in pipeline_calls(docs_rows, counter) for t in call]
        n = len(texts)
        alone, alone_cpu = await model_alone([texts], settings.embedding_batch_size)
        alone_calls, calls_cpu = await model_alone(pipeline_calls(docs_rows, counter),
                                                   settings.embedding_batch_size)
        result.update({
            "model_alone_cpu_s": round(alone_cpu, 2), "model_alone_calls_cpu_s": round(calls_cpu, 2),
            "cpu_ratio_pipeline_vs_model": round(alone_cpu / cpu, 3),
            "model_alone_s": round(alone, 2), "model_alone_chunks_per_s": round(n / alone, 2),
            "model_alone_in_pipeline_batches_s": round(alone_calls, 2),
            "ratio_pipeline_vs_model": round((chunks / wall) / (n / alone), 3),
            "ratio_pipeline_vs_model_same_batches": round((chunks / wall) / (n / alone_calls), 3),
        })
    if args.llamaindex_python:
        li = llamaindex(args.llamaindex_python, paths, args.llamaindex_model_alone)
        result["llamaindex"] = {k: li[k] for k in li if k not in ("bench", "files")}
        result["ratio_pages_per_s_vs_llamaindex"] = round(result["pages_per_s"] / li["pages_per_s"], 3)
        result["ratio_pages_per_cpu_s_vs_llamaindex"] = round(
            result["pages_per_cpu_s"] / li["pages_per_cpu_s"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", action="append", help="PDF to ingest (repeatable); default: a set")
    parser.add_argument("--max-pages", type=int, default=5000, help="runtime max_pages setting")
    parser.add_argument("--concurrency", type=int, default=2, help="in-process job concurrency")
    parser.add_argument("--extraction-timeout", type=float, default=300.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many s")
    parser.add_argument("--skip-model-alone", action="store_true")
    parser.add_argument("--llamaindex-python", metavar="PYTHON",
                        help="also run llamaindex_baseline.py with this interpreter (its own venv)")
    parser.add_argument("--llamaindex-model-alone", action="store_true",
                        help="let the LlamaIndex run also time the model alone on its node texts")
    args = parser.parse_args()
    r = asyncio.run(run(args))

    print(f"\nIngested {len(r['files'])} files: {r['pages']} pages -> {r['chunks']} chunks "
          f"in {r['wall_s']} s (job concurrency {r['concurrency']})\n")
    rows: list[list[Any]] = [["pipeline (upload -> ready)", r["wall_s"], r["pages_per_s"],
                              r["chunks_per_s"]]]
    if "model_alone_s" in r:
        rows.append(["model alone, same chunks (one call)", r["model_alone_s"], "",
                     r["model_alone_chunks_per_s"]])
        rows.append(["model alone, pipeline-sized calls", r["model_alone_in_pipeline_batches_s"], "",
                     round(r["chunks"] / r["model_alone_in_pipeline_batches_s"], 2)])
    c.print_table(["run", "seconds", "pages/s", "chunks/s"], rows)
    if "ratio_pipeline_vs_model" in r:
        print(f"\nratio pipeline / model alone: {r['ratio_pipeline_vs_model']} "
              f"(same call sizes: {r['ratio_pipeline_vs_model_same_batches']}; target >= 0.9)")
        print(f"by CPU seconds of this process (extraction children not counted): pipeline "
              f"{r['cpu_s']} s, model alone {r['model_alone_cpu_s']} s (one call) / "
              f"{r['model_alone_calls_cpu_s']} s (pipeline calls) -> {r['cpu_ratio_pipeline_vs_model']}")
    print("\nper-stage seconds, summed over documents (documents run concurrently):")
    c.print_table(["stage", "seconds"], sorted(r["stage_seconds_sum"].items()))
    print(f"\npeak RSS: this process {r['peak_rss_mb']} MB; largest extraction child "
          f"{r['extraction_child_peak_mb']} MB ({r['descendants_seen']} descendants sampled); "
          f"sum {r['peak_rss_sum_mb']} MB (target < 1024)")
    if "llamaindex" in r:
        li = r["llamaindex"]
        print(f"\nLlamaIndex, same files and model: {li['pages']} pages -> {li['chunks']} chunks in "
              f"{li['wall_s']} s = {li['pages_per_s']} pages/s (peak RSS {li['peak_rss_mb']} MB"
              + (f"; {li['ratio_vs_model_alone']}x its model alone" if "ratio_vs_model_alone" in li
                 else "") + ")")
        print(f"Citewise pages/s / LlamaIndex pages/s: {r['ratio_pages_per_s_vs_llamaindex']} "
              f"(target >= 2); per CPU second: {r['ratio_pages_per_cpu_s_vs_llamaindex']} "
              f"({r['pages_per_cpu_s']} vs {li['pages_per_cpu_s']} pages/CPU-s)")
    print(f"load average before / after the pipeline: {r['loadavg_before']} / "
          f"{r['loadavg_after_pipeline']}\n")
    c.emit_json("ingest", r)


if __name__ == "__main__":
    main()
