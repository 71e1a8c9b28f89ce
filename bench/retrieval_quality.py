"""SciFact (BEIR) retrieval quality of the REAL `retrieve()`: nDCG@10 and recall@100.

    cd backend && .venv/bin/python ../bench/retrieval_quality.py             # SQLite (FTS5) + Chroma
    cd backend && .venv/bin/python ../bench/retrieval_quality.py --split train  # tune here, not on test
    cd backend && .venv/bin/python ../bench/retrieval_quality.py --pg        # PostgreSQL full-text
    cd backend && .venv/bin/python ../bench/retrieval_quality.py --both      # both, same run
    cd backend && .venv/bin/python ../bench/retrieval_quality.py --tune      # pick the weight on train

Files would be far too slow for 5,183 abstracts, so the corpus is written the way the pipeline
leaves it: the schema comes from the real migrations (app lifespan), one ready Document and one
Chunk row per abstract (heading_path = [title], text = abstract), vectors of
`embedding_text(heading_path, text)` from the real local embedder (cached in /tmp by model id and
content), upserted into embedded Chroma with the pipeline's own metadata. Queries then go through
`retrieve()` with the configurations below. Nothing is tuned on test: `--tune` evaluates weights on
`qrels/train.tsv` and reports the chosen one on test.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import _common as c

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Published / measured baselines (shared/eval/README.md and DESIGN.md §5).
BASELINES = [
    ("BM25 flat (Pyserini, published)", 0.679, 0.925),
    ("BM25 (bm25s, measured here)", 0.676, 0.913),
    ("all-MiniLM-L6-v2 (MTEB, unverified)", 0.645, None),
    ("MiniLM-int8 dense (DESIGN §5)", 0.647, 0.922),
    ("BM25 + MiniLM RRF (DESIGN §5)", 0.716, 0.952),
    ("BM25 + MiniLM score fusion 0.5 (DESIGN §5)", 0.732, 0.945),
    ("BGE-base-en-v1.5 (published)", 0.741, None),
]


def configs(tuned: float | None) -> list[tuple[str, str, float]]:
    out = [("dense only (score, w=1.0)", "score", 1.0), ("keyword only (score, w=0.0)", "score", 0.0),
           ("hybrid score w=0.3", "score", 0.3), ("hybrid score w=0.5", "score", 0.5),
           ("hybrid score w=0.7", "score", 0.7), ("hybrid RRF (k=60)", "rrf", 0.5)]
    if tuned is not None and tuned not in (0.3, 0.5, 0.7):
        out.append((f"hybrid score w={tuned} (tuned on train)", "score", tuned))
    return out


# ---- metrics ------------------------------------------------------------------------------------

def ndcg_at(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rel: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, g in rel.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


# ---- corpus ---------------------------------------------------------------------------------------

@asynccontextmanager
async def database(pg: bool, tmp: Path) -> AsyncIterator[str | None]:
    """None (the app's SQLite file in the data dir) or a throwaway PostgreSQL database."""
    if not pg:
        yield None
        return
    import asyncpg

    name = f"citewise_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def load_corpus(app: Any, owner_id: str, corpus: list[dict[str, str]], vectors: Any,
                      title_in_text: bool) -> dict[str, str]:
    """Write documents, chunks and vectors as the pipeline would; returns chunk id -> corpus id."""
    from sqlalchemy import insert

    from app.documents.models import Document
    from app.documents.repository import insert_chunks
    from app.documents.vectors import vector_record

    container = app.state.container
    active = await container.index.active()
    docs: list[dict[str, Any]] = []
    chunks: list[dict[str, Any]] = []
    to_corpus: dict[str, str] = {}
    for d in corpus:
        doc_id = str(uuid.uuid4())
        text = f"{d['title']}\n{d['text']}" if title_in_text else d["text"]
        heading = [] if title_in_text else [d["title"]]
        docs.append({"id": doc_id, "owner_id": owner_id, "filename": f"scifact-{d['_id']}.txt",
                     "mime_type": "text/plain", "kind": "text", "size_bytes": len(text),
                     "content_hash": d["_id"], "storage_key": doc_id, "status": "ready",
                     "progress": 100, "page_count": 1, "chunk_count": 1, "version": 1,
                     "searchable_version": 1,
                     "embedding_collection": active.collection, "timings": {}})
        chunk_id = f"{doc_id}:1:0"
        chunks.append({"id": chunk_id, "document_id": doc_id, "owner_id": owner_id, "version": 1,
                       "n": 0, "text": text, "page_start": 1, "page_end": 1, "char_start": 0,
                       "char_end": len(text), "heading_path": heading, "token_count": 0})
        to_corpus[chunk_id] = d["_id"]
    async with container.sessions() as session:
        for start in range(0, len(docs), 1000):
            await session.execute(insert(Document), docs[start:start + 1000])
            await insert_chunks(session, chunks[start:start + 1000])  # multi-row, as the pipeline writes them
        await session.commit()
    records = [vector_record(chunk_id=ch["id"], owner_id=ch["owner_id"], document_id=ch["document_id"],
                             version=ch["version"], n=ch["n"], page_start=ch["page_start"],
                             page_end=ch["page_end"], embedding=vectors[i].tolist())
               for i, ch in enumerate(chunks)]
    for start in range(0, len(records), 1000):
        await container.vectors.upsert(active.collection, records[start:start + 1000])
    return to_corpus


def cache_query_vectors(embedder: Any) -> None:
    """Each query is embedded once and reused across configurations (results are unchanged)."""
    original = embedder.embed_query
    memo: dict[str, list[float]] = {}

    async def embed_query(text: str) -> list[float]:
        if text not in memo:
            memo[text] = await original(text)
        return memo[text]

    embedder.embed_query = embed_query


async def evaluate(app: Any, owner_id: str, to_corpus: dict[str, str], queries: dict[str, str],
                   qrels: dict[str, dict[str, int]], fusion: str, weight: float, k: int,
                   candidates: int) -> dict[str, float]:
    from app.rag.retrieval import retrieve

    container = app.state.container
    ndcg, recall, latency = [], [], []
    for qid, rel in qrels.items():
        t = time.perf_counter()
        async with container.sessions() as session:
            result = await retrieve(session, container, owner_id=owner_id, query=queries[qid], k=k,
                                    candidates=candidates, fusion=fusion,  # type: ignore[arg-type]
                                    weight=weight, floor=0.0)
        latency.append((time.perf_counter() - t) * 1000)
        ranked = [to_corpus[ch.chunk_id] for ch in result.chunks]
        ndcg.append(ndcg_at(ranked, rel))
        recall.append(recall_at(ranked, rel, k))
    n = len(qrels)
    return {"ndcg@10": round(sum(ndcg) / n, 4), f"recall@{k}": round(sum(recall) / n, 4),
            "p50_ms": round(c.percentile(latency, 50), 1), "queries": n}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from app.ingestion.embedding_text import embedding_text

    corpus = c.scifact_corpus()
    if args.limit_docs:
        corpus = corpus[: args.limit_docs]
    # Same text either way: title + "\n" + abstract (see load_corpus / embedding_text).
    texts = [embedding_text([d["title"]], d["text"]) for d in corpus]
    vectors = await asyncio.to_thread(c.embed_cached, texts, label="scifact")  # runs its own loop
    queries = c.scifact_queries()
    test = c.scifact_qrels(args.split)  # the evaluated split (named `test` below for history)
    if args.limit_docs:  # smoke test: keep the queries whose relevant abstracts are loaded
        present = {d["_id"] for d in corpus}
        test = {q: rel for q, rel in test.items() if present & set(rel)}
    if args.queries:
        test = dict(list(test.items())[: args.queries])
    out: dict[str, Any] = {"split": args.split, "docs": len(corpus), "title_in_text": args.title_in_text,
                           "k": args.k, "candidates": args.candidates, "backends": {}}
    for pg in ((False, True) if args.both else (args.pg,)):
        out["backends"]["postgresql" if pg else "sqlite"] = await run_backend(
            args, pg, corpus, vectors, queries, test)
    return out


async def run_backend(args: argparse.Namespace, pg: bool, corpus: list[dict[str, str]], vectors: Any,
                      queries: dict[str, str], test: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Load the corpus into one backend (SQLite, or a throwaway PostgreSQL database) and evaluate."""
    with tempfile.TemporaryDirectory(prefix="citewise-bench-scifact-") as tmp:
        async with database(pg, Path(tmp)) as db_url:
            overrides = {"database_url": db_url} if db_url else {}
            settings = c.bench_settings(Path(tmp), **overrides)
            async with c.app_client(settings) as (app, client):
                user = await c.register(client, "scifact@example.com")
                owner = user.get("id") or (await client.get("/api/v1/auth/me")).json()["id"]
                t = time.perf_counter()
                to_corpus = await load_corpus(app, owner, corpus, vectors, args.title_in_text)
                load_s = time.perf_counter() - t
                active = await app.state.container.index.active()
                cache_query_vectors(active.embedder)

                tuned: float | None = None
                tuning: dict[str, float] = {}
                if args.tune:
                    train = c.scifact_qrels("train")
                    train = dict(list(train.items())[: args.train_queries])
                    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
                        m = await evaluate(app, owner, to_corpus, queries, train, "score", w,
                                           args.k, args.candidates)
                        tuning[str(w)] = m["ndcg@10"]
                    tuned = float(max(tuning, key=tuning.__getitem__))

                results: dict[str, dict[str, float]] = {}
                for label, fusion, weight in configs(tuned):
                    if args.only and not any(o in label for o in args.only):
                        continue
                    results[label] = await evaluate(app, owner, to_corpus, queries, test, fusion,
                                                    weight, args.k, args.candidates)
    return {"load_s": round(load_s, 1), "results": results, "train_ndcg_by_weight": tuning,
            "tuned_weight": tuned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (127.0.0.1:5432) instead of SQLite")
    parser.add_argument("--both", action="store_true",
                        help="SQLite and PostgreSQL one after the other in this run, side by side")
    parser.add_argument("--k", type=int, default=100, help="results per query (recall@k)")
    parser.add_argument("--candidates", type=int, default=100, help="dense and keyword candidates")
    parser.add_argument("--tune", action="store_true", help="choose the fusion weight on train")
    parser.add_argument("--train-queries", type=int, default=400, help="train queries for --tune")
    parser.add_argument("--split", choices=("test", "train"), default="test",
                        help="qrels to evaluate on (choose settings on train; report test once)")
    parser.add_argument("--queries", type=int, default=0, help="only the first N queries")
    parser.add_argument("--limit-docs", type=int, default=0, help="smoke test on a corpus prefix")
    parser.add_argument("--only", action="append", default=[],
                        help="evaluate only the retrievers whose label contains this (repeatable), "
                             "e.g. --only 'w=0.5' --only 'keyword only'")
    parser.add_argument("--title-in-text", action="store_true",
                        help="put the title in the chunk text (keyword-indexed) instead of heading_path")
    args = parser.parse_args()
    r = asyncio.run(run(args))

    metric_r = f"recall@{r['k']}"
    backends = r["backends"]
    first = next(iter(backends.values()))
    n_queries = next(iter(first["results"].values()))["queries"]
    print(f"\nSciFact {r['split']} ({n_queries} queries), {r['docs']} abstracts, "
          f"k={r['k']}, candidates={r['candidates']}, title in chunk text: {r['title_in_text']}, "
          f"load average {[round(x, 2) for x in os.getloadavg()]}\n")
    header = ["retriever"]
    for name in backends:
        header += [f"{name} nDCG@10", f"{name} {metric_r}", f"{name} p50 ms"]
    rows: list[list[Any]] = []
    for label in first["results"]:
        row: list[Any] = [label]
        for b in backends.values():
            m = b["results"][label]
            row += [m["ndcg@10"], m[metric_r], m["p50_ms"]]
        rows.append(row)
    pad = [""] * (3 * (len(backends) - 1))
    rows += [[f"ref: {label}", nd, "" if rc is None else rc, "", *pad] for label, nd, rc in BASELINES]
    c.print_table(header, rows)
    for name, b in backends.items():
        if b["train_ndcg_by_weight"]:
            print(f"\n{name}: train nDCG@10 by weight: {b['train_ndcg_by_weight']} -> {b['tuned_weight']}")
    c.emit_json("retrieval_quality", r)


if __name__ == "__main__":
    main()
