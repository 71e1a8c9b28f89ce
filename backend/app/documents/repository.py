"""SQL for documents and chunks. Every read of documents for a user is scoped by the access rule
(`app.access.rules.Access.condition`): a row the user cannot read is 'not found'."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.collections.models import Collection
from app.documents.models import Chunk, Document

SORTABLE = {"created_at": Document.created_at, "filename": Document.filename,
            "size_bytes": Document.size_bytes, "status": Document.status}


async def get_by_hash(session: AsyncSession, owner_id: str, content_hash: str) -> Document | None:
    stmt = select(Document).where(Document.owner_id == owner_id, Document.content_hash == content_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def storage_used(session: AsyncSession, owner_id: str) -> int:
    stmt = select(func.coalesce(func.sum(Document.size_bytes), 0)).where(Document.owner_id == owner_id)
    return int((await session.execute(stmt)).scalar_one())


async def chunks_used(session: AsyncSession, owner_id: str, *, excluding: str | None = None) -> int:
    """Indexed chunks of the owner's documents (their last finished version), for the chunk quota."""
    conds: list[Any] = [Document.owner_id == owner_id]
    if excluding is not None:
        conds.append(Document.id != excluding)
    stmt = select(func.coalesce(func.sum(Document.chunk_count), 0)).where(*conds)
    return int((await session.execute(stmt)).scalar_one())


async def list_readable(
    session: AsyncSession, readable: ColumnElement[bool], *, q: str | None, status: str | None,
    mime_type: str | None, sort: str, order: str, page: int, page_size: int,
    place: ColumnElement[bool] | None = None,
) -> tuple[list[Document], int]:
    """`readable` is the caller's access condition; `place` narrows to one space or collection."""
    conds: list[Any] = [readable]
    if place is not None:
        conds.append(place)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(Document.filename.ilike(f"%{escaped}%", escape="\\"))
    if status:
        conds.append(Document.status == status)
    if mime_type:
        conds.append(Document.mime_type == mime_type)
    where = and_(*conds)
    total = int((await session.execute(select(func.count(Document.id)).where(where))).scalar_one())
    column = SORTABLE.get(sort, Document.created_at)
    ordering = column.asc() if order == "asc" else column.desc()
    stmt = (select(Document).where(where).order_by(ordering, Document.id)
            .offset((page - 1) * page_size).limit(page_size))
    return list((await session.execute(stmt)).scalars()), total


async def collection_names(session: AsyncSession, ids: Sequence[str | None]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await session.execute(select(Collection.id, Collection.name).where(Collection.id.in_(wanted)))
    return {i: n for i, n in rows.all()}


async def list_chunks(
    session: AsyncSession, document: Document, *, page: int | None, limit: int, offset: int
) -> tuple[list[Chunk], int]:
    # The version search serves (during a reprocess, the previous one), else the current one.
    version = document.searchable_version or document.version
    conds: list[Any] = [Chunk.document_id == document.id, Chunk.version == version]
    if page is not None:
        conds.append(and_(Chunk.page_start <= page, Chunk.page_end >= page))
    where = and_(*conds)
    total = int((await session.execute(select(func.count(Chunk.id)).where(where))).scalar_one())
    stmt = select(Chunk).where(where).order_by(Chunk.n).offset(offset).limit(limit)
    return list((await session.execute(stmt)).scalars()), total


# Rows per INSERT statement: 13 bound values each stay far below both drivers' limits (SQLite
# 32,766 variables, PostgreSQL 32,767 parameters).
CHUNK_INSERT_ROWS = 500
_CHUNKS = cast(Table, Chunk.__table__)


async def replace_chunks(session: AsyncSession, document_id: str, rows: Sequence[dict[str, Any]],
                         *, keep_version: int | None = None) -> None:
    """The document's chunk rows become `rows`, next to those of `keep_version` (the version
    search serves while a new one is built)."""
    stmt = delete(Chunk).where(Chunk.document_id == document_id)
    if keep_version is not None:
        stmt = stmt.where(Chunk.version != keep_version)
    await session.execute(stmt)
    await insert_chunks(session, rows)


async def insert_chunks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Chunk rows in multi-row INSERTs, not an executemany: asyncpg's executemany sends one
    statement per row, and PostgreSQL's keyword index triggers (statement-level, migrations 0011
    and 0017) then ran once per chunk: 5 s for one 1,000-chunk document against 2 s now."""
    for start in range(0, len(rows), CHUNK_INSERT_ROWS):
        # (The Core table: the ORM's multi-row insert does not run `index_terms`' per-row default.)
        await session.execute(insert(_CHUNKS).values(list(rows[start:start + CHUNK_INSERT_ROWS])))

