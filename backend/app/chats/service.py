"""Chat use cases: conversations, and asking a question in one.

Every write to conversations, messages and citations happens here. Asking stores the question
(committed before anything can fail), runs the RAG pipeline with the history, and stores the
answer it hands back, whatever its status (complete, error, stopped).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import access_for, check_selection, readable_ids
from app.auth.models import User
from app.chats import repository as repo
from app.chats.models import Citation, Conversation, Message
from app.chats.schemas import CitationOut
from app.collections.models import Collection
from app.core.db import utcnow
from app.core.errors import AppError, NotFound
from app.core.text import clean_display_text
from app.documents.locations import location
from app.documents.models import Chunk, Document
from app.platform.container import Container
from app.providers.llm.base import ChatMessage
from app.rag import pipeline as rag

DEFAULT_TITLE = "New conversation"
TITLE_CHARS = 80

MessageWithCitations = tuple[Message, list[Citation]]


class AnswerFailed(AppError):
    """The answer could not be generated (a JSON request; a stream reports an `error` event)."""

    status_code = 502
    code = "answer_failed"


# ---- conversations -------------------------------------------------------------------------------

async def create_conversation(session: AsyncSession, user: User, title: str | None) -> Conversation:
    conv = Conversation(owner_id=user.id, title=(title or "").strip() or DEFAULT_TITLE)
    session.add(conv)
    await session.flush()
    return conv


async def list_conversations(session: AsyncSession, user: User) -> list[Conversation]:
    return await repo.list_owned(session, user.id)


async def get_conversation(session: AsyncSession, user: User, conversation_id: str) -> Conversation:
    conv = await repo.get_owned(session, user.id, conversation_id)
    if conv is None:
        raise NotFound("Conversation not found.")
    return conv


async def conversation_detail(session: AsyncSession, user: User, conversation_id: str
                              ) -> tuple[Conversation, list[tuple[Message, list[CitationOut]]]]:
    """The conversation with its messages; a citation of a document the user can no longer read
    (deleted, moved, access revoked) keeps its number but not its text: `available` is False."""
    conv = await get_conversation(session, user, conversation_id)
    messages = await repo.messages_with_citations(session, conv.id)
    shown = await show_citations(session, user.id, [c for _, cites in messages for c in cites])
    return conv, [(m, [shown[c.id] for c in cites]) for m, cites in messages]


async def show_citations(session: AsyncSession, reader_id: str, citations: list[Citation]
                         ) -> dict[str, CitationOut]:
    """Citations as `reader_id` may see them now (by citation id): where each source lives, or
    `available: False` with no text once the reader can no longer read it."""
    cited = {c.document_id for c in citations if c.document_id}
    readable = await readable_ids(session, await access_for(session, reader_id), cited)
    places: dict[str, tuple[str | None, str | None, str]] = {}
    sections: dict[str, list[str]] = {}
    if readable:
        rows = await session.execute(
            select(Document.id, Document.collection_id, Collection.name, Document.kind)
            .outerjoin(Collection, Collection.id == Document.collection_id)
            .where(Document.id.in_(sorted(readable))))
        places = {doc_id: (coll_id, name, kind) for doc_id, coll_id, name, kind in rows.all()}
        # The cited passages' sections (a passage replaced by a reprocess has none any more).
        cited_chunks = {c.chunk_id: c.document_id for c in citations if c.document_id in places}
        sections = {cid: list(path or []) for cid, doc_id, path in (await session.execute(
            select(Chunk.id, Chunk.document_id, Chunk.heading_path)
            .where(Chunk.id.in_(sorted(cited_chunks))))).all()
            if cited_chunks.get(cid) == doc_id}  # only a readable document's own passages
    return {c.id: _shown(c, places, sections) for c in citations}


def _shown(c: Citation, places: dict[str, tuple[str | None, str | None, str]],
           sections: dict[str, list[str]]) -> CitationOut:
    out = CitationOut.model_validate(c)
    if c.document_id is None or c.document_id not in places:
        return out.model_copy(update={"filename": "", "snippet": "", "available": False})
    collection_id, name, kind = places[c.document_id]
    return out.model_copy(update={"collection_id": collection_id, "collection_name": name,
                                  "location": location(kind, c.page, sections.get(c.chunk_id, []))})


async def rename_conversation(session: AsyncSession, user: User, conversation_id: str,
                              title: str) -> Conversation:
    conv = await get_conversation(session, user, conversation_id)
    conv.title = title.strip()
    await session.flush()
    return conv


async def delete_conversation(session: AsyncSession, user: User, conversation_id: str) -> None:
    await session.delete(await get_conversation(session, user, conversation_id))


# ---- messages ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Ask:
    """A question, checked: the conversation is the asker's, every scoped document and collection
    readable by them."""

    owner_id: str
    conversation_id: str
    content: str
    document_ids: list[str] | None
    collection_ids: list[str] | None = None


async def check_ask(session: AsyncSession, user: User, conversation_id: str, content: str,
                    document_ids: list[str] | None, collection_ids: list[str] | None = None) -> Ask:
    """Not found for another user's conversation, or documents/collections the user cannot read,
    before a stream starts."""
    await get_conversation(session, user, conversation_id)
    docs, colls = await check_selection(session, await access_for(session, user.id),
                                        document_ids, collection_ids)
    return Ask(owner_id=user.id, conversation_id=conversation_id, content=content.strip(),
               document_ids=sorted(docs) or None, collection_ids=sorted(colls) or None)


async def add_user_message(session: AsyncSession, conversation_id: str, content: str,
                           scope: list[str] | None
                           ) -> tuple[Message, list[ChatMessage], list[str]]:
    """Store the question; returns it, the turns before it and the documents the previous answer
    cited (for the RAG pipeline)."""
    earlier = await repo.recent_messages(session, conversation_id, rag.HISTORY_TURNS)
    history = [ChatMessage(role="user" if m.role == "user" else "assistant", content=m.content)
               for m in earlier if m.content and m.role in ("user", "assistant")]
    last_answer = next((m for m in reversed(earlier) if m.role == "assistant"), None)
    cited = await repo.cited_documents(session, last_answer.id) if last_answer else []
    question = Message(conversation_id=conversation_id, role="user", content=content,
                       document_ids=scope)
    session.add(question)
    conv = await session.get(Conversation, conversation_id)
    if conv is not None:
        if not history and conv.title in ("", DEFAULT_TITLE):
            conv.title = _title(content)
        conv.updated_at = utcnow()
    await session.flush()
    return question, history, cited


async def add_assistant_message(session: AsyncSession, conversation_id: str,
                                scope: list[str] | None, answer: rag.Answer
                                ) -> MessageWithCitations:
    """Store an answer (whatever its status) and the sources it cites."""
    msg = Message(conversation_id=conversation_id, role="assistant", content=answer.content,
                  status=answer.status, error=answer.error, model=answer.model,
                  document_ids=scope, rewritten_query=answer.rewritten_query,
                  timings=dict(answer.timings))
    session.add(msg)
    await session.flush()
    citations = [Citation(message_id=msg.id, index=s.index, document_id=s.document_id,
                          chunk_id=s.chunk_id, filename=s.filename, page=s.page,
                          snippet=rag.snippet(s.text), score=s.score) for s in answer.citations]
    session.add_all(citations)
    conv = await session.get(Conversation, conversation_id)
    if conv is not None:
        conv.updated_at = utcnow()
    await session.flush()
    return msg, citations


async def answer_events(container: Container, ask: Ask) -> AsyncIterator[rag.Event]:
    """The question's answer as RAG events (streamed as SSE), the question and answer stored."""
    async with container.sessions() as session:
        # Checked again here: a membership may have changed since `check_ask`.
        docs, colls = await check_selection(session, await access_for(session, ask.owner_id),
                                            ask.document_ids, ask.collection_ids)
        scope = sorted(docs) or None
        question, history, cited = await add_user_message(session, ask.conversation_id,
                                                           ask.content, scope)
        await session.commit()

    async def save(answer: rag.Answer) -> str:
        async with container.sessions() as session:
            msg, _ = await add_assistant_message(session, ask.conversation_id, scope, answer)
            await session.commit()
            return msg.id

    asked = rag.Question(owner_id=ask.owner_id, content=ask.content, scope=scope, history=history,
                         collection_ids=sorted(colls) or None, previous_documents=cited)
    async for event, payload in rag.answer_events(container, asked, save):
        if event == "done":
            payload = {**payload, "user_message_id": question.id,
                       "conversation_id": ask.conversation_id}
        elif event == "error":
            payload = {**payload, "user_message_id": question.id}
        yield event, payload


async def answer_message(container: Container, ask: Ask) -> tuple[Message, list[CitationOut]]:
    """The question's answer once complete, as stored (a JSON request)."""
    message_id = ""
    async for event, payload in answer_events(container, ask):
        if event == "error":
            raise AnswerFailed(str(payload["detail"]), code=str(payload["error"]))
        if event == "done":
            message_id = str(payload["message_id"])
    async with container.sessions() as session:
        stored = await repo.message_with_citations(session, message_id)
        if stored is None:  # the conversation was deleted meanwhile
            raise NotFound("Conversation not found.")
        message, citations = stored
        shown = await show_citations(session, ask.owner_id, citations)
    return message, [shown[c.id] for c in citations]


def _title(question: str) -> str:
    words = clean_display_text(question) or DEFAULT_TITLE
    return words if len(words) <= TITLE_CHARS else words[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"

