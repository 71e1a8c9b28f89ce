"""Keyword search over many owner partitions: latency of the `KeywordIndex` alone, no embeddings.

    cd backend && .venv/bin/python ../bench/keyword_scopes.py [--pg] [--db PATH|NAME] [--queries 150] \
        [--late F]

SciFact's 5,183 abstracts, one chunk each (heading path = [title], text = abstract, as
retrieval_quality.py loads them), once per owner (20 owners by default: 103,660 chunks, the shape of
bench/search_latency.py at 100k), written by the real migrations and triggers. Each query (SciFact
claims, all distinct, after 10 warm-up queries) runs twice: as a reader of 11 owner partitions (the
shared-collections case of docs/benchmarks.md §5b, one scope per owner) and as one owner alone,
limit 50 (retrieval's candidates per side). With `--check` every result is also compared with the
exhaustive ranking (`exhaustive=True`): same chunk ids, same scores.

`--late F` loads the last share F of every owner's documents after the vacuum, with ANALYZE only:
on PostgreSQL their postings have no visibility-map bit yet, as between two autovacuums
(docs/benchmarks.md §5b, migration 0016).

`--db` keeps the built corpus (a SQLite file path, or a PostgreSQL database name) and reuses it when
it exists, so a second run only measures; without it the corpus is built in a temporary place and
dropped at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import _common as c

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"


async def pg_admin(sql: str, *args: Any) -> Any:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def build(url: str, corpus: list[dict[str, str]], owners: int, late: float = 0.0
                ) -> list[str]:
    """`owners` users, each with a copy of the corpus; returns their ids in load order. The last
    `late` share of every owner's documents is loaded after the vacuum, followed by ANALYZE only:
    on PostgreSQL, postings autovacuum has not reached yet (no visibility-map bit)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app.auth.models import User

    engine = create_async_engine(url)
    ids: list[str] = []
    early = len(corpus) - round(late * len(corpus))
    rows: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
    async with async_sessionmaker(engine)() as s:
        for o in range(owners):
            owner = str(uuid.uuid4())
            ids.append(owner)
            s.add(User(id=owner, email=f"kw{o}@example.com", password_hash="x"))  # noqa: S106
            await s.flush()
            docs: list[dict[str, Any]] = []
            chunks: list[dict[str, Any]] = []
            for d in corpus:
                doc = str(uuid.uuid4())
                docs.append({"id": doc, "owner_id": owner, "filename": "f.txt",
                             "mime_type": "text/plain", "kind": "text", "size_bytes": 1,
                             "content_hash": d["_id"], "storage_key": doc, "status": "ready",
                             "version": 1, "searchable_version": 1})
                chunks.append({"id": f"{doc}:1:0", "document_id": doc, "owner_id": owner,
                               "version": 1, "n": 0, "text": d["text"], "page_start": 1,
                               "page_end": 1, "char_start": 0, "char_end": len(d["text"]),
                               "heading_path": [d["title"]], "token_count": 0})
            await _insert(s, docs[:early], chunks[:early])
            rows.append((docs[early:], chunks[early:]))
            print(f"owner {o + 1}/{owners} loaded", file=sys.stderr)
    # What autovacuum does after a bulk load: statistics and, on PostgreSQL, the visibility map
    # without which every posting read is a heap fetch (docs/benchmarks.md §5b).
    pg = engine.dialect.name == "postgresql"
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM (ANALYZE)" if pg else "ANALYZE"))
    if early < len(corpus):
        async with async_sessionmaker(engine)() as s:
            for docs, chunks in rows:
                await _insert(s, docs, chunks)
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("ANALYZE"))
        print(f"{len(corpus) - early} documents per owner loaded after the vacuum", file=sys.stderr)
    await engine.dispose()
    return ids


async def _insert(s: Any, docs: list[dict[str, Any]], chunks: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    from app.documents.models import Document
    from app.documents.repository import insert_chunks

    for i in range(0, len(docs), 1000):
        await s.execute(insert(Document), docs[i:i + 1000])
        await insert_chunks(s, chunks[i:i + 1000])  # multi-row, as the pipeline writes them
    await s.commit()


async def measure(url: str, owners: list[str], queries: list[str], args: argparse.Namespace
                  ) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app.bootstrap import build_keyword_index
    from app.providers.keyword import KeywordScope

    engine = create_async_engine(url)
    index = build_keyword_index(engine.dialect.name)
    reader = [KeywordScope(owner_id=o) for o in owners[: args.readable]]
    alone = [KeywordScope(owner_id=owners[args.readable])]
    times: dict[str, list[float]] = {"reader": [], "alone": []}
    mismatches = 0
    async with async_sessionmaker(engine)() as s:
        for n, q in enumerate(queries):
            for name, scopes in (("reader", reader), ("alone", alone)):
                t = time.perf_counter()
                got = await index.search(s, scopes, q, limit=args.limit)
                ms = (time.perf_counter() - t) * 1000
                if n >= args.warmup:
                    times[name].append(ms)
                if args.check:
                    full = await index.search(s, scopes, q, limit=args.limit,  # type: ignore[call-arg]
                                              exhaustive=True)
                    mismatches += got != full
            await s.rollback()
    await engine.dispose()
    return {k: c.summary_ms(v) for k, v in times.items()} | {"mismatches": mismatches}


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pg", action="store_true")
    p.add_argument("--db", help="keep/reuse the corpus: SQLite file path or PostgreSQL database name")
    p.add_argument("--owners", type=int, default=20)
    p.add_argument("--readable", type=int, default=11)
    p.add_argument("--queries", type=int, default=150)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--check", action="store_true", help="compare every result with the exhaustive one")
    p.add_argument("--late", type=float, default=0.0,
                   help="share of each owner's documents loaded after the vacuum (ANALYZE only)")
    args = p.parse_args()

    from app.core.migrations import upgrade

    corpus = c.scifact_corpus()
    queries = list(dict.fromkeys(c.scifact_queries().values()))[: args.warmup + args.queries]
    tmp = tempfile.TemporaryDirectory()
    if args.pg:
        name = args.db or f"citewise_kw_{uuid.uuid4().hex[:10]}"
        url = PG + name
        exists = bool(await pg_admin("SELECT 1 FROM pg_database WHERE datname = $1", name))
    else:
        path = Path(args.db) if args.db else Path(tmp.name) / "kw.db"
        url = f"sqlite+aiosqlite:///{path}"
        exists = path.exists()
    try:
        if not exists:
            if args.pg:
                await pg_admin(f'CREATE DATABASE "{name}"')
            await asyncio.to_thread(upgrade, url)
            t = time.perf_counter()
            await build(url, corpus, args.owners, args.late)
            print(f"built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        owners = await load_order(url)
        result = await measure(url, owners, queries[: args.warmup + args.queries], args)
    finally:
        if args.pg and not args.db:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        tmp.cleanup()
    print(f"{'PostgreSQL' if args.pg else 'SQLite'}, {args.owners} owners x {len(corpus)} chunks, "
          f"{args.queries} queries, limit {args.limit}; {c.machine()}")
    c.print_table(["ms", "p50", "p95", "p99", "mean"], [
        [f"reader of {args.readable} partitions", *_cols(result["reader"])],
        ["one owner alone", *_cols(result["alone"])],
    ])
    if args.check:
        print(f"results different from the exhaustive ranking: {result['mismatches']}")


async def load_order(url: str) -> list[str]:
    """The owners in the order they were loaded (their e-mail numbers)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, email FROM users"))).all()
    await engine.dispose()
    return [r[0] for r in sorted(rows, key=lambda r: int(r[1][2:].split("@")[0]))]


def _cols(s: dict[str, float]) -> list[Any]:
    return [s.get("p50"), s.get("p95"), s.get("p99"), s.get("mean")]


if __name__ == "__main__":
    asyncio.run(main())
