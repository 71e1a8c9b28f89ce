"""THE RAG pipeline, top to bottom: condense → retrieve → augment → generate → cite → save.

`answer_events` is an async generator of `(event, payload)` pairs. It stores nothing itself: the
caller (the chat service) stores the question first, hands over the earlier turns, and passes a
`SaveAnswer` callback that stores whatever was generated, with its status (complete, error,
stopped), in every case.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.core.errors import NotFound
from app.core.metrics import LLM_REQUEST_SECONDS, LLM_TOKENS_TOTAL
from app.core.outages import database_outage
from app.platform.container import Container
from app.providers.llm.base import ChatMessage, GenerationParams, LLMError
from app.rag import followup, neighbours, overview
from app.rag.citations import (
    StreamingCitationFilter,
    close_fences,
    repair_citations,
    rewrite_markers,
)
from app.rag.extractive import ExtractiveChatModel, sentence_similarity
from app.rag.grounding import Grounder, cite_something, not_found_pointing
from app.rag.named_documents import named_documents
from app.rag.prompts import Source, build_answer_messages, build_condense_messages, parse_condensed
from app.rag.question import without_naming
from app.rag.retrieval import RetrievalResult, RetrievedChunk, retrieve

log = logging.getLogger("citewise.rag")

NOT_FOUND = ("I couldn't find anything about this in your documents. Try rephrasing the question, "
             "or check that the relevant documents are uploaded and ready.")
HISTORY_TURNS = 8  # earlier messages a caller passes as history
SNIPPET_CHARS = 320

Event = tuple[str, dict[str, Any]]
AnswerStatus = Literal["complete", "error", "stopped"]


@dataclass(frozen=True, slots=True)
class Question:
    owner_id: str
    content: str
    scope: list[str] | None  # document ids, already checked readable by owner_id; None: all
    history: list[ChatMessage] = field(default_factory=list)  # earlier turns, oldest first
    collection_ids: list[str] | None = None  # collections in scope (with `scope`); None: all
    # Documents the previous answer cited, in citation order (a follow-up's first place to look).
    previous_documents: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Answer:
    """What to keep of one answer: all of it, or what was generated before an error or a stop."""

    content: str
    status: AnswerStatus
    model: str
    citations: list[Source]  # the sources the content cites
    rewritten_query: str | None = None
    # Sentences of a generated answer that no source supports (flagged in `content` as well).
    unsupported: list[str] = field(default_factory=list)
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


SaveAnswer = Callable[[Answer], Awaitable[str]]
"""Stores an answer; returns the id that the `done` / `error` event reports as `message_id`."""


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def to_sources(chunks: Sequence[RetrievedChunk]) -> list[Source]:
    return [Source(index=i + 1, document_id=c.document_id, filename=c.filename, page=c.page,
                   chunk_id=c.chunk_id, text=c.text, score=c.score, collection_id=c.collection_id,
                   collection_name=c.collection_name, location=c.location)
            for i, c in enumerate(chunks)]


def citation_payload(s: Source) -> dict[str, Any]:
    return {"index": s.index, "document_id": s.document_id, "filename": s.filename, "page": s.page,
            "chunk_id": s.chunk_id, "snippet": snippet(s.text), "score": s.score,
            "collection_id": s.collection_id, "collection_name": s.collection_name,
            "location": s.location}


async def answer_events(container: Container, question: Question, save: SaveAnswer
                        ) -> AsyncIterator[Event]:
    t0 = time.perf_counter()
    runtime = await container.runtime.current()
    llm = container.chat_models.get(runtime.llm)
    model = llm.model_id if llm else "extractive"
    history = question.history
    parts: list[str] = []
    timings: dict[str, float] = {}
    sources: list[Source] = []
    rewritten: str | None = None
    grounder: Grounder | None = None

    def partial(status: AnswerStatus, error: str | None) -> Answer:
        content = "".join(parts)
        return Answer(content=content, status=status, model=model, error=error,
                      citations=_cited_sources(content, sources), rewritten_query=rewritten)

    try:
        asked, context = question.content, None
        extract: str | None = None
        t = time.perf_counter()
        summary = await _overview(container, question)
        if summary is not None:
            # A whole-document request: the documents' central passages, not a search.
            timings["overview_ms"] = round((time.perf_counter() - t) * 1000, 2)
            sources = summary.sources
            if llm is None or not sources:
                sources, extract = in_citation_order(sources, summary.text)
        else:
            # 1–2. Condense a follow-up (rule, and a model's rewrite) and retrieve under the
            # caller's owner filter, within the previous answer's documents when the follow-up
            # is elliptic.
            query, result = await _retrieve_turn(container, llm, runtime.retrieval.top_k, question)
            rewritten = query if query != question.content else None
            timings["retrieval_ms"] = round((time.perf_counter() - t) * 1000, 2)
            sources = [] if result.not_found else to_sources(result.chunks)
            if llm is None and history:
                asked, context = followup.answer_terms(question.content, history)
        if llm is None and sources and summary is None:
            async with container.sessions() as session:  # sentences cut by a chunk boundary
                sources = await neighbours.complete_cut_sentences(session, sources)
            # The extractive answer is composed before anything is sent, so that the sources
            # can be listed in the order it cites them: [1], [2], … without gaps.
            extract = await _extractive(container, asked, sources, context,
                                        (query, result.best_dense))
            # (Off the event loop: it scores the passages' sentences again.)
            extract = extract or await asyncio.to_thread(not_found_pointing, asked, sources)
            sources, extract = in_citation_order(sources, extract)
        yield "sources", {"sources": [citation_payload(s) for s in sources]}

        # 3–4. Augment and generate. A model's sentences are checked against the sources as
        # they complete (the extractive answer only copies sentences of the sources).
        valid = {s.index for s in sources}
        stream = (ExtractiveChatModel().stream_text(extract) if extract is not None else
                  _generate(llm, container, runtime, asked, sources, history))
        filt = StreamingCitationFilter(valid)
        if llm is not None and sources:
            embedder = (await container.index.active()).embedder
            grounder = Grounder(sources, embed=embedder.embed_documents)
        async for delta in stream:
            if "first_token_ms" not in timings:
                timings["first_token_ms"] = round((time.perf_counter() - t0) * 1000, 2)
            parts.append(delta)
            if grounder is not None:
                grounder.feed(delta)
            safe = filt.feed(delta)
            if safe:
                yield "token", {"text": safe}
        tail = filt.flush()
        if tail:
            yield "token", {"text": tail}

        # 5. Cite: only markers that point at a provided source survive; a model's markers
        # follow the evidence, and an answer with sources never ends citing none of them.
        unsupported: list[str] = []
        if grounder is not None:
            t = time.perf_counter()
            grounded = await grounder.finish()
            timings["grounding_ms"] = round((time.perf_counter() - t) * 1000, 2)
            text, unsupported = grounded.text.strip(), grounded.unsupported
            if not grounded.cited:
                try:  # quote whole sentences (cut ones when the database cannot say more)
                    async with container.sessions() as session:
                        completed = await neighbours.complete_cut_sentences(session, sources)
                except Exception as exc:  # an outage only: a bad statement is a bug to see
                    if not database_outage(exc):
                        raise
                    log.warning("could not complete cut sentences", exc_info=True)
                    completed = sources
                text = ((close_fences(text) + "\n\n") if text else "") + cite_something(
                    question.content, completed)
        else:
            text = "".join(parts).strip()
        repaired = repair_citations(text, valid)
        by_index = {s.index: s for s in sources}
        cited = [by_index[i] for i in repaired.cited if i in by_index]
        timings["total_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        answer = Answer(content=repaired.text.strip() or NOT_FOUND, status="complete", model=model,
                        citations=cited, rewritten_query=rewritten, timings=timings,
                        unsupported=unsupported)
        message_id = await save(answer)
        yield "citations", {"content": answer.content, "unsupported": unsupported,
                            "citations": [citation_payload(s) for s in cited]}
        yield "done", {"message_id": message_id, "timings": timings}
    except asyncio.CancelledError:
        # The client went away: stop generating, keep what we have.
        if grounder is not None:
            grounder.cancel()
        await asyncio.shield(save(partial("stopped", None)))
        raise
    except LLMError as exc:
        if grounder is not None:
            grounder.cancel()
        message_id = await save(partial("error", exc.message))
        yield "error", {"error": "generation_failed", "detail": exc.message, "message_id": message_id}
    except Exception as exc:
        if grounder is not None:
            grounder.cancel()
        log.exception("answer failed")
        error = "The answer could not be completed."
        message_id = await save(partial("error", error))
        detail = getattr(exc, "detail", None) or error
        yield "error", {"error": "answer_failed", "detail": detail, "message_id": message_id}


async def _extractive(container: Container, question: str, sources: list[Source],
                      context: str | None, evidence: tuple[str, float | None]) -> str:
    """The extractive answer ("" when nothing answers). `evidence`: the query that was searched
    (a follow-up's condensed form) and its best passage's similarity, for the "not found" check.
    Lexical sentence scoring only: embedding every candidate sentence cost seconds per answer."""
    embedder = (await container.index.active()).embedder
    searched, relevance = evidence

    async def similarity(_: str, sentences: list[str]) -> float:
        # Against what was searched: "and how do I write it back?" alone is about nothing.
        return await sentence_similarity(embedder, searched, sentences)

    return await ExtractiveChatModel().answer(question, sources, context=context,
                                              relevance=relevance, similarity=similarity)


def in_citation_order(sources: list[Source], answer: str) -> tuple[list[Source], str]:
    """`sources` renumbered so that those `answer` cites come first, in order of first use,
    and `answer` with its markers renumbered to match (the others keep their rank order)."""
    repaired = repair_citations(answer, {s.index for s in sources})
    order = repaired.cited + [s.index for s in sources if s.index not in repaired.cited]
    by_index = {s.index: s for s in sources}
    renumbered = [replace(by_index[old], index=n) for n, old in enumerate(order, 1)]
    return renumbered, rewrite_markers(repaired.text, {old: n for n, old in enumerate(order, 1)})


async def _generate(llm: Any, container: Container, runtime: Any, question: str,
                    sources: list[Source], history: list[ChatMessage]) -> AsyncIterator[str]:
    if not sources or llm is None:
        yield NOT_FOUND
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


async def _retrieve_turn(container: Container, llm: Any, k: int, question: Question
                         ) -> tuple[str, RetrievalResult]:
    """The query to record and what it retrieved. A follow-up is searched with the rule-based
    query and, with a model, its rewrite too (fused: the rewrite can only add evidence); a
    question naming a document by its file name, within that document too."""
    queries = [question.content]
    if question.history:
        queries = [followup.rule_query(question.content, question.history)]
        if llm is not None:
            rewrite = await _condense(llm, question.content, question.history)
            if rewrite not in queries:
                queries.append(rewrite)
    restrict: list[str] = []
    if question.history and question.previous_documents and followup.elliptic(question.content):
        async with container.sessions() as session:
            restrict = await followup.follow_up_documents(
                session, question.owner_id, question.previous_documents, question.scope,
                question.collection_ids)

    async def search(query: str, docs: list[str] | None, colls: list[str] | None
                     ) -> RetrievalResult:
        async with container.sessions() as session:
            return await retrieve(session, container, owner_id=question.owner_id, query=query, k=k,
                                  document_ids=docs, collection_ids=colls)

    results: list[RetrievalResult] = []
    if restrict:
        try:
            results = [await search(q, restrict, None) for q in queries]
        except NotFound:  # a document deleted or unshared since the previous turn
            results = []
        if all(r.not_found or not followup.speaks_to(question.content, r.chunks)
               for r in results):
            results = []  # nothing relevant there: the follow-up changed the subject
    if not results:
        results = [await search(q, question.scope, question.collection_ids) for q in queries]
        async with container.sessions() as session:
            named = await named_documents(session, question.owner_id, question.content,
                                          question.scope, question.collection_ids)
        if named:  # "… of the sample presentation": that document's best passages join in,
            # searched without the words naming it: within it, they find its title page.
            results.append(await search(without_naming(queries[0], list(named.values())),
                                        list(named), None))
    return queries[-1], followup.fuse_results(results, k)


async def _overview(container: Container, question: Question) -> overview.Overview | None:
    """The overview a whole-document request asks for ("summarise my documents"), or None."""
    request = overview.overview_request(question.content)
    if request is None:
        return None
    async with container.sessions() as session:
        return await overview.summarise(
            session, question.owner_id, request, scope=question.scope,
            collection_ids=question.collection_ids, previous_documents=question.previous_documents)


async def _condense(llm: Any, question: str, history: list[ChatMessage]) -> str:
    try:
        out = await llm.complete(build_condense_messages(question, history),
                                 GenerationParams(max_tokens=96, temperature=0.0))
        return parse_condensed(out, question)
    except LLMError:
        log.warning("condense failed; using the question as asked")
        return question


def _cited_sources(text: str, sources: list[Source]) -> list[Source]:
    if not text or not sources:
        return []
    cited = repair_citations(text, {s.index for s in sources}).cited
    by_index = {s.index: s for s in sources}
    return [by_index[i] for i in cited if i in by_index]
