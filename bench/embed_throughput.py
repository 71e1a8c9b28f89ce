"""Throughput of the local embedder (LocalOnnxEmbedder) on real ~200-token chunks from SciFact.

    backend/.venv/bin/python bench/embed_throughput.py                 # default batch size
    backend/.venv/bin/python bench/embed_throughput.py --sweep 8,16,32 # one process per batch size

Prints documents/s, tokens/s and the process's peak RSS. Each batch size of a sweep runs in its own
process because peak RSS only ever grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from app.providers.embeddings.local_onnx import LocalOnnxEmbedder  # noqa: E402

CORPUS = ROOT.parent / "shared" / "eval" / "scifact" / "corpus.jsonl"


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


async def measure(args: argparse.Namespace) -> dict[str, float]:
    embedder = LocalOnnxEmbedder(
        max_length=args.max_length, batch_size=args.batch_size, threads=args.threads
    )
    chunks = load_chunks(embedder, args.chunks, args.tokens)
    tokens = sum(min(embedder.count_tokens(c) + 2, args.max_length) for c in chunks)
    await embedder.embed_documents(chunks[:8])  # load the model and warm up outside the timing
    start, cpu_start = time.perf_counter(), time.process_time()
    await embedder.embed_documents(chunks)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "batch_size": args.batch_size,
        "chunks": len(chunks),
        "mean_tokens": tokens / len(chunks),
        "seconds": elapsed,
        "docs_per_s": len(chunks) / elapsed,
        "tokens_per_s": tokens / elapsed,
        # CPU time is steadier than wall time on a machine shared with other work.
        "docs_per_cpu_s": len(chunks) / cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--tokens", type=int, default=200, help="target tokens per chunk")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--sweep", help="comma-separated batch sizes, each in a fresh process")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"{CORPUS} not found")

    if args.sweep:
        for size in args.sweep.split(","):
            cmd = [sys.executable, __file__, "--batch-size", size, "--chunks", str(args.chunks),
                   "--tokens", str(args.tokens), "--max-length", str(args.max_length)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            subprocess.run(cmd, check=True)  # noqa: S603 - re-runs this script
        return

    r = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(r))
        return
    print(
        f"batch {r['batch_size']:>3}: {r['chunks']:.0f} chunks x {r['mean_tokens']:.0f} tokens "
        f"in {r['seconds']:.1f} s -> {r['docs_per_s']:.1f} docs/s, "
        f"{r['tokens_per_s']:.0f} tokens/s ({r['docs_per_cpu_s']:.1f} docs per CPU-second), "
        f"peak RSS {r['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
