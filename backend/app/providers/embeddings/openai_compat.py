"""Any server speaking OpenAI's ``POST /embeddings``: OpenAI, Ollama (``/v1``), TEI, vLLM."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import numpy as np

from app.providers.embeddings.base import EmbeddingError, l2_normalise

_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_BACKOFF = 20.0


def _approx_tokens(text: str) -> int:
    # ~4 characters per token for English BPE vocabularies; good enough to size chunks.
    return len(text) // 4 + 1


class OpenAICompatEmbedder:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dimension: int | None = None,
        batch_size: int = 64,
        timeout: float = 60.0,
        max_retries: int = 3,
        count_tokens: Callable[[str], int] | None = None,
        backoff: float = 0.5,
    ) -> None:
        if batch_size < 1 or max_retries < 0:
            raise ValueError("batch_size must be >= 1 and max_retries >= 0")
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._dimension = dimension
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._backoff = backoff
        self._count = count_tokens or _approx_tokens
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(headers=headers, timeout=timeout)

    @property
    def model_id(self) -> str:
        return self._model

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            raise EmbeddingError(
                "embedding dimension not known yet: pass dimension= or call ensure_dimension()"
            )
        return self._dimension

    async def ensure_dimension(self) -> int:
        """Embed a probe text if needed so that ``dimension`` is known (to name collections)."""
        if self._dimension is None:
            await self.embed_query("dimension probe")
        return self.dimension

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            out.extend(await self._embed_batch(list(texts[start : start + self._batch_size])))
        return out

    async def embed_query(self, text: str) -> list[float]:
        return (await self._embed_batch([text]))[0]

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        payload = await self._post({"model": self._model, "input": texts})
        try:
            items = sorted(payload["data"], key=lambda d: d["index"])
            vectors = np.asarray([d["embedding"] for d in items], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"unexpected embeddings response from {self._url}: {exc}") from exc
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise EmbeddingError(
                f"{self._url} returned {vectors.shape[0] if vectors.ndim else 0} vectors "
                f"for {len(texts)} inputs"
            )
        if self._dimension is None:
            self._dimension = int(vectors.shape[1])
        elif vectors.shape[1] != self._dimension:
            raise EmbeddingError(
                f"{self._model} returned {vectors.shape[1]}-d vectors, configured {self._dimension}"
            )
        rows: list[list[float]] = l2_normalise(vectors).tolist()
        return rows

    async def _post(self, body: dict[str, Any]) -> Any:
        for attempt in range(self._max_retries + 1):
            last = attempt == self._max_retries
            try:
                resp = await self._client.post(self._url, json=body)
            except httpx.TransportError as exc:  # connect/read timeouts, refused, reset
                if last:
                    msg = f"{self._url} unreachable: {exc!r}"
                    raise EmbeddingError(msg, transient=True) from exc
                await asyncio.sleep(self._delay(attempt, None))
                continue
            if resp.status_code < 400:
                try:
                    return resp.json()
                except ValueError as exc:
                    raise EmbeddingError(f"{self._url} answered non-JSON") from exc
            retryable = resp.status_code in _RETRY_STATUS or resp.status_code >= 500
            if not retryable or last:
                raise EmbeddingError(
                    f"{self._url} answered {resp.status_code}: {resp.text[:300]}",
                    transient=retryable,
                )
            await asyncio.sleep(self._delay(attempt, resp.headers.get("retry-after")))
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential backoff with jitter; a numeric Retry-After from the server wins (capped)."""
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), _MAX_BACKOFF)
            except ValueError:
                pass
        ceiling = min(self._backoff * 2.0**attempt, _MAX_BACKOFF)
        return float(ceiling) * (0.5 + random.random() / 2)  # noqa: S311
