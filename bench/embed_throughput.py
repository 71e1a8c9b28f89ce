"""The local embedder (LocalOnnxEmbedder) alone: speed, page faults and peak RSS per configuration.

    backend/.venv/bin/python bench/embed_throughput.py                       # product defaults
    backend/.venv/bin/python bench/embed_throughput.py --texts T.json --configs all
    backend/.venv/bin/python bench/embed_throughput.py --configs arena-b8,arena-b16 --chunks 2000

Texts are ~200-token pieces of SciFact abstracts, or a JSON list of texts (``--texts``; e.g. the
chunk texts of fullrefman.pdf that ``bench/ingest.py --dump-texts`` writes). ``--configs`` runs
each named configuration (CONFIGS below) in its own process, because peak RSS only ever grows and
allocator settings are process-wide; ``reference`` is the model configured for speed on its own
code path (bench/speed_reference.py: onnxruntime defaults, one global length sort). Prints wall and
CPU seconds, kernel (sys) seconds, minor page faults, peak RSS and the largest difference of the
vectors from the first configuration's.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT / "bench"))

from app.providers.embeddings.local_onnx import LocalOnnxEmbedder  # noqa: E402

CORPUS = ROOT.parent / "shared" / "eval" / "scifact" / "corpus.jsonl"

# name -> LocalOnnxEmbedder keyword arguments (+ "mmap_threshold": glibc M_MMAP_THRESHOLD bytes).
CONFIGS: dict[str, dict[str, Any]] = {
    # before issue 15: arena off, patterns off, every allocation >= 1 MiB a fresh mmap
    "old": {"batch_size": 8, "max_batch_texts": 8, "memory_arena": False, "mmap_threshold": 1 << 20},
    "no-arena-b8": {"batch_size": 8, "max_batch_texts": 8, "memory_arena": False},
    "arena-b4": {"batch_size": 4, "max_batch_texts": 4},
    "arena-b8": {"batch_size": 8, "max_batch_texts": 8},
    "arena-b16": {"batch_size": 16, "max_batch_texts": 16},
    "arena-b32": {"batch_size": 32, "max_batch_texts": 32},
    "arena-b8-tok32": {"batch_size": 8, "max_batch_texts": 32},
    "arena-b8-patterns": {"batch_size": 8, "max_batch_texts": 8, "memory_patterns": True},
    "arena-b8-spin": {"batch_size": 8, "max_batch_texts": 8, "spinning": True},
    "arena-b16-patterns-spin": {"batch_size": 16, "max_batch_texts": 16, "memory_patterns": True,
                                "spinning": True},
    "product": {},
    "reference": {"batch_size": 16},
}


def load_chunks(embedder: LocalOnnxEmbedder, n: int, target_tokens: int) -> list[str]:
    """Cut SciFact abstracts into consecutive pieces of about ``target_tokens`` word pieces."""
    chunks: list[str] = []
    with CORPUS.open() as fh:
        for line in fh:
            doc = json.loads(line)
            words = f"{doc['title']}. {doc['text']}".split()
            piece: list[str] = []
            for word in words:
                piece.append(word)
                # Check the token count every few words: counting every word would be quadratic.
                if len(piece) % 8 == 0 and embedder.count_tokens(" ".join(piece)) >= target_tokens:
                    chunks.append(" ".join(piece))
                    piece = []
                    if len(chunks) == n:
                        return chunks
    if len(chunks) < n:
        raise SystemExit(f"only {len(chunks)} chunks of {target_tokens} tokens in {CORPUS}")
    return chunks


def _texts(args: argparse.Namespace) -> list[str]:
    if args.texts:
        texts: list[str] = json.loads(Path(args.texts).read_text())
        return texts[: args.chunks] if args.chunks else texts
    return load_chunks(LocalOnnxEmbedder(), args.chunks or 500, args.tokens)


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def query_latency(name: str, n: int, threads: int | None) -> dict[str, Any]:
    """One SciFact claim at a time through embed_query (the reference: its own one-text path)."""
    import _common as c

    queries = [q for _, q in sorted(c.scifact_queries().items())][:n]
    kwargs = dict(CONFIGS[name])
    if name == "reference":
        from speed_reference import SpeedReference

        ref = SpeedReference()

        def one(q: str) -> None:
            ref.embed(ref.encode([q]), 1)
    else:
        threshold = kwargs.pop("mmap_threshold", None)
        if threshold:
            ctypes.CDLL(None).mallopt(-3, threshold)  # M_MMAP_THRESHOLD, glibc
        embedder = LocalOnnxEmbedder(threads=threads, **kwargs)
        loop = asyncio.new_event_loop()

        def one(q: str) -> None:
            loop.run_until_complete(embedder.embed_query(q))
    for q in queries[:10]:
        one(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        one(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"config": name, "queries": len(times), "p50_ms": round(c.percentile(times, 50), 2),
            "p95_ms": round(c.percentile(times, 95), 2), "loadavg": round(os.getloadavg()[0], 2)}


def measure(name: str, texts: list[str], threads: int | None) -> tuple[dict[str, Any], np.ndarray]:
    kwargs = dict(CONFIGS[name])
    if name == "reference":
        from speed_reference import SpeedReference

        ref = SpeedReference()
        ids = ref.encode(texts)
        ref.embed(ids[:16], 16)
        run = lambda: ref.embed(ids, kwargs["batch_size"])  # noqa: E731
    else:
        threshold = kwargs.pop("mmap_threshold", None)
        if threshold:
            ctypes.CDLL(None).mallopt(-3, threshold)  # M_MMAP_THRESHOLD, glibc
        embedder = LocalOnnxEmbedder(threads=threads, **kwargs)
        asyncio.run(embedder.embed_documents(texts[:16]))  # load + warm up outside the timing
        run = lambda: np.asarray(asyncio.run(embedder.embed_documents(texts)),  # noqa: E731
                                 dtype=np.float32)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    start, cpu = time.perf_counter(), _cpu_s()
    vectors = run()
    elapsed, cpu = time.perf_counter() - start, _cpu_s() - cpu
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "config": name, "texts": len(texts), "seconds": round(elapsed, 2),
        "cpu_s": round(cpu, 2), "sys_s": round(r1.ru_stime - r0.ru_stime, 2),
        "minor_faults": r1.ru_minflt - r0.ru_minflt,
        "docs_per_s": round(len(texts) / elapsed, 2), "docs_per_cpu_s": round(len(texts) / cpu, 2),
        "peak_rss_mb": round(r1.ru_maxrss / 1024, 1), "loadavg": round(os.getloadavg()[0], 2),
    }, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", help="JSON list of texts (default: SciFact pieces)")
    parser.add_argument("--chunks", type=int, default=0, help="use the first N texts")
    parser.add_argument("--tokens", type=int, default=200, help="SciFact: target tokens per piece")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--configs", default="product",
                        help=f"comma-separated, or 'all': {', '.join(CONFIGS)}")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one config, print JSON
    parser.add_argument("--vectors-out", help=argparse.SUPPRESS)
    parser.add_argument("--query-latency", type=int, default=0, metavar="N",
                        help="instead: one-query latency over N SciFact claims per configuration")
    args = parser.parse_args()

    if args.query_latency:
        names = list(CONFIGS) if args.configs == "all" else args.configs.split(",")
        for name in names:
            if args.one:
                print(json.dumps(query_latency(args.one, args.query_latency, args.threads)))
                return
            cmd = [sys.executable, __file__, "--one", name, "--query-latency", str(args.query_latency)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{name:>24}: one query p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms "
                  f"({r['queries']} queries, load {r['loadavg']})", flush=True)
        return

    if args.one:
        texts = _texts(args)
        result, vectors = measure(args.one, texts, args.threads)
        if args.vectors_out:
            np.save(args.vectors_out, vectors)
        print(json.dumps(result))
        return

    names = list(CONFIGS) if args.configs == "all" else args.configs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = args.texts
        if not texts_file:
            texts_file = str(Path(tmp) / "texts.json")
            Path(texts_file).write_text(json.dumps(_texts(args)))
        first: np.ndarray | None = None
        for name in names:
            out = Path(tmp) / f"{name}.npy"
            cmd = [sys.executable, __file__, "--one", name, "--texts", texts_file,
                   "--chunks", str(args.chunks), "--vectors-out", str(out)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            line = subprocess.run(cmd, check=True, capture_output=True,  # noqa: S603 - this script
                                  text=True).stdout.strip().splitlines()[-1]
            r = json.loads(line)
            vectors = np.load(out)
            first = vectors if first is None else first
            r["max_abs_diff_vs_first"] = float(np.abs(vectors - first).max())
            print(f"{r['config']:>24}: {r['texts']} texts in {r['seconds']:.1f} s "
                  f"(CPU {r['cpu_s']:.1f} s, sys {r['sys_s']:.1f} s, {r['minor_faults']:,} minor "
                  f"faults), peak RSS {r['peak_rss_mb']:.0f} MB, load {r['loadavg']}, "
                  f"max |diff| {r['max_abs_diff_vs_first']:.1e}", flush=True)
            print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
