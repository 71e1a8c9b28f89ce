"""Does chunk overlap earn its cost? SciFact through the product's chunker at several overlaps.

    cd backend && .venv/bin/python ../bench/overlap_quality.py                  # overlap 0, 20, 40
    cd backend && .venv/bin/python ../bench/overlap_quality.py --overlaps 0,40 --split train

``retrieval_quality.py`` stores each abstract as one chunk, so overlap never shows there. Here every
abstract (title as heading path, abstract as text) goes through the real ``chunk_blocks`` with
``chunk_tokens`` = 256 and the given overlap, exactly as an uploaded document would; the chunks'
``embedding_text`` is embedded by the real LocalOnnxEmbedder (vectors cached in the temp dir by
text), keyword search is SQLite FTS5 bm25 over the same (heading, text) fields and weights as
migration 0003/0004, and hybrid is the product's ``fuse`` (score fusion, weight 0.5), each side's
top 100 chunks. A document scores as its best chunk. Reports nDCG@10 and recall@100 per overlap,
and the tokens embedded (the cost).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c
import numpy as np

Chunk = tuple[str, tuple[str, ...], str]


def chunk_corpus(corpus: list[dict[str, str]], overlap: int, counter: Any) -> list[Chunk]:
    """(doc id, heading path, text) of every chunk, as the pipeline would cut the abstracts."""
    from app.ingestion.chunking import chunk_blocks
    from app.ingestion.types import Block

    out = []
    for doc in corpus:
        path = (doc["title"],) if doc["title"] else ()
        blocks = [Block(text=doc["text"], page=1, heading_path=path, kind="paragraph")]
        for d in chunk_blocks(blocks, counter, max_tokens=256, overlap_tokens=overlap):
            out.append((doc["_id"], d.heading_path, d.text))
    return out


def embed_unique(texts: list[str], cache: Path) -> dict[str, np.ndarray]:
    """Vectors of ``texts``, each distinct text embedded once and cached by its hash."""
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    def key(t: str) -> str:
        return hashlib.sha256(t.encode()).hexdigest()[:24]

    store: dict[str, np.ndarray] = {}
    if cache.exists():
        data = np.load(cache)
        store = {k: data[k] for k in data.files}
    missing = sorted({t for t in texts if key(t) not in store})
    if missing:
        t0 = time.perf_counter()
        vectors = asyncio.run(LocalOnnxEmbedder().embed_documents(missing))
        print(f"embedded {len(missing)} new chunk texts in {time.perf_counter() - t0:.0f} s")
        store.update({key(t): np.asarray(v, dtype=np.float32) for t, v in zip(missing, vectors, strict=True)})
        np.savez(cache, **store)
    return {t: store[key(t)] for t in texts}


def keyword_index(chunks: list[Chunk]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(heading, text, tokenize='porter unicode61')")
    db.executemany("INSERT INTO f(rowid, heading, text) VALUES (?, ?, ?)",
                   [(i, " > ".join(p), t) for i, (_, p, t) in enumerate(chunks)])
    return db


def ndcg10(ranked: list[str], rel: dict[str, int]) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def evaluate(overlap: int, corpus: list[dict[str, str]], queries: dict[str, str],
             qrels: dict[str, dict[str, int]], qvecs: dict[str, np.ndarray], counter: Any,
             cache: Path) -> dict[str, Any]:
    from app.ingestion.embedding_text import embedding_text
    from app.rag.retrieval import fuse, query_terms

    chunks = chunk_corpus(corpus, overlap, counter)
    texts = [embedding_text(p, t) for _, p, t in chunks]
    vec = embed_unique(texts, cache)
    matrix = np.stack([vec[t] for t in texts])
    tokens = sum(min(counter(t) + 2, 256) for t in texts)
    db = keyword_index(chunks)
    results: dict[str, list[float]] = {"dense": [], "keyword": [], "hybrid": []}
    recall: dict[str, list[float]] = {k: [] for k in results}
    for qid, rel in qrels.items():
        scores = matrix @ qvecs[qid]
        top = np.argsort(-scores)[:100]
        dense = {str(i): float(scores[i]) for i in top}
        terms = query_terms(queries[qid])
        q = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        keyword = [(str(r[0]), float(r[1])) for r in db.execute(
            "SELECT rowid, -bm25(f, 3.0, 1.0) AS s FROM f WHERE f MATCH ? ORDER BY s DESC LIMIT 100",
            (q,))] if q else []
        for name, ranked_chunks in (
            ("dense", sorted(dense.items(), key=lambda kv: -kv[1])),
            ("keyword", keyword),
            ("hybrid", fuse(dense, keyword, fusion="score", weight=0.5)),
        ):
            docs: list[str] = []
            for cid, _ in ranked_chunks:
                d = chunks[int(cid)][0]
                if d not in docs:
                    docs.append(d)
            results[name].append(ndcg10(docs, rel))
            recall[name].append(len(set(docs[:100]) & set(rel)) / len(rel))
    return {"overlap": overlap, "chunks": len(chunks), "tokens_embedded": tokens,
            **{f"{k}_ndcg10": round(sum(v) / len(v), 4) for k, v in results.items()},
            **{f"{k}_recall100": round(sum(v) / len(v), 4) for k, v in recall.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlaps", default="0,20,40")
    parser.add_argument("--split", default="test", choices=["test", "train"])
    parser.add_argument("--corpus-sample", type=int, default=0, metavar="N",
                        help="keep every judged abstract plus N others (fixed choice): a faster, "
                             "easier corpus for comparing overlaps, not for absolute figures")
    args = parser.parse_args()
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    embedder = LocalOnnxEmbedder()
    corpus, queries, qrels = c.scifact_corpus(), c.scifact_queries(), c.scifact_qrels(args.split)
    if args.corpus_sample:
        judged = {d for rel in qrels.values() for d in rel}
        others = sorted((d for d in corpus if d["_id"] not in judged),
                        key=lambda d: hashlib.sha256(d["_id"].encode()).hexdigest())
        keep = judged | {d["_id"] for d in others[: args.corpus_sample]}
        corpus = [d for d in corpus if d["_id"] in keep]
    qids = sorted(qrels)
    qv = asyncio.run(embedder.embed_documents([queries[q] for q in qids]))
    qvecs = {q: np.asarray(v, dtype=np.float32) for q, v in zip(qids, qv, strict=True)}
    cache = Path(tempfile.gettempdir()) / f"citewise-bench-overlap-{embedder.model_id}.npz"
    rows = [evaluate(int(o), corpus, queries, qrels, qvecs, embedder.count_tokens, cache)
            for o in args.overlaps.split(",")]
    base = rows[-1]["tokens_embedded"]
    c.print_table(["overlap", "chunks", "tokens", "dense nDCG@10", "keyword", "hybrid", "hybrid R@100"],
                  [[r["overlap"], r["chunks"], f"{r['tokens_embedded']} ({r['tokens_embedded'] / base:.3f})",
                    r["dense_ndcg10"], r["keyword_ndcg10"], r["hybrid_ndcg10"], r["hybrid_recall100"]]
                   for r in rows])
    c.emit_json("overlap_quality", {"split": args.split, "queries": len(qids), "corpus": len(corpus),
                                     "rows": rows})


if __name__ == "__main__":
    main()
