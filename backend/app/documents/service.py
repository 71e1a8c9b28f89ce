"""Document use cases: upload (stage, sniff, dedupe, commit, then enqueue), list, delete, reprocess,
move between the private space and collections. Who may do what is `app.access.rules`."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import (
    Access,
    access_for,
    collection_with_role,
    readable_document,
    writable_document,
)
from app.auth.models import User
from app.core.context import ClientInfo
from app.core.db import new_id
from app.core.errors import Conflict, TooLarge
from app.core.outages import redis_outage
from app.core.text import clean_display_text
from app.documents import lifecycle, purges, scheduling
from app.documents import repository as repo
from app.documents.models import Chunk, Document
from app.documents.schemas import DocumentOut, UploadedDocument, UploadError, UploadResult
from app.ingestion.sniff import sniff_file
from app.ingestion.types import ExtractionError
from app.platform import audit
from app.platform.container import Container, after_commit
from app.providers.vectorstore.base import VectorScope

log = logging.getLogger("citewise.documents")
MB = 1024 * 1024
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Staged:
    path: Path
    size: int
    sha256: str


def clean_filename(name: str | None) -> str:
    """A display name only (files are stored under generated ids): no paths, no control chars."""
    name = clean_display_text((name or "").replace("\\", "/").rsplit("/", 1)[-1])
    return name.strip(". ")[:255] or "document"


async def _stage(upload: UploadFile, staging: Path, max_bytes: int) -> Staged:
    """Copy the upload to the store's staging area, hashing as we go; stop at the size limit."""
    fd, raw_path = tempfile.mkstemp(dir=staging, prefix="up-")
    path = Path(raw_path)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := await upload.read(COPY_CHUNK):
                size += len(block)
                if size > max_bytes:
                    raise TooLarge(f"The file is larger than the {max_bytes // MB} MB limit.",
                                   code="file_too_large")
                digest.update(block)
                await asyncio.to_thread(out.write, block)
    except BaseException:
        await asyncio.to_thread(path.unlink, True)
        raise
    return Staged(path=path, size=size, sha256=digest.hexdigest())


async def upload(session: AsyncSession, container: Container, user: User,
                 files: Sequence[UploadFile], client: ClientInfo,
                 collection_id: str | None = None) -> UploadResult:
    """Upload into the private space, or into `collection_id` (editor or owner there). The bytes
    count against the uploader's quota wherever they go."""
    access = await access_for(session, user.id)
    if collection_id is not None:
        await collection_with_role(session, access, collection_id, "editor")
    runtime = await container.runtime.current()
    max_bytes = runtime.uploads.max_upload_mb * MB
    quota = runtime.uploads.quota_mb * MB
    used = await repo.storage_used(session, user.id)
    chunk_quota = container.settings.user_quota_chunks
    indexed_full = await repo.chunks_used(session, user.id) >= chunk_quota
    result = UploadResult(documents=[], errors=[])
    for item in files:
        filename = clean_filename(item.filename)
        if indexed_full:
            result.errors.append(UploadError(
                filename=filename, error="quota_exceeded",
                detail=f"Your documents already use your quota of {chunk_quota:,} indexed passages. "
                       "Delete documents you no longer need."))
            continue
        try:
            staged = await _stage(item, container.files.staging_dir(), max_bytes)
        except TooLarge as exc:
            # Normally refused earlier, while streaming (app.api.bodylimit); a lone file is a 413.
            if len(files) == 1:
                raise
            result.errors.append(UploadError(filename=filename, error=exc.code, detail=exc.detail))
            continue
        try:
            doc, duplicate = await _admit(session, container, user, filename, staged, used, quota,
                                          client, collection_id)
        except _Refused as exc:
            result.errors.append(UploadError(filename=filename, error=exc.code, detail=exc.detail))
            continue
        finally:
            staged.path.unlink(missing_ok=True)
        if not duplicate:
            used += doc.size_bytes
        [shown] = await describe(session, access, [doc])
        result.documents.append(UploadedDocument(**shown.model_dump(), duplicate=duplicate))
    return result


class _Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


async def _admit(session: AsyncSession, container: Container, user: User, filename: str,
                 staged: Staged, used: int, quota: int, client: ClientInfo,
                 collection_id: str | None) -> tuple[Document, bool]:
    if staged.size == 0:
        raise _Refused("empty_file", "The file is empty.")
    # The same bytes already uploaded by this user: that document, wherever it lives (one copy
    # per uploader; moving it is `PATCH /documents/{id}`).
    existing = await repo.get_by_hash(session, user.id, staged.sha256)
    if existing is not None:
        return existing, True
    if used + staged.size > quota:
        raise _Refused("quota_exceeded",
                       f"Uploading this file would exceed your storage quota of {quota // MB} MB.")
    try:
        detected = await asyncio.to_thread(sniff_file, staged.path, filename)
    except ExtractionError as exc:
        raise _Refused("unsupported_type", exc.message) from exc
    doc_id = new_id()
    doc = Document(id=doc_id, owner_id=user.id, filename=filename, mime_type=detected.mime,
                   kind=detected.kind, size_bytes=staged.size, content_hash=staged.sha256,
                   storage_key=doc_id, status="queued", collection_id=collection_id)
    try:
        async with session.begin_nested():
            session.add(doc)
    except IntegrityError:  # the same bytes uploaded concurrently: the other request won
        existing = await repo.get_by_hash(session, user.id, staged.sha256)
        if existing is None:
            raise
        return existing, True
    await container.files.put(doc.storage_key, staged.path)
    jobs = container.jobs
    after_commit(session, lambda: jobs.enqueue_ingest(doc_id, request_id=client.request_id))
    return doc, False


async def get(session: AsyncSession, user: User, document_id: str) -> Document:
    """A document the user may read (404 otherwise)."""
    return await readable_document(session, await access_for(session, user.id), document_id)


async def describe(session: AsyncSession, access: Access, docs: Sequence[Document],
                   queue: scheduling.QueueState | None = None) -> list[DocumentOut]:
    """Documents as the API shows them: where each lives, the caller's role over it and, given
    the `queue`, a queued document's place in line."""
    names = await repo.collection_names(session, [d.collection_id for d in docs])
    return [DocumentOut.model_validate(d).model_copy(update={
        "collection_name": names.get(d.collection_id) if d.collection_id else None,
        "role": access.role_in(d.collection_id, d.owner_id) or "viewer",
        **_queue_fields(d, queue)}) for d in docs]


def _queue_fields(doc: Document, queue: scheduling.QueueState | None) -> dict[str, int | None]:
    if queue is None or doc.status != "queued":
        return {}
    return {"queue_position": queue.position(doc.id),
            "queue_estimate_seconds": queue.estimate_seconds(doc.id)}


async def delete_documents(session: AsyncSession, container: Container, user: User,
                           document_ids: Sequence[str], client: ClientInfo) -> int:
    """Delete the documents the user may change (uploader of a private one, editor or owner of its
    collection); others are skipped. Returns how many were deleted."""
    access = await access_for(session, user.id)
    docs: list[Document] = []
    for doc_id in dict.fromkeys(document_ids):
        doc = await session.get(Document, doc_id)
        if doc is not None and access.role_in(doc.collection_id, doc.owner_id) in ("editor", "owner"):
            docs.append(doc)
    if not docs:
        return 0
    ids = [d.id for d in docs]
    keys = [d.storage_key for d in docs]
    # In this transaction: if the vector store is down after the commit, the reconciler purges.
    to_purge = purges.record(session, docs)
    await session.execute(sql_delete(Document).where(Document.id.in_(ids)))
    for doc in docs:
        audit.record(session, "document.deleted", actor_id=user.id, actor_email=user.email,
                     target=doc.id, client=client,
                     details={"filename": doc.filename, "collection_id": doc.collection_id})

    async def delete_files() -> None:
        for key in keys:
            await container.files.delete(key)

    # After the commit: the rows are gone, so a job still running will stop and clean up too.
    # Vectors live in their uploader's partition, whoever deletes the document.
    after_commit(session, delete_files)
    after_commit(session, lambda: purges.run(container, to_purge))
    return len(docs)


async def delete_document(session: AsyncSession, container: Container, user: User,
                          document_id: str, client: ClientInfo) -> None:
    """One document: 404 if the user cannot read it, 403 for a viewer."""
    await writable_document(session, await access_for(session, user.id), document_id)
    await delete_documents(session, container, user, [document_id], client)


async def reprocess(session: AsyncSession, container: Container, user: User, document_id: str,
                    client: ClientInfo) -> Document:
    doc = await writable_document(session, await access_for(session, user.id), document_id)
    reset = await lifecycle.reset_for_reprocess(session, doc.id, version=doc.version)
    await session.refresh(doc)
    if reset:  # otherwise a concurrent reprocess reset it (and enqueued it) first
        jobs = container.jobs
        after_commit(session, lambda: jobs.enqueue_ingest(document_id, request_id=client.request_id))
    return doc


async def move(session: AsyncSession, user: User, document_id: str, collection_id: str | None,
               client: ClientInfo) -> Document:
    """Move a document into a collection, or (None) back to its uploader's private space. Needs
    the right to change it where it is and the editor role in the target. Its vectors stay where
    they are (the uploader's partition): nothing is embedded or upserted again, and the next
    search's read plan follows the new place."""
    access = await access_for(session, user.id)
    doc = await writable_document(session, access, document_id)
    if collection_id is not None:
        await collection_with_role(session, access, collection_id, "editor")
    if doc.collection_id != collection_id:
        audit.record(session, "document.moved", actor_id=user.id, actor_email=user.email,
                     target=doc.id, client=client,
                     details={"from": doc.collection_id, "to": collection_id})
        doc.collection_id = collection_id
        await session.flush()
    return doc


async def cancel(session: AsyncSession, container: Container, user: User, document_id: str,
                 client: ClientInfo) -> Document:
    """Stop a queued or processing document: it becomes `failed` ("canceled") at once, with no
    chunk rows and (after the commit) no vectors. A running attempt stops at its next progress
    write or lease renewal and removes whatever it wrote after that (pipeline: DocumentGone)."""
    doc = await writable_document(session, await access_for(session, user.id), document_id)
    if not await lifecycle.cancel(session, doc.id, version=doc.version):
        raise Conflict("Only a queued or processing document can be canceled.", code="not_cancelable")
    await session.execute(sql_delete(Chunk).where(Chunk.document_id == doc.id))
    audit.record(session, "document.canceled", actor_id=user.id, actor_email=user.email,
                 target=doc.id, client=client, details={"filename": doc.filename})
    await session.refresh(doc)
    owner_id, doc_id = doc.owner_id, doc.id

    async def purge() -> None:
        scope = VectorScope.of_document(owner_id, doc_id)
        for target in await container.index.targets():
            await container.vectors.delete(target.collection, scope=scope)

    after_commit(session, purge)
    return doc


async def queue_state(session: AsyncSession, container: Container) -> scheduling.QueueState:
    settings = container.settings
    slots = settings.job_concurrency
    if settings.effective_job_backend == "arq":
        try:
            slots *= max(1, await container.jobs.active_workers())
        except Exception as exc:
            if not redis_outage(exc):
                raise
            # Redis is away (the workers' heartbeats live there): estimate as for one worker,
            # the list must keep working.
    return scheduling.QueueState(
        positions=await scheduling.queue_positions(session, max_attempts=settings.job_max_attempts),
        slots=slots, seconds_per_document=await scheduling.mean_job_seconds(session))


def file_headers(doc: Document, inline: bool) -> dict[str, Any]:
    # Only PDFs are ever shown inline; anything else (HTML above all) downloads, so a document
    # can't run script on our origin.
    disposition = "inline" if inline and doc.mime_type == "application/pdf" else "attachment"
    return {
        "content_disposition_type": disposition,
        "headers": {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; sandbox",
                    "Cache-Control": "private, max-age=0"},
    }
