"""OpenAICompatChatModel against a scripted server speaking OpenAI's wire format."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from app.providers.llm import ChatMessage, GenerationParams, LLMError
from app.providers.llm.openai_compat import OpenAICompatChatModel

MESSAGES = [ChatMessage("system", "Be brief."), ChatMessage("user", "Say hello.")]
PARAMS = GenerationParams(max_tokens=32, temperature=0.0)


@pytest.fixture
async def make_model() -> AsyncIterator[Callable[..., OpenAICompatChatModel]]:
    created: list[OpenAICompatChatModel] = []

    def factory(**kwargs: object) -> OpenAICompatChatModel:
        options: dict[str, object] = {"model": "m", "backoff_base": 0.05}
        options.update(kwargs)
        model = OpenAICompatChatModel(**options)  # type: ignore[arg-type]
        created.append(model)
        return model

    yield factory
    for model in created:
        await model.aclose()


async def collect(model: OpenAICompatChatModel) -> list[str]:
    return [delta async for delta in model.stream(MESSAGES, PARAMS)]


async def test_stream_parses_deltas_and_skips_noise(wire_server, make_model) -> None:
    base_url, key = wire_server.url("happy")
    model = make_model(base_url=base_url + "/", api_key="sk-test")
    # Role-only, reasoning, empty, usage-only chunks, comments and blank lines yield nothing.
    assert await collect(model) == wire_server.happy_tokens
    body = wire_server.state.bodies[key][0]
    assert body["stream"] is True and body["model"] == "m"
    assert body["max_tokens"] == 32 and body["temperature"] == 0.0
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Say hello."}]
    assert wire_server.state.headers[key][0]["authorization"] == "Bearer sk-test"


async def test_no_authorization_header_without_key(wire_server, make_model) -> None:
    base_url, key = wire_server.url("happy")
    await make_model(base_url=base_url).complete(MESSAGES, PARAMS)
    assert "authorization" not in wire_server.state.headers[key][0]


async def test_complete_and_ping(wire_server, make_model) -> None:
    base_url, key = wire_server.url("happy")
    model = make_model(base_url=base_url)
    assert await model.complete(MESSAGES, PARAMS) == "".join(wire_server.happy_tokens)
    assert wire_server.state.bodies[key][0]["stream"] is False
    await model.ping()
    assert model.model_id == "m"


async def test_429_honours_retry_after_then_succeeds(wire_server, make_model) -> None:
    base_url, key = wire_server.url("rate-limited-once")
    started = time.monotonic()
    assert await collect(make_model(base_url=base_url)) == wire_server.happy_tokens
    assert wire_server.state.hits[key] == 2
    assert time.monotonic() - started >= 0.95  # Retry-After: 1, not the 0.05 s backoff


async def test_500_then_success(wire_server, make_model) -> None:
    base_url, key = wire_server.url("fails-once")
    assert await collect(make_model(base_url=base_url)) == wire_server.happy_tokens
    assert wire_server.state.hits[key] == 2


async def test_complete_retries_503(wire_server, make_model) -> None:
    base_url, key = wire_server.url("unavailable-once")
    assert await make_model(base_url=base_url).complete(MESSAGES, PARAMS) == "Hello there, friend"
    assert wire_server.state.hits[key] == 2


async def test_500_forever_gives_transient_error(wire_server, make_model) -> None:
    base_url, key = wire_server.url("fails-always")
    with pytest.raises(LLMError) as caught:
        await collect(make_model(base_url=base_url, max_retries=2))
    assert caught.value.transient and caught.value.status == 500
    assert "The server had an error" in caught.value.message
    assert wire_server.state.hits[key] == 3  # first try + 2 retries


async def test_401_is_clear_and_not_retried(wire_server, make_model) -> None:
    base_url, key = wire_server.url("unauthorized")
    model = make_model(base_url=base_url, api_key="sk-wrong")
    with pytest.raises(LLMError) as caught:
        await collect(model)
    assert caught.value.message == "The language model rejected the API key"
    assert caught.value.status == 401 and not caught.value.transient
    assert wire_server.state.hits[key] == 1
    with pytest.raises(LLMError, match="rejected the API key"):
        await model.ping()


async def test_400_carries_server_message(wire_server, make_model) -> None:
    base_url, key = wire_server.url("bad-request")
    with pytest.raises(LLMError) as caught:
        await make_model(base_url=base_url).complete(MESSAGES, PARAMS)
    assert "max_tokens is too large: 999999" in caught.value.message
    assert caught.value.status == 400 and not caught.value.transient
    assert wire_server.state.hits[key] == 1


async def test_read_timeout_before_headers(wire_server, make_model) -> None:
    base_url, key = wire_server.url("slow-headers")
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"did not respond within 0\.5 s") as caught:
        await collect(make_model(base_url=base_url, timeout=0.5))
    assert caught.value.transient
    assert time.monotonic() - started < 2.5
    assert wire_server.state.hits[key] == 1  # a slow model is not hammered with retries


async def test_stall_after_first_token_times_out_without_retry(
    wire_server, make_model
) -> None:
    base_url, key = wire_server.url("stall-after-first")
    received: list[str] = []
    with pytest.raises(LLMError, match="did not respond"):
        async for delta in make_model(base_url=base_url, timeout=0.5).stream(MESSAGES, PARAMS):
            received.append(delta)
    assert received == ["Hello"]
    assert wire_server.state.hits[key] == 1


async def test_malformed_json_chunk(wire_server, make_model) -> None:
    base_url, key = wire_server.url("malformed")
    with pytest.raises(LLMError, match="malformed stream chunk") as caught:
        await collect(make_model(base_url=base_url))
    assert not caught.value.transient
    assert wire_server.state.hits[key] == 1


async def test_chunk_with_wrong_shape(wire_server, make_model) -> None:
    base_url, _ = wire_server.url("bad-shape")
    with pytest.raises(LLMError, match="bad 'choices'"):
        await collect(make_model(base_url=base_url))


async def test_no_retry_after_first_token(wire_server, make_model) -> None:
    base_url, key = wire_server.url("drop-after-first")
    received: list[str] = []
    with pytest.raises(LLMError) as caught:
        async for delta in make_model(base_url=base_url).stream(MESSAGES, PARAMS):
            received.append(delta)
    assert received == ["Partial"]  # never repeated by a retry
    assert caught.value.transient
    assert wire_server.state.hits[key] == 1


async def test_error_event_mid_stream(wire_server, make_model) -> None:
    base_url, _ = wire_server.url("error-event")
    with pytest.raises(LLMError, match="model crashed"):
        await collect(make_model(base_url=base_url))


async def test_stream_without_end_is_an_error(wire_server, make_model) -> None:
    base_url, _ = wire_server.url("no-done")
    with pytest.raises(LLMError, match="ended unexpectedly"):
        await collect(make_model(base_url=base_url))


async def test_server_answering_json_to_a_stream_request(
    wire_server, make_model
) -> None:
    base_url, _ = wire_server.url("json-instead")
    assert await collect(make_model(base_url=base_url)) == ["Whole answer at once"]


async def test_connect_error_is_retried_then_transient(make_model, unused_port: int) -> None:
    port = unused_port  # nothing listens there
    model = make_model(base_url=f"http://127.0.0.1:{port}/v1", max_retries=2, connect_timeout=1)
    with pytest.raises(LLMError, match="Could not connect") as caught:
        await collect(model)
    assert caught.value.transient and caught.value.status is None
    with pytest.raises(LLMError, match="Could not connect"):
        await model.ping()


async def test_cancelling_consumer_closes_the_stream(wire_server, make_model) -> None:
    base_url, key = wire_server.url("endless")
    model = make_model(base_url=base_url)
    received: list[str] = []
    three = asyncio.Event()

    async def consume() -> None:
        async for delta in model.stream(MESSAGES, PARAMS):
            received.append(delta)
            if len(received) == 3:
                three.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server-side generator (2000 tokens, ~20 s) is torn down because the connection closed.
    closed = wire_server.state.stream_closed[key]
    assert await asyncio.to_thread(closed.wait, 5)
    assert len(received) < 100
    assert await model.complete(MESSAGES, PARAMS)  # the client is still usable


async def test_breaking_out_of_the_loop_closes_the_stream(
    wire_server, make_model
) -> None:
    base_url, key = wire_server.url("endless")
    stream = make_model(base_url=base_url).stream(MESSAGES, PARAMS)
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert await asyncio.to_thread(wire_server.state.stream_closed[key].wait, 5)
