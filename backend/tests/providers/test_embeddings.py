"""Embedders: the packaged MiniLM model on the CPU, and an OpenAI-compatible HTTP endpoint."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from app.providers.embeddings import Embedder, EmbeddingError
from app.providers.embeddings.local_onnx import LocalOnnxEmbedder, SessionOptions, _package_file
from app.providers.embeddings.openai_compat import OpenAICompatEmbedder
from tests.providers.conftest import free_port

PASSWORD_QUERY = "How do I reset my password?"
PASSWORD_DOC = (
    "To reset your password, open the login page, click 'Forgot password' and follow the link "
    "we email you."
)
UNRELATED_DOC = "The Great Barrier Reef is the world's largest coral reef system, off Queensland."


# -- local ONNX model ---------------------------------------------------------------------------


def cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))  # vectors are unit length


async def test_shape_and_normalisation(local_embedder: LocalOnnxEmbedder) -> None:
    assert isinstance(local_embedder, Embedder)
    assert local_embedder.model_id == "minilm-l6-v2-int8"
    vecs = await local_embedder.embed_documents([PASSWORD_DOC, UNRELATED_DOC, ""])
    arr = np.asarray(vecs)
    assert arr.shape == (3, local_embedder.dimension) == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(arr, axis=1), 1.0, atol=1e-5)
    assert not np.isnan(arr).any()


async def test_semantic_sanity(local_embedder: LocalOnnxEmbedder) -> None:
    q = await local_embedder.embed_query(PASSWORD_QUERY)
    related, unrelated = await local_embedder.embed_documents([PASSWORD_DOC, UNRELATED_DOC])
    assert cos(q, related) > 0.5
    assert cos(q, related) > cos(q, unrelated) + 0.3


async def test_deterministic_and_query_equals_document(local_embedder: LocalOnnxEmbedder) -> None:
    first = await local_embedder.embed_query(PASSWORD_QUERY)
    second = await local_embedder.embed_query(PASSWORD_QUERY)
    assert first == second
    (as_doc,) = await local_embedder.embed_documents([PASSWORD_QUERY])
    np.testing.assert_allclose(first, as_doc, atol=1e-6)


async def test_batch_order_and_padding_do_not_change_vectors(
    local_embedder: LocalOnnxEmbedder,
) -> None:
    # Lengths deliberately unsorted and spread across several batches of 16.
    texts = [("word " * ((n * 37) % 120 + 1)) + f"item {n}" for n in range(24)]
    texts[5] = PASSWORD_DOC
    batched = np.asarray(await local_embedder.embed_documents(texts))
    alone = np.asarray([await local_embedder.embed_query(t) for t in texts])
    # Each vector belongs to its own text (order restored after length sorting) and padding to a
    # longer neighbour in the batch does not change it (the attention mask is honoured).
    np.testing.assert_allclose(batched, alone, atol=2e-3)
    assert np.argmax(batched @ alone[5]) == 5


async def test_long_input_is_truncated(local_embedder: LocalOnnxEmbedder) -> None:
    long_text = " ".join(["retrieval augmented generation over uploaded documents"] * 400)
    assert local_embedder.count_tokens(long_text) > 2000  # counting does not truncate
    (vec,) = await local_embedder.embed_documents([long_text])
    assert abs(np.linalg.norm(vec) - 1.0) < 1e-5
    # Truncation keeps the head: anything past max_length cannot change the vector.
    (vec2,) = await local_embedder.embed_documents([long_text + " completely different ending"])
    np.testing.assert_allclose(vec, vec2, atol=1e-6)


async def test_empty_list(local_embedder: LocalOnnxEmbedder) -> None:
    assert await local_embedder.embed_documents([]) == []


def test_count_tokens(local_embedder: LocalOnnxEmbedder) -> None:
    assert local_embedder.count_tokens("") == 0
    assert local_embedder.count_tokens("hello world") == 2
    assert local_embedder.count_tokens("antidisestablishmentarianism") > 1  # word pieces


async def test_event_loop_keeps_running_during_inference(
    local_embedder: LocalOnnxEmbedder,
) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await local_embedder.embed_documents(["a longer sentence about many things " * 20] * 16)
    stop.set()
    await task
    assert ticks > 3


def test_missing_package_is_a_clear_error() -> None:
    with pytest.raises(EmbeddingError, match="pip install no-such-model"):
        _package_file(("no_such_model_package_xyz", "no-such-model", ("model.onnx",)))


def test_invalid_options() -> None:
    with pytest.raises(ValueError):
        LocalOnnxEmbedder(max_length=1000)
    with pytest.raises(ValueError):
        LocalOnnxEmbedder(batch_size=0)
    with pytest.raises(ValueError):
        LocalOnnxEmbedder(batch_size=8, max_batch_texts=4)
    with pytest.raises(ValueError):
        LocalOnnxEmbedder(threads=0)


def test_session_is_configured_for_throughput_with_bounded_memory() -> None:
    embedder = LocalOnnxEmbedder(threads=2)
    # The arena keeps buffers between runs (no page faults per operator); memory patterns, planned
    # per input shape, are off; idle threads do not spin on a shared CPU; a run uses one thread
    # and the cores are used by runs side by side.
    assert embedder.session_options == SessionOptions(threads=1, memory_arena=True,
                                                      memory_patterns=False, spinning=False)
    assert embedder.parallel_runs == 2


def test_batches_are_bounded_by_texts_and_padded_tokens() -> None:
    embedder = LocalOnnxEmbedder(max_length=256, batch_size=8, max_batch_texts=32, threads=1)
    lengths = [((n * 53) % 258) + 2 for n in range(500)] + [3] * 100
    batches = list(embedder.batches(lengths))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    widths = []
    for batch in batches:
        width = max(lengths[i] for i in batch)
        assert len(batch) <= 32
        assert len(batch) * width <= 8 * 256  # never more than batch_size texts at full length
        assert [lengths[i] for i in batch] == sorted(lengths[i] for i in batch)
        widths.append(width)
    assert widths == sorted(widths)  # shortest first: like lengths share a batch
    assert max(len(b) for b in batches) == 32  # short texts go in larger batches
    # full-length texts go in batches of batch_size
    assert max(len(b) for b in batches if max(lengths[i] for i in b) >= 250) <= 8


def test_runs_side_by_side_share_the_padded_token_budget() -> None:
    # Two runs at once: each gets half of batch_size x max_length, so the arena holds no more than
    # one run did; a full-length text still fits alone.
    lengths = [256] * 20 + [100] * 20
    for batches in (LocalOnnxEmbedder(batch_size=8, threads=2).batches(lengths),
                    LocalOnnxEmbedder(batch_size=8, threads=4).batches(lengths)):
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    two = LocalOnnxEmbedder(batch_size=8, threads=2).batches(lengths)
    assert max(len(b) * max(lengths[i] for i in b) for b in two) <= 4 * 256
    assert max(len(b) for b in two if lengths[b[-1]] == 256) == 4
    sixteen = LocalOnnxEmbedder(batch_size=8, threads=16).batches([256, 256])
    assert sixteen == [[0], [1]]  # never below one full-length text per run


def test_a_long_text_does_not_pad_short_ones() -> None:
    embedder = LocalOnnxEmbedder(batch_size=8, threads=1)
    # One document's few chunks: three short ones and a full one go in two runs, not one of
    # 4 x 256 padded tokens.
    assert embedder.batches([12, 256, 10, 11]) == [[2, 3, 0], [1]]
    # Like lengths share a run.
    assert embedder.batches([200, 201, 202, 203]) == [[0, 1, 2, 3]]


async def test_memory_arena_does_not_change_vectors(local_embedder: LocalOnnxEmbedder) -> None:
    texts = [PASSWORD_DOC, UNRELATED_DOC, "short", "word " * 300]
    without = LocalOnnxEmbedder(memory_arena=False, batch_size=2, max_batch_texts=2)
    assert await without.embed_documents(texts) == await local_embedder.embed_documents(texts)


async def test_runs_side_by_side_give_the_same_vectors_as_one_at_a_time() -> None:
    # Many batches per call (batch size 2) spread over two run slots, and three calls at once (three
    # documents): every vector equals the one a single slot computes, in the caller's order.
    texts = [f"{PASSWORD_DOC} {n}" if n % 3 else f"{UNRELATED_DOC} " * (n % 5 + 1)
             for n in range(24)]
    serial = LocalOnnxEmbedder(threads=1, batch_size=2, max_batch_texts=2)
    parallel = LocalOnnxEmbedder(threads=2, batch_size=2, max_batch_texts=2)
    assert parallel.parallel_runs == 2
    expected = await serial.embed_documents(texts)
    results = await asyncio.gather(*(parallel.embed_documents(texts[i::3]) for i in range(3)))
    for i, rows in enumerate(results):
        assert rows == expected[i::3]
    assert await parallel.embed_documents(texts) == expected


# -- OpenAI-compatible endpoint -----------------------------------------------------------------


class FakeOpenAI(ThreadingHTTPServer):
    """A real HTTP server speaking OpenAI's /v1/embeddings wire format, with scripted failures."""

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.failures: list[int] = []  # status codes to answer before succeeding
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        if self.path != "/v1/embeddings":
            self._send(404, {"error": {"message": "not found"}})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append(body)
            self.server.auth.append(self.headers.get("Authorization"))
            failure = self.server.failures.pop(0) if self.server.failures else None
        if failure is not None:
            self._send(failure, {"error": {"message": f"scripted {failure}"}})
            return
        if body["model"] == "bad-model":
            self._send(400, {"error": {"message": "model not found"}})
            return
        inputs = body["input"]
        # Deterministic, unnormalised 3-d vectors; returned in reverse order with their index.
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, float(i)]}
            for i, t in enumerate(inputs)
        ]
        self._send(200, {"object": "list", "data": data[::-1], "model": body["model"],
                         "usage": {"prompt_tokens": 1, "total_tokens": 1}})


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def make(server: FakeOpenAI, **kw: Any) -> OpenAICompatEmbedder:
    kw.setdefault("model", "fake-embed")
    return OpenAICompatEmbedder(
        base_url=f"http://127.0.0.1:{server.server_port}/v1/", backoff=0.01, **kw
    )


async def test_openai_batches_orders_and_normalises(fake_openai: FakeOpenAI) -> None:
    emb = make(fake_openai, batch_size=2, api_key="sk-test", dimension=3)
    assert isinstance(emb, Embedder)
    texts = ["a", "bbbb", "cc", "dddddddd", "e"]
    vecs = await emb.embed_documents(texts)
    assert len(fake_openai.requests) == 3
    assert [r["input"] for r in fake_openai.requests] == [["a", "bbbb"], ["cc", "dddddddd"], ["e"]]
    assert fake_openai.requests[0]["model"] == "fake-embed"
    assert fake_openai.auth == ["Bearer sk-test"] * 3
    for text, vec, pos in zip(texts, vecs, [0, 1, 0, 1, 0], strict=True):
        raw = np.array([len(text), 1.0, pos])
        np.testing.assert_allclose(vec, raw / np.linalg.norm(raw), rtol=1e-6)
    assert emb.dimension == 3
    assert await emb.embed_documents([]) == []
    assert emb.count_tokens("x" * 40) == 11
    await emb.aclose()


async def test_openai_dimension_discovery_and_mismatch(fake_openai: FakeOpenAI) -> None:
    emb = make(fake_openai)
    with pytest.raises(EmbeddingError):
        _ = emb.dimension
    assert await emb.ensure_dimension() == 3
    wrong = make(fake_openai, dimension=768)
    with pytest.raises(EmbeddingError) as info:
        await wrong.embed_query("x")
    assert not info.value.transient


async def test_openai_retries_429_then_succeeds(fake_openai: FakeOpenAI) -> None:
    fake_openai.failures = [429, 503]
    emb = make(fake_openai, max_retries=3)
    vec = await emb.embed_query("hello")
    assert len(vec) == 3
    assert len(fake_openai.requests) == 3


async def test_openai_gives_up_after_retries_transient(fake_openai: FakeOpenAI) -> None:
    fake_openai.failures = [503] * 10
    emb = make(fake_openai, max_retries=2)
    with pytest.raises(EmbeddingError) as info:
        await emb.embed_query("hello")
    assert info.value.transient
    assert len(fake_openai.requests) == 3


async def test_openai_400_is_not_transient_nor_retried(fake_openai: FakeOpenAI) -> None:
    emb = make(fake_openai, model="bad-model")
    with pytest.raises(EmbeddingError, match="400") as info:
        await emb.embed_query("hello")
    assert not info.value.transient
    assert len(fake_openai.requests) == 1


async def test_openai_connection_refused_is_transient() -> None:
    emb = OpenAICompatEmbedder(
        base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", max_retries=1, backoff=0.01
    )
    with pytest.raises(EmbeddingError) as info:
        await emb.embed_query("hello")
    assert info.value.transient


def test_openai_custom_token_counter() -> None:
    emb = OpenAICompatEmbedder(base_url="http://127.0.0.1:1/v1", model="m",
                               count_tokens=lambda t: len(t.split()))
    assert emb.count_tokens("one two three") == 3
