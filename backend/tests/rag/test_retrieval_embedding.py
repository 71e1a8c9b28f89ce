"""`retrieve` embeds the query while the access rule reads the readable set (the embedding needs no
access decision), and drops that work when the access check fails or nothing is readable."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.auth.models import User
from app.core.errors import NotFound
from app.providers.embeddings import EmbeddingError
from app.rag import retrieval


class _Embedder:
    """Stands in for the active index's embedder: records when the query's embedding starts."""

    def __init__(self, *, fail: bool = False, hold: bool = False) -> None:
        self.started = asyncio.Event()
        self.cancelled = False
        self.fail, self.hold = fail, hold

    async def embed_query(self, text: str) -> list[float]:
        self.started.set()
        if self.fail:
            raise EmbeddingError("the embedding endpoint is down")
        try:
            if self.hold:
                await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return [0.0] * 8


class _Index:
    def __init__(self, embedder: _Embedder) -> None:
        self.embedder = embedder
        self.collection = "unused"


async def _reader(api_app: Any) -> str:
    user = str(uuid.uuid4())
    async with api_app.state.container.sessions() as s:
        s.add(User(id=user, email=f"{user}@example.com", password_hash="x"))
        await s.commit()
    return user


def _patch(monkeypatch: pytest.MonkeyPatch, api_app: Any, embedder: _Embedder,
           error: Exception | None = None) -> None:
    """The embedder above, and an access step that finishes only once the embedding has started
    (had retrieve embedded after it, it would wait forever: the timeout fails the test), then
    decides as usual or raises `error`."""
    real = retrieval.plan_for

    async def active() -> _Index:
        return _Index(embedder)

    async def plan_for(*args: Any, **kwargs: Any) -> Any:
        await asyncio.wait_for(embedder.started.wait(), timeout=10)
        if error is not None:
            raise error
        return await real(*args, **kwargs)

    monkeypatch.setattr(api_app.state.container.index, "active", active)
    monkeypatch.setattr(retrieval, "plan_for", plan_for)


async def _retrieve(api_app: Any, **kwargs: Any) -> retrieval.RetrievalResult:
    async with api_app.state.container.sessions() as s:
        return await retrieval.retrieve(s, api_app.state.container, owner_id=await _reader(api_app),
                                        query="basalt columns", k=5, **kwargs)


async def test_the_query_is_embedded_while_access_is_decided(
        client: AsyncClient, api_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _patch(monkeypatch, api_app, _Embedder())
    result = await _retrieve(api_app)
    assert result.not_found and result.chunks == []  # nothing readable yet
    assert "embed_ms" in result.timings and "access_ms" in result.timings


async def test_a_failed_access_check_cancels_the_embedding(
        client: AsyncClient, api_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = _Embedder(hold=True)
    _patch(monkeypatch, api_app, embedder,
           NotFound("One or more of the selected collections were not found."))
    with pytest.raises(NotFound):
        await _retrieve(api_app, collection_ids=["not-mine"])
    await asyncio.sleep(0)  # the cancellation is delivered at the task's next step
    assert embedder.cancelled


async def test_an_embedding_error_with_nothing_readable_answers_not_found(
        client: AsyncClient, api_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing to search: the failed embedding is dropped, as before this change, when nothing
    # readable meant no embedding at all.
    _patch(monkeypatch, api_app, _Embedder(fail=True))
    result = await _retrieve(api_app)
    assert result.not_found and result.chunks == []
