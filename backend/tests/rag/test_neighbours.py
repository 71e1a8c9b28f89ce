"""A sentence cut by a chunk boundary is completed from the neighbouring chunks (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import User
from app.documents.models import Chunk, Document
from app.rag.extractive import extractive_answer
from app.rag.neighbours import complete_cut_sentences
from app.rag.prompts import Source
from app.rag.sentences import split_sentences
from tests.llm.test_extractive import real_text

pytestmark = pytest.mark.eval_docs


async def _chunked(sessions: async_sessionmaker[AsyncSession], text: str,
                   bounds: list[tuple[int, int]]) -> list[Source]:
    """One document whose chunks are `text[start:end]` (overlapping as the chunker's are)."""
    async with sessions() as s:
        user = User(email=f"n{len(text)}-{bounds[0][1]}@example.com", password_hash="x")
        s.add(user)
        await s.flush()
        doc = Document(owner_id=user.id, filename="functools.rst", mime_type="text/x-rst",
                       kind="text", size_bytes=len(text), content_hash="h", storage_key="k",
                       status="ready")
        s.add(doc)
        await s.flush()
        s.add_all([Chunk(id=f"{doc.id}:1:{n}", document_id=doc.id, owner_id=user.id, version=1,
                         n=n, text=text[a:b], page_start=1, page_end=1, char_start=a, char_end=b,
                         heading_path=[]) for n, (a, b) in enumerate(bounds)])
        await s.commit()
        return [Source(index=n + 1, document_id=doc.id, filename=doc.filename, page=1,
                       chunk_id=f"{doc.id}:1:{n}", text=text[a:b], score=1.0)
                for n, (a, b) in enumerate(bounds)]


async def test_a_sentence_cut_by_a_chunk_boundary_is_completed(
        sessions: async_sessionmaker[AsyncSession], eval_docs: Path) -> None:
    text = real_text(eval_docs, "rst/library_functools.rst.txt", "To help measure the effectiveness",
                     "The cache keeps references to the arguments and return values")
    cut = text.index("function that returns")  # where the QA run's chunk began
    mid = text.index("*maxsize* and *currsize*") + 3  # and a chunk ending mid-sentence
    # The next chunk starts before the middle one ends (chunks overlap).
    sources = await _chunked(sessions, text, [(0, cut), (cut, mid), (mid - 12, len(text))])
    middle = sources[1]
    # As retrieved, the passage holds no subject: "function that returns a named tuple …".
    assert extractive_answer("How can I see the hits and misses of an lru_cache?", [middle]) \
        .count("cache_info") == 0
    async with sessions() as session:
        completed = (await complete_cut_sentences(session, [middle]))[0]
    assert completed.before.endswith("instrumented with a :func:`cache_info` ")
    assert completed.after == "xsize* and *currsize*."
    # Only the rest of the cut sentences: no whole sentence of a neighbour is borrowed.
    assert len(split_sentences(completed.before + completed.text + completed.after)) == \
        len(split_sentences(completed.text))
    answer = extractive_answer("How can I see the hits and misses of an lru_cache?", [completed])
    assert "instrumented with a `cache_info` function that returns" in answer
    assert "*maxsize* and *currsize* [2]." in answer
    # A passage that starts on a sentence boundary borrows nothing before it; the overlapping
    # next chunk borrows only what its own text does not hold.
    async with sessions() as session:
        first, last = await complete_cut_sentences(session, [sources[0], sources[2]])
    assert first.before == "" and first.after.startswith("function that returns")
    assert last.before == "function that returns a :term:`named tuple` showing *hits*, *"
