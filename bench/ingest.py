"""Ingestion throughput through the REAL pipeline vs the embedding model alone on the same chunks.

    cd backend && .venv/bin/python ../bench/ingest.py                     # default PDF set (~320 pages)
    cd backend && .venv/bin/python ../bench/ingest.py --pdf ../../shared/eval/docs/pdf/fullrefman.pdf \
        --max-pages 3000 --skip-model-alone                               # the < 1 GiB memory target

Starts the embedded-profile app in a temp data dir, uploads the PDFs through the API, polls until
every document is ready, then embeds the stored chunk rows' `embedding_text(...)` with a fresh
LocalOnnxEmbedder in the same process: pipeline chunks/s ÷ model-alone chunks/s is the DESIGN §7
ratio (target ≥ 0.9). Peak RSS of this process (API + in-process worker) is taken before the
model-alone run; extraction children are sampled from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c

DEFAULT_PDFS = ["R-intro.pdf", "GeoTopo-komprimiert.pdf", "live-manual.portrait.en.a4.pdf",
                "camlidl-1.04.doc.pdf"]


async def chunk_texts(app: Any, document_ids: list[str]) -> list[str]:
    """The texts the pipeline embedded: embedding_text(heading_path, text) of every chunk row."""
    from sqlalchemy import select

    from app.documents.models import Chunk
    from app.ingestion.embedding_text import embedding_text

    async with app.state.container.sessions() as session:
        rows = (await session.execute(
            select(Chunk).where(Chunk.document_id.in_(document_ids))
            .order_by(Chunk.document_id, Chunk.n))).scalars().all()
    return [embedding_text(r.heading_path or [], r.text) for r in rows]


async def model_alone(texts: list[str], batch_size: int, call_size: int | None) -> float:
    """Seconds for a fresh embedder to embed ``texts`` (in calls of ``call_size`` if given)."""
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    embedder = LocalOnnxEmbedder(batch_size=batch_size)
    await embedder.embed_documents(texts[:8])  # load + warm up outside the timing
    step = call_size or len(texts)
    t = time.perf_counter()
    for start in range(0, len(texts), step):
        await embedder.embed_documents(texts[start:start + step])
    return time.perf_counter() - t


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from app.ingestion.pipeline import EMBED_BATCH

    paths = [Path(p) for p in args.pdf] if args.pdf else [c.PDF_DIR / n for n in DEFAULT_PDFS]
    for p in paths:
        if not p.is_file():
            raise SystemExit(f"{p} not found")
    with tempfile.TemporaryDirectory(prefix="citewise-bench-ingest-") as tmp:
        settings = c.bench_settings(Path(tmp), max_pages=args.max_pages,
                                    job_concurrency=args.concurrency,
                                    extraction_timeout_seconds=args.extraction_timeout)
        async with c.app_client(settings) as (app, client):
            await c.register(client, "bench@example.com")
            # Load the model before the clock starts, as a long-running server would have.
            active = await app.state.container.services.index.active()
            await active.embedder.embed_documents(["warm up"])
            with c.DescendantPeak() as children:
                t = time.perf_counter()
                docs = await c.upload_and_wait(client, paths, limit_s=args.timeout)
                wall = time.perf_counter() - t
            rss_pipeline = c.peak_rss_mb()
            failed = [d for d in docs if d["status"] != "ready"]
            if failed:
                raise SystemExit(f"failed: {[(d['filename'], d['error']) for d in failed]}")
            texts = await chunk_texts(app, [d["id"] for d in docs])

    pages = sum(d["page_count"] or 0 for d in docs)
    chunks = sum(d["chunk_count"] for d in docs)
    stages: dict[str, float] = {}
    for d in docs:
        for stage, seconds in (d.get("timings") or {}).items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    result: dict[str, Any] = {
        "files": [d["filename"] for d in docs], "pages": pages, "chunks": chunks,
        "wall_s": round(wall, 2), "pages_per_s": round(pages / wall, 2),
        "chunks_per_s": round(chunks / wall, 2), "stage_seconds_sum": {
            k: round(v, 2) for k, v in stages.items()},
        "concurrency": args.concurrency,
        "peak_rss_mb": rss_pipeline["self_mb"], "extraction_child_peak_mb": round(children.peak_mb, 1),
        "descendants_seen": len(children.seen),
    }
    if not args.skip_model_alone:
        alone = await model_alone(texts, settings.embedding_batch_size, None)
        alone_64 = await model_alone(texts, settings.embedding_batch_size, EMBED_BATCH)
        result.update({
            "model_alone_s": round(alone, 2), "model_alone_chunks_per_s": round(len(texts) / alone, 2),
            "model_alone_in_pipeline_batches_s": round(alone_64, 2),
            "ratio_pipeline_vs_model": round((chunks / wall) / (len(texts) / alone), 3),
            "ratio_pipeline_vs_model_same_batches": round((chunks / wall) / (len(texts) / alone_64), 3),
        })
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", action="append", help="PDF to ingest (repeatable); default: a set")
    parser.add_argument("--max-pages", type=int, default=2000, help="runtime max_pages setting")
    parser.add_argument("--concurrency", type=int, default=2, help="in-process job concurrency")
    parser.add_argument("--extraction-timeout", type=float, default=300.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many s")
    parser.add_argument("--skip-model-alone", action="store_true")
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
    print("\nper-stage seconds, summed over documents (documents run concurrently):")
    c.print_table(["stage", "seconds"], sorted(r["stage_seconds_sum"].items()))
    print(f"\npeak RSS: this process {r['peak_rss_mb']} MB; largest extraction child "
          f"{r['extraction_child_peak_mb']} MB ({r['descendants_seen']} descendants sampled)\n")
    c.emit_json("ingest", r)


if __name__ == "__main__":
    main()
