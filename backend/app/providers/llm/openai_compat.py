"""Chat model over any OpenAI-compatible `/chat/completions` endpoint.

Works with OpenAI, Ollama (`…/v1`), vLLM, llama.cpp server, llama-cpp-python and LM Studio: they all
speak the same server-sent-event stream of `chat.completion.chunk` objects ending in `data: [DONE]`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from app.providers.llm.base import ChatMessage, GenerationParams, LLMError

_RETRY_STATUSES = frozenset({408, 429})
_MAX_ERROR_CHARS = 400
# Never sleep longer than this between attempts, whatever Retry-After asks for: the user is waiting.
_MAX_DELAY_S = 30.0


class _Retryable(Exception):
    """A failure worth another attempt, provided nothing has been streamed to the caller yet."""

    def __init__(self, error: LLMError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


class OpenAICompatChatModel:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._max_retries = max(0, max_retries)
        self._backoff_base = backoff_base
        self._timeout = timeout
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        # `timeout` bounds each wait for bytes (so a stalled stream fails), not the whole answer.
        self._client = httpx.AsyncClient(
            base_url=self._base_url + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
        )

    @property
    def model_id(self) -> str:
        return self._model

    async def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncIterator[str]:
        body = self._body(messages, params, stream=True)
        headers = {"Accept": "text/event-stream"}
        attempt = 0
        started = False
        while True:
            try:
                try:
                    # Leaving this block for any reason (end, error, the consumer's task being
                    # cancelled, the generator being closed) closes the response, so the server
                    # stops generating.
                    async with self._client.stream(
                        "POST", "chat/completions", json=body, headers=headers
                    ) as response:
                        await self._check_status(response)
                        async for delta in self._deltas(response):
                            started = True
                            yield delta
                    return
                except httpx.HTTPError as exc:
                    raise self._network_error(exc) from exc
            except _Retryable as exc:
                if started or attempt >= self._max_retries:
                    raise exc.error from exc
                await asyncio.sleep(self._delay(attempt, exc.retry_after))
                attempt += 1

    async def complete(self, messages: Sequence[ChatMessage], params: GenerationParams) -> str:
        body = self._body(messages, params, stream=False)
        data = await self._request_json("POST", "chat/completions", json=body)
        return _message_content(data)

    async def ping(self) -> None:
        data = await self._request_json("GET", "models")
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise LLMError(
                f"{self._base_url}/models did not answer like an OpenAI-compatible server"
            )

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- requests ---------------------------------------------------------------------------

    def _body(
        self, messages: Sequence[ChatMessage], params: GenerationParams, *, stream: bool
    ) -> dict[str, Any]:
        return {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stream": stream,
        }

    async def _request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                try:
                    response = await self._client.request(method, path, **kwargs)
                except httpx.HTTPError as exc:
                    raise self._network_error(exc) from exc
                await self._check_status(response)
                try:
                    return response.json()
                except ValueError as exc:
                    raise LLMError(
                        "The language model sent a response that is not valid JSON"
                    ) from exc
            except _Retryable as exc:
                if attempt >= self._max_retries:
                    raise exc.error from exc
                await asyncio.sleep(self._delay(attempt, exc.retry_after))
                attempt += 1

    async def _check_status(self, response: httpx.Response) -> None:
        """Raise LLMError (or _Retryable) for an error status; return for 2xx."""
        status = response.status_code
        if status < 400:
            return
        await response.aread()
        detail = _server_message(response)
        suffix = f": {detail}" if detail else ""
        if status == 401:
            raise LLMError("The language model rejected the API key", status=status)
        if status == 429:
            error = LLMError(
                f"The language model is rate-limited; try again shortly{suffix}",
                transient=True,
                status=status,
            )
            raise _Retryable(error, _retry_after(response))
        if status >= 500 or status in _RETRY_STATUSES:
            error = LLMError(
                f"The language model server failed (HTTP {status}){suffix}",
                transient=True,
                status=status,
            )
            raise _Retryable(error, _retry_after(response))
        if status == 403:
            raise LLMError(f"The language model refused access{suffix}", status=status)
        if status == 404:
            raise LLMError(
                f"The language model endpoint or model '{self._model}' was not found "
                f"at {self._base_url}{suffix}",
                status=status,
            )
        raise LLMError(f"The language model rejected the request (HTTP {status}){suffix}",
                       status=status)

    def _network_error(self, exc: httpx.HTTPError) -> LLMError | _Retryable:
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return _Retryable(
                LLMError(f"Could not connect to the language model at {self._base_url}",
                         transient=True)
            )
        if isinstance(exc, httpx.TimeoutException):
            return LLMError(
                f"The language model did not respond within {self._timeout:g} s", transient=True
            )
        return LLMError(f"The connection to the language model failed ({type(exc).__name__})",
                        transient=True)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, _MAX_DELAY_S)
        # Exponential backoff with jitter so that many waiting clients do not retry in lockstep.
        ceiling = min(self._backoff_base * 2**attempt, _MAX_DELAY_S)
        return float(ceiling) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    # -- stream parsing -----------------------------------------------------------------------

    async def _deltas(self, response: httpx.Response) -> AsyncIterator[str]:
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            # Some servers ignore "stream": true and answer in one piece.
            await response.aread()
            text = _message_content(_parse_json(response.text))
            if text:
                yield text
            return
        finished = False
        try:
            async for event in EventSource(response).aiter_sse():
                data = event.data.strip()
                if not data:  # keep-alive
                    continue
                if data == "[DONE]":
                    return
                chunk = _parse_json(data)
                delta, finish = _chunk_delta(chunk)
                finished = finished or finish
                if delta:
                    yield delta
        except SSEError as exc:
            raise LLMError(
                f"The language model did not send an event stream ({content_type or 'no type'})"
            ) from exc
        if not finished:
            # The connection closed cleanly but the answer never said it was over.
            raise LLMError("The language model stream ended unexpectedly", transient=True)


def _parse_json(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise LLMError(
            f"The language model sent a malformed stream chunk: {data[:80]!r}"
        ) from exc


def _chunk_delta(chunk: Any) -> tuple[str, bool]:
    """Return (text delta, whether a finish_reason arrived) from one `chat.completion.chunk`."""
    if not isinstance(chunk, dict):
        raise LLMError("The language model sent a malformed stream chunk (not an object)")
    if "error" in chunk:
        raise LLMError(f"The language model failed mid-answer: {_error_text(chunk) or 'unknown'}")
    choices = chunk.get("choices")
    if choices is None or choices == []:  # e.g. a final usage-only chunk
        return "", False
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise LLMError("The language model sent a malformed stream chunk (bad 'choices')")
    choice = choices[0]
    delta = choice.get("delta") or {}
    if not isinstance(delta, dict):
        raise LLMError("The language model sent a malformed stream chunk (bad 'delta')")
    # `reasoning_content` (DeepSeek, vLLM reasoning parsers) is the model thinking: not the answer.
    content = delta.get("content")
    if content is not None and not isinstance(content, str):
        raise LLMError("The language model sent a malformed stream chunk (bad 'content')")
    return content or "", choice.get("finish_reason") is not None


def _message_content(data: Any) -> str:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError("The language model sent a response without a message") from exc
    if content is None:
        return ""
    if not isinstance(content, str):
        raise LLMError("The language model sent a message whose content is not text")
    return content


def _error_text(data: Any) -> str | None:
    """The human part of the error shapes servers use: OpenAI, Ollama, FastAPI, plain text."""
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(data.get("message"), str):
        return str(data["message"])
    detail = data.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # FastAPI validation errors
        parts = [str(d.get("msg")) for d in detail if isinstance(d, dict) and d.get("msg")]
        return "; ".join(parts) or None
    return None


def _server_message(response: httpx.Response) -> str | None:
    try:
        text = _error_text(response.json())
    except ValueError:
        text = response.text
    text = " ".join((text or "").split())
    return text[:_MAX_ERROR_CHARS] or None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
