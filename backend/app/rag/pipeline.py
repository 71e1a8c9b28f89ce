"""THE RAG pipeline, top to bottom: store question → condense → retrieve → augment → generate → cite → store.

`answer_events` is an async generator of `(event, payload)` pairs; the chat router streams them as
SSE or collects them into one JSON message. The question is committed before anything can fail,
and whatever was generated is saved with its status (complete, error, stopped) in every case.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.chats.models import Citation, Conversation, Message
from app.core.db import utcnow
from app.core.metrics import LLM_REQUEST_SECONDS, LLM_TOKENS_TOTAL
from app.platform.container import Container
from app.providers.llm.base import ChatMessage, GenerationParams, LLMError
from app.rag.citations import StreamingCitationFilter, repair_citations
from app.rag.extractive import ExtractiveChatModel
from app.rag.prompts import Source, build_answer_messages, build_condense_messages, parse_condensed
from app.rag.retrieval import RetrievedChunk, owned_document_ids, retrieve

log = logging.getLogger("citewise.rag")

NOT_FOUND = ("I couldn't find anything about this in your documents. Try rephrasing the question, "
             "or check that the relevant documents are uploaded and ready.")
HISTORY_TURNS = 8
SNIPPET_CHARS = 320
_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her)\b", re.I)

Event = tuple[str, dict[str, Any]]


@dataclass
class AskRequest:
    owner_id: str
    conversation_id: str
    content: str
    document_ids: list[str] | None


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def to_sources(chunks: Sequence[RetrievedChunk]) -> list[Source]:
    return [Source(index=i + 1, document_id=c.document_id, filename=c.filename, page=c.page,
                   chunk_id=c.chunk_id, text=c.text, score=c.score) for i, c in enumerate(chunks)]


def citation_payload(s: Source) -> dict[str, Any]:
    return {"index": s.index, "document_id": s.document_id, "filename": s.filename, "page": s.page,
            "chunk_id": s.chunk_id, "snippet": snippet(s.text), "score": s.score}


async def answer_events(container: Container, req: AskRequest) -> AsyncIterator[Event]:
    t0 = time.perf_counter()
    runtime = await container.runtime.current()
    llm = container.chat_models.get(runtime.llm)

    # 1. Store the question first: it survives whatever happens next.
    async with container.sessions() as session:
        scope = (await owned_document_ids(session, req.owner_id, req.document_ids)
                 if req.document_ids else None)
        history = await _history(session, req.conversation_id)
        question_msg = Message(conversation_id=req.conversation_id, role="user", content=req.content,
                               document_ids=scope)
        session.add(question_msg)
        conv = await session.get(Conversation, req.conversation_id)
        if conv is not None:
            if not history and conv.title in ("", "New conversation"):
                conv.title = _title(req.content)
            conv.updated_at = utcnow()
        await session.commit()

    answer = Message(conversation_id=req.conversation_id, role="assistant", content="",
                     status="complete", model=llm.model_id if llm else "extractive",
                     document_ids=scope)
    parts: list[str] = []
    timings: dict[str, float] = {}
    sources: list[Source] = []
    try:
        # 2. Condense a follow-up into a standalone question.
        query = req.content
        if history:
            query = await _condense(llm, req.content, history)
        answer.rewritten_query = query if query != req.content else None

        # 3. Retrieve under the caller's owner filter.
        t = time.perf_counter()
        async with container.sessions() as session:
            result = await retrieve(session, container, owner_id=req.owner_id, query=query,
                                    k=runtime.retrieval.top_k, document_ids=scope)
        timings["retrieval_ms"] = round((time.perf_counter() - t) * 1000, 2)
        sources = [] if result.not_found else to_sources(result.chunks)
        yield "sources", {"sources": [citation_payload(s) for s in sources]}

        # 4–5. Augment and generate.
        valid = {s.index for s in sources}
        stream = _generate(llm, container, runtime, req.content, sources, history)
        filt = StreamingCitationFilter(valid)
        async for delta in stream:
            if "first_token_ms" not in timings:
                timings["first_token_ms"] = round((time.perf_counter() - t0) * 1000, 2)
            parts.append(delta)
            safe = filt.feed(delta)
            if safe:
                yield "token", {"text": safe}
        tail = filt.flush()
        if tail:
            yield "token", {"text": tail}

        # 6. Cite: only markers that point at a provided source survive.
        repaired = repair_citations("".join(parts), valid)
        by_index = {s.index: s for s in sources}
        cited = [by_index[i] for i in repaired.cited if i in by_index]
        answer.content = repaired.text.strip() or NOT_FOUND
        timings["total_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        answer.timings = timings
        await _save(container, answer, cited)
        yield "citations", {"content": answer.content,
                            "citations": [citation_payload(s) for s in cited]}
        yield "done", {"message_id": answer.id, "user_message_id": question_msg.id,
                       "conversation_id": req.conversation_id, "timings": timings}
    except asyncio.CancelledError:
        # The client went away: stop generating, keep what we have.
        answer.status, answer.content = "stopped", "".join(parts)
        await asyncio.shield(_save(container, answer, _cited_sources("".join(parts), sources)))
        raise
    except LLMError as exc:
        answer.status, answer.error = "error", exc.message
        answer.content = "".join(parts)
        await _save(container, answer, _cited_sources(answer.content, sources))
        yield "error", {"error": "generation_failed", "detail": exc.message,
                        "message_id": answer.id, "user_message_id": question_msg.id}
    except Exception as exc:
        log.exception("answer failed")
        answer.status, answer.error = "error", "The answer could not be completed."
        answer.content = "".join(parts)
        await _save(container, answer, _cited_sources(answer.content, sources))
        detail = getattr(exc, "detail", None) or answer.error
        yield "error", {"error": "answer_failed", "detail": detail, "message_id": answer.id,
                        "user_message_id": question_msg.id}


async def _generate(llm: Any, container: Container, runtime: Any, question: str,
                    sources: list[Source], history: list[ChatMessage]) -> AsyncIterator[str]:
    if not sources:
        yield NOT_FOUND
        return
    if llm is None:
        # Lexical sentence scoring only: embedding every candidate sentence cost seconds per answer.
        async for delta in ExtractiveChatModel().answer_stream(question, sources):
            yield delta
        return
    embedder = (await container.index.active()).embedder
    budget = max(512, runtime.llm.context_size - runtime.llm.max_tokens)
    messages = build_answer_messages(question, sources, history, context_tokens=budget,
                                     count_tokens=embedder.count_tokens)
    params = GenerationParams(max_tokens=runtime.llm.max_tokens, temperature=runtime.llm.temperature)
    LLM_TOKENS_TOTAL.labels(kind="prompt").inc(sum(embedder.count_tokens(m.content) for m in messages))
    started = time.perf_counter()
    try:
        async for delta in llm.stream(messages, params):
            LLM_TOKENS_TOTAL.labels(kind="completion").inc()  # servers stream about one token per delta
            yield delta
    finally:
        LLM_REQUEST_SECONDS.labels(model=llm.model_id).observe(time.perf_counter() - started)


async def _condense(llm: Any, question: str, history: list[ChatMessage]) -> str:
    if llm is not None:
        try:
            out = await llm.complete(build_condense_messages(question, history),
                                     GenerationParams(max_tokens=96, temperature=0.0))
            return parse_condensed(out, question)
        except LLMError:
            log.warning("condense failed; using the question as asked")
            return question
    # Without a model: a short follow-up that leans on a pronoun borrows the previous question.
    previous = next((m.content for m in reversed(history) if m.role == "user"), None)
    if previous and len(question.split()) <= 10 and _PRONOUN.search(question):
        return f"{previous} {question}"
    return question


async def _history(session: Any, conversation_id: str) -> list[ChatMessage]:
    stmt = (select(Message).where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at.desc()).limit(HISTORY_TURNS))
    rows = list((await session.execute(stmt)).scalars())
    return [ChatMessage(role=m.role, content=m.content)
            for m in reversed(rows) if m.content and m.role in ("user", "assistant")]


def _cited_sources(text: str, sources: list[Source]) -> list[Source]:
    if not text or not sources:
        return []
    cited = repair_citations(text, {s.index for s in sources}).cited
    by_index = {s.index: s for s in sources}
    return [by_index[i] for i in cited if i in by_index]


async def _save(container: Container, answer: Message, cited: Sequence[Source]) -> None:
    async with container.sessions() as session:
        session.add(answer)
        await session.flush()
        for s in cited:
            session.add(Citation(message_id=answer.id, index=s.index, document_id=s.document_id,
                                 chunk_id=s.chunk_id, filename=s.filename, page=s.page,
                                 snippet=snippet(s.text), score=s.score))
        conv = await session.get(Conversation, answer.conversation_id)
        if conv is not None:
            conv.updated_at = utcnow()
        await session.commit()


def _title(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= 80 else words[:80].rsplit(" ", 1)[0] + "…"
