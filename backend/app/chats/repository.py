from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.chats.models import Citation, Conversation, Message


async def get_owned(session: AsyncSession, owner_id: str, conversation_id: str) -> Conversation | None:
    stmt = select(Conversation).where(Conversation.id == conversation_id,
                                      Conversation.owner_id == owner_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_owned(session: AsyncSession, owner_id: str, limit: int = 200) -> list[Conversation]:
    stmt = (select(Conversation).where(Conversation.owner_id == owner_id)
            .order_by(Conversation.updated_at.desc(), Conversation.id).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def messages_with_citations(session: AsyncSession, conversation_id: str
                                  ) -> list[tuple[Message, list[Citation]]]:
    messages = list((await session.execute(
        select(Message).where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.id))).scalars())
    ids = [m.id for m in messages]
    citations: dict[str, list[Citation]] = {i: [] for i in ids}
    if ids:
        rows = (await session.execute(
            select(Citation).where(Citation.message_id.in_(ids)).order_by(Citation.index))).scalars()
        for c in rows:
            citations[c.message_id].append(c)
    return [(m, citations[m.id]) for m in messages]


async def message_with_citations(session: AsyncSession, message_id: str
                                 ) -> tuple[Message, list[Citation]] | None:
    message = await session.get(Message, message_id)
    if message is None:
        return None
    citations = (await session.execute(
        select(Citation).where(Citation.message_id == message_id).order_by(Citation.index))).scalars()
    return message, list(citations)


async def cited_documents(session: AsyncSession, message_id: str) -> list[str]:
    """The documents an answer cites, in citation order (deleted ones left out)."""
    stmt = (select(Citation.document_id).where(Citation.message_id == message_id,
                                                Citation.document_id.is_not(None))
            .order_by(Citation.index))
    return list(dict.fromkeys(d for d in (await session.execute(stmt)).scalars() if d))


async def recent_messages(session: AsyncSession, conversation_id: str, limit: int) -> list[Message]:
    """The conversation's last `limit` messages, oldest first."""
    stmt = (select(Message).where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at.desc()).limit(limit))
    return list(reversed(list((await session.execute(stmt)).scalars())))
