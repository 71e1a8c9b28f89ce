"""Keyword-only SciFact nDCG@10 / recall@100: SQLite FTS5 vs PostgreSQL BM25, no embeddings.

    cd backend && .venv/bin/python ../bench/keyword_backends.py [test|train]

Both through the real `KeywordIndex` classes on schemas built by the real migrations, one chunk per
abstract (heading path = [title], text = abstract, as retrieval_quality.py loads them), k = 100.
PostgreSQL is measured twice on the same database: with the current column (migration 0012: words
split at punctuation like FTS5) and with it rebuilt with 0003's expression (PostgreSQL's own parser,
as under 0011). A quick check of the keyword side when the full hybrid bench is too slow to run.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import _common as c
from retrieval_quality import ndcg_at, recall_at

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"


async def load(url: str, corpus: list[dict[str, str]], owner: str) -> dict[str, str]:
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app.auth.models import User
    from app.documents.models import Document
    from app.documents.repository import insert_chunks

    engine = create_async_engine(url)
    to_corpus: dict[str, str] = {}
    async with async_sessionmaker(engine)() as s:
        s.add(User(id=owner, email="kw@example.com", password_hash="x"))  # noqa: S106 - never signs in
        await s.flush()
        docs: list[dict[str, Any]] = []
        chunks: list[dict[str, Any]] = []
        for d in corpus:
            doc_id = str(uuid.uuid4())
            docs.append({"id": doc_id, "owner_id": owner, "filename": "f.txt", "mime_type": "text/plain",
                         "kind": "text", "size_bytes": 1, "content_hash": d["_id"], "storage_key": doc_id,
                         "status": "ready", "version": 1, "searchable_version": 1})
            cid = f"{doc_id}:1:0"
            chunks.append({"id": cid, "document_id": doc_id, "owner_id": owner, "version": 1, "n": 0,
                           "text": d["text"], "page_start": 1, "page_end": 1, "char_start": 0,
                           "char_end": len(d["text"]), "heading_path": [d["title"]], "token_count": 0})
            to_corpus[cid] = d["_id"]
        for i in range(0, len(docs), 1000):
            await s.execute(insert(Document), docs[i:i + 1000])
            await insert_chunks(s, chunks[i:i + 1000])  # multi-row, as the pipeline writes them
        await s.commit()
    await engine.dispose()
    return to_corpus


async def evaluate(url: str, index: Any, owner: str, to_corpus: dict[str, str],
                   queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> tuple[float, float]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app.providers.keyword import KeywordScope

    engine = create_async_engine(url)
    nd: list[float] = []
    rc: list[float] = []
    async with async_sessionmaker(engine)() as s:
        for qid, rel in qrels.items():
            hits = await index.search(s, KeywordScope(owner_id=owner), queries[qid], limit=100)
            ranked = [to_corpus[h] for h, _ in hits]
            nd.append(ndcg_at(ranked, rel))
            rc.append(recall_at(ranked, rel, 100))
    await engine.dispose()
    return round(sum(nd) / len(nd), 4), round(sum(rc) / len(rc), 4)


async def main() -> None:
    import asyncpg

    from app.core.migrations import upgrade_async
    from app.providers.keyword.postgres_fts import PostgresKeywordIndex
    from app.providers.keyword.sqlite_fts5 import SqliteFts5KeywordIndex

    split = sys.argv[1] if len(sys.argv) > 1 else "test"
    corpus = c.scifact_corpus()
    queries = c.scifact_queries()
    qrels = c.scifact_qrels(split)
    owner = str(uuid.uuid4())
    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'db.sqlite'}"
        await upgrade_async(url)
        tc = await load(url, corpus, owner)
        out["sqlite fts5"] = await evaluate(url, SqliteFts5KeywordIndex(), owner, tc, queries, qrels)
        print(out, flush=True)
    name = f"llm_kw_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = PG + name
        await upgrade_async(url)
        tc = await load(url, corpus, owner)
        out["pg 0012"] = await evaluate(url, PostgresKeywordIndex(), owner, tc, queries, qrels)
        print(out, flush=True)
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
        await conn.execute("ALTER TABLE chunks DROP COLUMN tsv")
        await conn.execute(
            "ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(heading_path::jsonb::text, '')), 'A') || "
            "setweight(to_tsvector('english', text), 'D')) STORED")
        await conn.execute("TRUNCATE keyword_postings, keyword_stats")
        await conn.execute(
            "INSERT INTO keyword_postings (owner_id, lexeme, chunk_id, tf_heading, tf_text, length) "
            "SELECT r.owner_id, u.lexeme, r.id, cardinality(array_positions(u.weights, 'A')), "
            "cardinality(array_positions(u.weights, 'D')), keyword_token_count(r.tsv) "
            "FROM chunks r, unnest(r.tsv) u")
        await conn.execute(
            "INSERT INTO keyword_stats (document_id, owner_id, chunks, length) "
            "SELECT document_id, owner_id, count(*), sum(keyword_token_count(tsv)) FROM chunks "
            "GROUP BY document_id, owner_id")
        await conn.close()
        out["pg 0011 tokens"] = await evaluate(url, PostgresKeywordIndex(), owner, tc, queries, qrels)
        print(out, flush=True)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    c.emit_json("keyword_backends", {"split": split, "queries": len(qrels), **out})


if __name__ == "__main__":
    asyncio.run(main())
