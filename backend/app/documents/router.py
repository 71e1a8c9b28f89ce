from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import FileResponse
from sqlalchemy import ColumnElement

from app.access.rules import access_for, collection_with_role
from app.api.deps import ClientDep, ContainerDep, CurrentUser, SessionDep, WriteUser
from app.api.responses import errors
from app.core.errors import Invalid, NotFound
from app.documents import repository as repo
from app.documents import service
from app.documents.models import Document
from app.documents.schemas import (
    BatchDeleteIn,
    BatchDeleteOut,
    ChunkOut,
    ChunkPage,
    DocumentOut,
    DocumentPage,
    DocumentPatch,
    UploadResult,
)

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=UploadResult,
             operation_id="uploadDocuments", responses=errors(400, 404))
async def upload_documents(
    files: Annotated[list[UploadFile], File(description="one or many files")],
    user: WriteUser, session: SessionDep, container: ContainerDep, client: ClientDep,
    collection_id: Annotated[str | None, Form(
        max_length=36, description="upload into this collection (editor or owner there)")] = None,
) -> UploadResult:
    settings = container.settings
    if len(files) > settings.max_files_per_upload:
        raise Invalid(f"Upload at most {settings.max_files_per_upload} files at once.",
                      code="too_many_files")
    return await service.upload(session, container, user, files, client, collection_id or None)


@router.get("", response_model=DocumentPage, operation_id="listDocuments", responses=errors(404))
async def list_documents(
    user: CurrentUser, session: SessionDep, container: ContainerDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status_: Annotated[Literal["queued", "processing", "ready", "failed"] | None,
                       Query(alias="status")] = None,
    mime_type: Annotated[str | None, Query(max_length=127)] = None,
    sort: Literal["created_at", "filename", "size_bytes", "status"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    collection_id: Annotated[str | None, Query(
        max_length=36, description="a collection's id, or `private` for the caller's private "
                                   "space; omitted: every document the caller can read")] = None,
) -> DocumentPage:
    access = await access_for(session, user.id)
    place: ColumnElement[bool] | None = None
    if collection_id == "private":
        place = Document.collection_id.is_(None)
    elif collection_id:
        await collection_with_role(session, access, collection_id, "viewer")
        place = Document.collection_id == collection_id
    items, total = await repo.list_readable(
        session, access.condition(), q=q, status=status_, mime_type=mime_type, sort=sort,
        order=order, page=page, page_size=page_size, place=place)
    queue = (await service.queue_state(session, container)
             if any(d.status == "queued" for d in items) else None)
    return DocumentPage(items=await service.describe(session, access, items, queue), total=total,
                        page=page, page_size=page_size)


@router.get("/{document_id}", response_model=DocumentOut, operation_id="getDocument")
async def get_document(document_id: str, user: CurrentUser, session: SessionDep,
                       container: ContainerDep) -> DocumentOut:
    access = await access_for(session, user.id)
    doc = await service.get(session, user, document_id)
    queue = await service.queue_state(session, container) if doc.status == "queued" else None
    [out] = await service.describe(session, access, [doc], queue)
    return out


@router.patch("/{document_id}", response_model=DocumentOut, operation_id="moveDocument")
async def move_document(document_id: str, body: DocumentPatch, user: WriteUser, session: SessionDep,
                        client: ClientDep) -> DocumentOut:
    doc = await service.move(session, user, document_id, body.collection_id, client)
    [out] = await service.describe(session, await access_for(session, user.id), [doc])
    return out


@router.get("/{document_id}/file", operation_id="getDocumentFile", response_class=FileResponse)
async def get_document_file(document_id: str, user: CurrentUser, session: SessionDep,
                            container: ContainerDep, inline: bool = False) -> FileResponse:
    doc = await service.get(session, user, document_id)
    path = container.files.path(doc.storage_key)
    if not path.is_file():
        raise NotFound("The stored file is missing.")
    opts = service.file_headers(doc, inline)
    return FileResponse(path, media_type=doc.mime_type, filename=doc.filename, **opts)


@router.get("/{document_id}/chunks", response_model=ChunkPage, operation_id="listDocumentChunks")
async def list_chunks(
    document_id: str, user: CurrentUser, session: SessionDep,
    page: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ChunkPage:
    doc = await service.get(session, user, document_id)
    items, total = await repo.list_chunks(session, doc, page=page, limit=limit, offset=offset)
    return ChunkPage(items=[ChunkOut.model_validate(c) for c in items], total=total)


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="deleteDocument")
async def delete_document(document_id: str, user: WriteUser, session: SessionDep,
                          container: ContainerDep, client: ClientDep) -> None:
    await service.delete_document(session, container, user, document_id, client)


@router.post("/batch-delete", response_model=BatchDeleteOut, operation_id="batchDeleteDocuments")
async def batch_delete(body: BatchDeleteIn, user: WriteUser, session: SessionDep,
                       container: ContainerDep, client: ClientDep) -> BatchDeleteOut:
    return BatchDeleteOut(deleted=await service.delete_documents(session, container, user, body.ids, client))


@router.post("/{document_id}/reprocess", status_code=status.HTTP_202_ACCEPTED,
             response_model=DocumentOut, operation_id="reprocessDocument")
async def reprocess(document_id: str, user: WriteUser, session: SessionDep,
                    container: ContainerDep, client: ClientDep) -> DocumentOut:
    doc = await service.reprocess(session, container, user, document_id, client)
    [out] = await service.describe(session, await access_for(session, user.id), [doc])
    return out


@router.post("/{document_id}/cancel", response_model=DocumentOut, operation_id="cancelDocument",
             responses={409: {"description": "The document is not queued or processing."}})
async def cancel(document_id: str, user: WriteUser, session: SessionDep,
                 container: ContainerDep, client: ClientDep) -> DocumentOut:
    """Stop a queued or processing document. It becomes `failed` with a "canceled" message, and
    nothing of it stays searchable (no chunks, no vectors); Retry (reprocess) starts it again."""
    doc = await service.cancel(session, container, user, document_id, client)
    [out] = await service.describe(session, await access_for(session, user.id), [doc])
    return out
