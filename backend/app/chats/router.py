from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, StreamingResponse

from app.api.deps import ContainerDep, CurrentUser, SessionDep
from app.chats import repository as repo
from app.chats.models import Conversation
from app.chats.schemas import (
    AskIn,
    CitationOut,
    ConversationDetail,
    ConversationIn,
    ConversationList,
    ConversationOut,
    ConversationPatch,
    MessageOut,
    SearchHit,
    SearchIn,
    SearchOut,
)
from app.core.errors import NotFound, error_body
from app.rag.pipeline import AskRequest, answer_events, snippet
from app.rag.retrieval import retrieve

router = APIRouter(tags=["chat"])


async def _owned(session: SessionDep, user_id: str, conversation_id: str) -> Conversation:
    conv = await repo.get_owned(session, user_id, conversation_id)
    if conv is None:
        raise NotFound("Conversation not found.")
    return conv


@router.post("/conversations", status_code=status.HTTP_201_CREATED, response_model=ConversationOut,
             operation_id="createConversation")
async def create_conversation(body: ConversationIn, user: CurrentUser, session: SessionDep
                              ) -> ConversationOut:
    conv = Conversation(owner_id=user.id, title=(body.title or "").strip() or "New conversation")
    session.add(conv)
    await session.flush()
    return ConversationOut.model_validate(conv)


@router.get("/conversations", response_model=ConversationList, operation_id="listConversations")
async def list_conversations(user: CurrentUser, session: SessionDep) -> ConversationList:
    return ConversationList(items=[ConversationOut.model_validate(c)
                                   for c in await repo.list_owned(session, user.id)])


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail,
            operation_id="getConversation")
async def get_conversation(conversation_id: str, user: CurrentUser, session: SessionDep
                           ) -> ConversationDetail:
    conv = await _owned(session, user.id, conversation_id)
    messages = [
        MessageOut.model_validate(m).model_copy(
            update={"citations": [CitationOut.model_validate(c) for c in cites]})
        for m, cites in await repo.messages_with_citations(session, conv.id)
    ]
    return ConversationDetail(**ConversationOut.model_validate(conv).model_dump(), messages=messages)


@router.patch("/conversations/{conversation_id}", response_model=ConversationOut,
              operation_id="renameConversation")
async def rename_conversation(conversation_id: str, body: ConversationPatch, user: CurrentUser,
                              session: SessionDep) -> ConversationOut:
    conv = await _owned(session, user.id, conversation_id)
    conv.title = body.title.strip()
    await session.flush()
    return ConversationOut.model_validate(conv)


@router.delete("/conversations/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="deleteConversation")
async def delete_conversation(conversation_id: str, user: CurrentUser, session: SessionDep) -> None:
    await session.delete(await _owned(session, user.id, conversation_id))


@router.post("/conversations/{conversation_id}/messages", operation_id="askQuestion", response_model=None,
             responses={200: {"content": {"text/event-stream": {}, "application/json": {}}}})
async def ask(conversation_id: str, body: AskIn, request: Request, user: CurrentUser,
              session: SessionDep, container: ContainerDep) -> StreamingResponse | JSONResponse:
    await _owned(session, user.id, conversation_id)
    if body.document_ids:
        from app.rag.retrieval import owned_document_ids

        await owned_document_ids(session, user.id, body.document_ids)  # 404 before streaming starts
    req = AskRequest(owner_id=user.id, conversation_id=conversation_id, content=body.content.strip(),
                     document_ids=body.document_ids)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/event-stream" not in accept:
        return await _collect(container, req)

    async def sse() -> AsyncIterator[str]:
        async for event, payload in answer_events(container, req):
            yield f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"

    return StreamingResponse(sse(), media_type="text/event-stream", headers={
        "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # Nginx must not buffer SSE


async def _collect(container: ContainerDep, req: AskRequest) -> JSONResponse:
    final: dict[str, object] = {}
    async for event, payload in answer_events(container, req):
        if event in ("citations", "done", "error"):
            final[event] = payload
    if "error" in final:
        err = final["error"]
        assert isinstance(err, dict)
        return JSONResponse(error_body(str(err["error"]), str(err["detail"])), status_code=502)
    done, cites = final["done"], final["citations"]
    assert isinstance(done, dict) and isinstance(cites, dict)
    async with container.sessions() as session:
        from app.chats.models import Message

        msg = await session.get(Message, done["message_id"])
        assert msg is not None
        out = MessageOut.model_validate(msg).model_copy(update={
            "citations": [CitationOut(**c) for c in cites["citations"]]})
    return JSONResponse(out.model_dump(mode="json"))


@router.post("/search", response_model=SearchOut, operation_id="search")
async def search(body: SearchIn, user: CurrentUser, session: SessionDep, container: ContainerDep
                 ) -> SearchOut:
    result = await retrieve(session, container, owner_id=user.id, query=body.query, k=body.k,
                            document_ids=body.document_ids, floor=0.0)
    return SearchOut(results=[
        SearchHit(chunk_id=c.chunk_id, document_id=c.document_id, filename=c.filename, page=c.page,
                  snippet=snippet(c.text), text=c.text, score=c.score)
        for c in result.chunks])
