"""The chat service's writes against real SQLite and PostgreSQL databases: conversations are the
owner's alone, a question is stored with the turns before it, and an answer with its citations.
(Asking through the RAG pipeline end to end is covered by tests/api/test_chat*.py.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import User
from app.chats import repository as repo
from app.chats import service
from app.chats.models import Conversation
from app.core.errors import NotFound
from app.providers.llm.base import ChatMessage
from app.rag.pipeline import Answer
from app.rag.prompts import Source

Sessions = async_sessionmaker[AsyncSession]
LONG = "word " * 40


async def new_user(sessions: Sessions) -> User:
    async with sessions() as s:
        user = User(email=f"chat-{uuid.uuid4().hex[:12]}@example.com", password_hash="x")
        s.add(user)
        await s.commit()
        return user


async def new_conversation(sessions: Sessions, user: User, title: str | None = None) -> Conversation:
    async with sessions() as s:
        conv = await service.create_conversation(s, user, title)
        await s.commit()
        return conv


async def test_conversations_belong_to_their_owner(sessions: Sessions) -> None:
    alice, bob = await new_user(sessions), await new_user(sessions)
    assert (await new_conversation(sessions, alice, "   ")).title == "New conversation"
    conv = await new_conversation(sessions, alice, "  Plans ")
    assert conv.title == "Plans"
    async with sessions() as s:
        for call in (service.get_conversation(s, bob, conv.id),
                     service.rename_conversation(s, bob, conv.id, "Mine"),
                     service.delete_conversation(s, bob, conv.id),
                     service.check_ask(s, bob, conv.id, "hi", None)):
            with pytest.raises(NotFound):
                await call
        assert await service.list_conversations(s, bob) == []
        renamed = await service.rename_conversation(s, alice, conv.id, " Renamed ")
        assert renamed.title == "Renamed"
        await s.commit()
    async with sessions() as s:
        assert [c.title for c in await service.list_conversations(s, alice)] == \
            ["Renamed", "New conversation"]
        await service.delete_conversation(s, alice, conv.id)
        await s.commit()
    async with sessions() as s:
        with pytest.raises(NotFound):
            await service.get_conversation(s, alice, conv.id)


async def test_check_ask_refuses_someone_elses_documents(sessions: Sessions) -> None:
    alice = await new_user(sessions)
    conv = await new_conversation(sessions, alice)
    async with sessions() as s:
        ask = await service.check_ask(s, alice, conv.id, "  What?  ", None)
        assert (ask.owner_id, ask.conversation_id, ask.content) == (alice.id, conv.id, "What?")
        with pytest.raises(NotFound):
            await service.check_ask(s, alice, conv.id, "What?", [str(uuid.uuid4())])


async def test_questions_and_answers_are_stored_in_turn(sessions: Sessions) -> None:
    alice = await new_user(sessions)
    conv = await new_conversation(sessions, alice)
    async with sessions() as s:
        first, history, _ = await service.add_user_message(s, conv.id, LONG.strip(), None)
        await s.commit()
    assert history == [] and first.role == "user" and first.content == LONG.strip()
    async with sessions() as s:
        titled = await s.get(Conversation, conv.id)
        assert titled is not None
        assert titled.title.endswith("…") and len(titled.title) <= 81  # from the first question
        assert titled.updated_at > conv.updated_at

    source = Source(index=2, document_id=None, filename="a.pdf", page=4, chunk_id="d:1:0",
                    text="Long   text " * 60, score=0.75)
    answer = Answer(content="Because [2].", status="complete", model="extractive",
                    citations=[source], rewritten_query="why?", timings={"total_ms": 12.5})
    async with sessions() as s:
        msg, cites = await service.add_assistant_message(s, conv.id, ["doc-1"], answer)
        await s.commit()
    async with sessions() as s:
        stored = await repo.message_with_citations(s, msg.id)
    assert stored is not None
    message, citations = stored
    assert (message.role, message.content, message.status, message.error, message.model) == \
        ("assistant", "Because [2].", "complete", None, "extractive")
    assert (message.document_ids, message.rewritten_query, message.timings) == \
        (["doc-1"], "why?", {"total_ms": 12.5})
    (cite,) = citations
    assert (cite.index, cite.chunk_id, cite.filename, cite.page, cite.score) == (2, "d:1:0", "a.pdf", 4, 0.75)
    assert cite.snippet.startswith("Long text Long text") and len(cite.snippet) <= 322
    assert [c.id for c in cites] == [cite.id]

    stopped = Answer(content="Half", status="stopped", model="m", citations=[])
    async with sessions() as s:
        await service.add_assistant_message(s, conv.id, None, stopped)
        second, history, _ = await service.add_user_message(s, conv.id, "And then?", None)
        await s.commit()
    assert (second.role, second.content) == ("user", "And then?")
    assert history == [ChatMessage(role="user", content=LONG.strip()),
                       ChatMessage(role="assistant", content="Because [2]."),
                       ChatMessage(role="assistant", content="Half")]
    async with sessions() as s:
        conv_now, messages = await service.conversation_detail(s, alice, conv.id)
    assert conv_now.title == titled.title  # only the first question names the conversation
    assert [(m.role, m.status, len(c)) for m, c in messages] == \
        [("user", "complete", 0), ("assistant", "complete", 1), ("assistant", "stopped", 0),
         ("user", "complete", 0)]


async def test_a_chosen_title_is_kept(sessions: Sessions) -> None:
    alice = await new_user(sessions)
    conv = await new_conversation(sessions, alice, "Taxes 2030")
    before = datetime.now(UTC)
    async with sessions() as s:
        await service.add_user_message(s, conv.id, "What is due?", None)
        await s.commit()
    async with sessions() as s:
        kept = await s.get(Conversation, conv.id)
        assert kept is not None and kept.title == "Taxes 2030" and kept.updated_at >= before
