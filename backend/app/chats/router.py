from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, StreamingResponse

from app.api.deps import ContainerDep, CurrentUser, SessionDep
from app.api.responses import errors
from app.chats import service
from app.chats.models import Citation, Message
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
    sse_frame,
)
from app.rag.pipeline import snippet
from app.rag.retrieval import retrieve

router = APIRouter(tags=["chat"])


def _message_out(message: Message, citations: list[Citation] | list[CitationOut]) -> MessageOut:
    return MessageOut.model_validate(message).model_copy(
        update={"citations": [c if isinstance(c, CitationOut) else CitationOut.model_validate(c)
                              for c in citations]})


@router.post("/conversations", status_code=status.HTTP_201_CREATED, response_model=ConversationOut,
             operation_id="createConversation")
async def create_conversation(body: ConversationIn, user: CurrentUser, session: SessionDep
                              ) -> ConversationOut:
    return ConversationOut.model_validate(await service.create_conversation(session, user, body.title))


@router.get("/conversations", response_model=ConversationList, operation_id="listConversations")
async def list_conversations(user: CurrentUser, session: SessionDep) -> ConversationList:
    return ConversationList(items=[ConversationOut.model_validate(c)
                                   for c in await service.list_conversations(session, user)])


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail,
            operation_id="getConversation")
async def get_conversation(conversation_id: str, user: CurrentUser, session: SessionDep
                           ) -> ConversationDetail:
    conv, messages = await service.conversation_detail(session, user, conversation_id)
    return ConversationDetail(**ConversationOut.model_validate(conv).model_dump(),
                              messages=[_message_out(m, cites) for m, cites in messages])


@router.patch("/conversations/{conversation_id}", response_model=ConversationOut,
              operation_id="renameConversation")
async def rename_conversation(conversation_id: str, body: ConversationPatch, user: CurrentUser,
                              session: SessionDep) -> ConversationOut:
    return ConversationOut.model_validate(
        await service.rename_conversation(session, user, conversation_id, body.title))


@router.delete("/conversations/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="deleteConversation")
async def delete_conversation(conversation_id: str, user: CurrentUser, session: SessionDep) -> None:
    await service.delete_conversation(session, user, conversation_id)


@router.post("/conversations/{conversation_id}/messages", operation_id="askQuestion", response_model=None,
             responses={**errors(502),
                        200: {"description": "The answer as a stream of `ChatStreamEvent` frames "
                                             "(`event: <name>`, `data: <its data>`), or the finished "
                                             "message with `Accept: application/json`.",
                              "content": {
                                  "text/event-stream": {
                                      "schema": {"$ref": "#/components/schemas/ChatStreamEvent"}},
                                  "application/json": {
                                      "schema": {"$ref": "#/components/schemas/MessageOut"}}}}})
async def ask(conversation_id: str, body: AskIn, request: Request, user: CurrentUser,
              session: SessionDep, container: ContainerDep) -> StreamingResponse | JSONResponse:
    # Checked before streaming starts, so someone else's conversation or documents are a 404.
    checked = await service.check_ask(session, user, conversation_id, body.content, body.document_ids,
                                      body.collection_ids)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/event-stream" not in accept:
        message, citations = await service.answer_message(container, checked)
        return JSONResponse(_message_out(message, citations).model_dump(mode="json"))

    async def sse() -> AsyncIterator[str]:
        async for event, payload in service.answer_events(container, checked):
            yield sse_frame(event, payload)

    return StreamingResponse(sse(), media_type="text/event-stream", headers={
        "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # Nginx must not buffer SSE


@router.post("/search", response_model=SearchOut, operation_id="search", responses=errors(404))
async def search(body: SearchIn, user: CurrentUser, session: SessionDep, container: ContainerDep
                 ) -> SearchOut:
    result = await retrieve(session, container, owner_id=user.id, query=body.query, k=body.k,
                            document_ids=body.document_ids, collection_ids=body.collection_ids,
                            floor=0.0)
    return SearchOut(results=[
        SearchHit(chunk_id=c.chunk_id, document_id=c.document_id, filename=c.filename, page=c.page,
                  snippet=snippet(c.text), text=c.text, score=c.score,
                  collection_id=c.collection_id, collection_name=c.collection_name,
                  location=c.location)
        for c in result.chunks])
