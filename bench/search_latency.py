"""`POST /api/v1/search` latency at 100k chunks, owner-filtered (DESIGN §7: p50 < 30 ms, p95 < 60 ms).

    cd backend && .venv/bin/python ../bench/search_latency.py                    # 20 owners x 5,183
    cd backend && .venv/bin/python ../bench/search_latency.py --owners 2 --queries 50   # quick look
    cd backend && .venv/bin/python ../bench/search_latency.py --shared 10 [--pg]   # sharing (#10)
    cd backend && .venv/bin/python ../bench/search_latency.py --shared 10 --pg --compare keyword_statements=1
    cd backend && .venv/bin/python ../bench/search_latency.py --shared 10 --private 0.3  # narrowed
    cd backend && .venv/bin/python ../bench/search_latency.py --shared 10 --unmerged   # FTS5 as written
    cd backend && .venv/bin/python ../bench/search_latency.py --shared 10 --profile /tmp/s.prof  # where

The corpus is SciFact's 5,183 abstracts, written the way the pipeline leaves them (real migrations,
ready Document + Chunk rows, FTS index, vectors from the real MiniLM embedder with the pipeline's
metadata: see retrieval_quality.load_corpus) once per owner: with 20 owners the collection holds
103,660 chunks and every query is filtered down to one owner's 5,183. Each owner's copy of the vectors
gets a little Gaussian noise (sigma 0.01, re-normalised) so the HNSW graph is not full of exact
duplicates. Queries are SciFact's own claims (all distinct, so nothing is answered from a cache),
sent one at a time over real HTTP to a real uvicorn server, rotating through the owners.

`--shared N` (issue #10): owners 1..N each put all their documents in a collection of their own and
add owner 0, the *reader*, as a viewer; the reader's searches then span their own documents plus N
collections of other owners ((N+1) x 5,183 chunks in N+1 owner partitions). Each measured query is
sent twice in a row: by the reader, and by owner N+1 who shares nothing (the reference: one owner's
own documents, the pre-sharing case). `--pg` runs the same on a throwaway PostgreSQL database.
`--private F` (with `--shared`): each sharing owner keeps the share F of their documents private,
so the reader's partitions of them are narrowed to some documents (filtered searches).

References measured in the same run, with the same query vectors: a raw Chroma query
(n_results = the app's candidate depth) on the owner's own Chroma collection (the adapter keeps one
per owner), without and with a metadata filter, and the stage timings reported by `retrieve()`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import hashlib
import inspect
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import _common as c
from retrieval_quality import PG_ADMIN, load_corpus


def noisy_copy(vectors: Any, seed: int, sigma: float = 0.01) -> Any:
    import numpy as np

    if seed == 0:
        return vectors
    rng = np.random.default_rng(seed)
    out = vectors + rng.normal(0.0, sigma, vectors.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


class GcPauses:
    """`--gc-stats`: the cycle collector's passes while attached (the app runs in this process),
    by generation: how many, their total and longest duration; then the objects frozen out of them,
    those tracked, and what one full pass (`gc.collect()`) costs the process at that point."""

    def __init__(self) -> None:
        self.ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms[info["generation"]].append((time.perf_counter() - self._start) * 1000)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"gen{g}": {"n": len(v), "total_ms": round(sum(v), 1),
                                           "max_ms": round(max(v, default=0.0), 1)}
                               for g, v in self.ms.items()}
        out["frozen_objects"] = gc.get_freeze_count()
        out["tracked_objects"] = len(gc.get_objects())
        t = time.perf_counter()
        gc.collect()  # what one full pass costs this process now
        out["full_pass_ms"] = round((time.perf_counter() - t) * 1000, 1)
        return out


async def raw_chroma_ms(app: Any, qvecs: list[list[float]], owner: str, n: int) -> dict[str, Any]:
    """The floor under any search: Chroma alone on the owner's collection (which is what the owner
    filter selects), same query vectors; and the same with a metadata filter added."""
    container = app.state.container
    active = await container.index.active()
    store = container.vectors
    col = store._shard(active.collection, owner, create=False)
    out: dict[str, Any] = {}
    for label, where in (("owner's collection", None),
                         ("owner's collection + metadata filter", {"owner_id": owner})):
        lat: list[float] = []
        for v in qvecs:
            t = time.perf_counter()
            await asyncio.to_thread(col.query, query_embeddings=[v], n_results=n, where=where)
            lat.append((time.perf_counter() - t) * 1000)
        out[label] = c.summary_ms(lat)
    return out


def snapshot_key(args: argparse.Namespace, corpus_texts: list[str]) -> str:
    """What a built corpus depends on: database, owners, the texts, the schema (newest migration)
    and the code that writes it; any change builds afresh."""
    newest = sorted((c.BACKEND / "alembic" / "versions").glob("0*.py"))[-1]
    parts = ["pg" if args.pg else "sqlite", str(args.owners), newest.name,
             hashlib.sha256(newest.read_bytes()).hexdigest(),  # a migration being written
             inspect.getsource(load_corpus), inspect.getsource(noisy_copy),
             hashlib.sha256("\x00".join(corpus_texts).encode()).hexdigest()]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]


async def pg_admin(sql: str, database: str | None = None) -> None:
    """`sql` on the server's admin database, or on `database` (a SQLAlchemy URL); autocommit."""
    import asyncpg

    conn = await asyncpg.connect(database.replace("+asyncpg", "") if database else PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def pg_exists(name: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def build_corpus(args: argparse.Namespace, settings: Any, corpus: list[dict[str, str]],
                       vectors: Any) -> None:
    """Owners registered through the API, each with their copy of the corpus (load_corpus)."""
    import httpx

    async with c.served_app(settings) as (app, url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for i in range(args.owners):
                client.cookies.clear()
                user = await c.register(client, f"search{i}@example.com")
                owner = user.get("id") or (await client.get("/api/v1/auth/me")).json()["id"]
                await load_corpus(app, owner, corpus, noisy_copy(vectors, i), False)
                print(f"owner {i + 1}/{args.owners} loaded", file=sys.stderr)
        if args.pg:
            # What autovacuum does after a bulk load (its insert threshold): statistics, and the
            # visibility map that lets the keyword statement read postings from the index alone.
            # Without it every posting was a heap fetch (33k blocks for one reader's query: 186
            # vs 68 ms for the statement, docs/benchmarks.md §5b).
            await pg_admin("VACUUM (ANALYZE)", database=settings.database_url)


@asynccontextmanager
async def corpus_app(args: argparse.Namespace, tmp: Path, corpus: list[dict[str, str]],
                     vectors: Any, texts: list[str]) -> AsyncIterator[tuple[Any, str, float]]:
    """The served app over the built corpus. The first run builds it and keeps a copy in the bench
    cache (the data directory, and on PostgreSQL a template database); later runs with the same
    key copy it back in seconds (`--rebuild` forces a build)."""
    key = snapshot_key(args, texts)
    snap = c.bench_cache_dir() / f"search-corpus-{'pg' if args.pg else 'sqlite'}-{key}"
    template = f"citewise_bench_tpl_{key}"
    data = tmp / "data"
    db = f"citewise_bench_{uuid.uuid4().hex[:10]}" if args.pg else None
    db_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}" if db else None
    settings = c.bench_settings(data, **({"database_url": db_url} if db_url else {}))
    t = time.perf_counter()
    ready = (snap / "done").exists() and (not args.pg or await pg_exists(template))
    try:
        if ready and not args.rebuild:
            shutil.copytree(snap / "data", data)
            if db:
                await pg_admin(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
            print(f"corpus restored from {snap}", file=sys.stderr)
        else:
            if db:
                await pg_admin(f'CREATE DATABASE "{db}"')
            await build_corpus(args, settings, corpus, vectors)
            shutil.rmtree(snap, ignore_errors=True)
            shutil.copytree(data, snap / "data")
            if db:
                await pg_admin(f'DROP DATABASE IF EXISTS "{template}"')
                await pg_admin(f'CREATE DATABASE "{template}" TEMPLATE "{db}"')
            (snap / "done").write_text(template if db else "")
            print(f"corpus built in {time.perf_counter() - t:.0f} s, kept in {snap}", file=sys.stderr)
        load_s = time.perf_counter() - t
        async with c.served_app(settings) as (app, url):
            yield app, url, load_s
    finally:
        if db:
            await pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from app.bootstrap import KEYWORD_MERGE_PAGES
    from app.ingestion.embedding_text import embedding_text
    from app.providers.vectorstore import ALL_OWNERS

    corpus = c.scifact_corpus()[: args.docs or None]
    texts = [embedding_text([d["title"]], d["text"]) for d in corpus]
    vectors = await asyncio.to_thread(c.embed_cached, texts, label="scifact")
    queries = list(dict.fromkeys(c.scifact_queries().values()))
    warmup, measured = queries[: args.warmup], queries[args.warmup : args.warmup + args.queries]

    if args.shared and args.owners < args.shared + 2:
        raise SystemExit(f"--shared {args.shared} needs --owners >= {args.shared + 2}")
    with tempfile.TemporaryDirectory(prefix="citewise-bench-search-") as tmp:
        async with corpus_app(args, Path(tmp), corpus, vectors, texts) as (app, url, load_s):
            settings = app.state.container.settings
            clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in range(args.owners)]
            try:
                owners = [str((await c.login(cl, f"search{i}@example.com"))["id"])
                          for i, cl in enumerate(clients)]
                container = app.state.container
                active = await container.index.active()
                total = await container.vectors.count(active.collection, scope=ALL_OWNERS)
                union_s = None
                if args.shared:
                    await share_collections(app, clients, owners, args.shared, args.private)
                    # The union index (one vector search for a reader of many owners) is built
                    # in the background by the first such search; here before the timing starts.
                    started = time.perf_counter()
                    copied = await container.vectors.build_union(active.collection)
                    union_s = round(time.perf_counter() - started, 1)
                    print(f"union index: {copied} vectors copied in {union_s} s", flush=True)
                    if args.pg:
                        # What autovacuum soon does after moves of this size (over a fifth of
                        # the table): the moved rows all-visible again, so the readable set's
                        # lists are read from the index alone, and the statistics rows the
                        # moves rewrote (keyword_stats, 0019's per-space tables) compact, as in
                        # a settled installation. The rest is all-visible already: skipped.
                        await pg_admin("VACUUM (ANALYZE)", database=settings.database_url)
                if not args.unmerged:
                    # What the embedded job runner does once ingestion goes idle: SQLite's keyword
                    # index merged into one segment, in the runner's steps (PostgreSQL: nothing).
                    started, steps = time.perf_counter(), 0
                    while True:
                        async with container.sessions() as session:
                            if await container.keywords.compact(session, pages=KEYWORD_MERGE_PAGES):
                                break
                        steps += 1
                    print(f"keyword index merged in {steps} steps, "
                          f"{time.perf_counter() - started:.1f} s", flush=True)
                # Shared mode: every query by the reader (owner 0); the reference by owner N+1.
                asker = (lambda i: 0) if args.shared else (lambda i: i % len(clients))

                async def ask(i: int, q: str, who: int | None = None) -> tuple[float, int]:
                    t = time.perf_counter()
                    r = await clients[asker(i) if who is None else who].post(
                        "/api/v1/search", json={"query": q, "k": args.k})
                    ms = (time.perf_counter() - t) * 1000
                    if r.status_code != 200 or not r.json()["results"]:
                        raise SystemExit(f"search failed: {r.status_code} {r.text[:300]}")
                    return ms, len(r.json()["results"])

                for i, q in enumerate(warmup):
                    await ask(i, q)
                    if args.shared:
                        await ask(i, q, who=args.shared + 1)
                load_before = os.getloadavg()
                http_ms: list[float] = []
                own_only_ms: list[float] = []
                compared_ms: list[float] = []
                name, alt = compare_setting(settings, args.compare)
                profile = cProfile.Profile() if args.profile else None
                with GcPauses() if args.gc_stats else contextlib.nullcontext() as pauses, \
                        profile or contextlib.nullcontext():
                    for i, q in enumerate(measured):
                        if name is None:
                            http_ms.append((await ask(i, q))[0])
                        else:  # A/B per query, each side first every other time
                            base = getattr(settings, name)
                            for value, sink in ((base, http_ms), (alt, compared_ms))[:: 1 - 2 * (i % 2)]:
                                setattr(settings, name, value)
                                sink.append((await ask(i, q))[0])
                            setattr(settings, name, base)
                        if args.shared:
                            own_only_ms.append((await ask(i, q, who=args.shared + 1))[0])
                gc_stats = pauses.summary() if pauses else None
                if profile:
                    profile.dump_stats(args.profile)

                # Stage timings from retrieve() itself, same queries and owners.
                from app.rag.retrieval import retrieve

                stages: dict[str, list[float]] = {}
                qvecs: list[list[float]] = []
                for i, q in enumerate(measured):
                    async with container.sessions() as session:
                        res = await retrieve(session, container, owner_id=owners[asker(i)],
                                             query=q, k=args.k, floor=0.0)
                    for key, ms in res.timings.items():
                        stages.setdefault(key, []).append(ms)
                    qvecs.append(await active.embedder.embed_query(q))
                raw = await raw_chroma_ms(app, qvecs, owners[0], settings.retrieval_candidates)
            finally:
                await asyncio.gather(*(cl.aclose() for cl in clients))
    return {
        "database": "postgresql" if args.pg else "sqlite", "shared_collections": args.shared,
        "private_share": args.private, "keyword_index_merged": not args.unmerged,
        "reader_chunks": len(corpus) + args.shared * (len(corpus) - round(len(corpus) * args.private)),
        "own_only_http_search_ms": c.summary_ms(own_only_ms) if own_only_ms else None,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "owners": args.owners, "chunks_total": total, "chunks_per_owner": len(corpus),
        "queries": len(measured), "k": args.k, "candidates": settings.retrieval_candidates,
        "load_s": round(load_s, 1), "union_build_s": union_s,
        "loadavg_before": [round(x, 2) for x in load_before],
        "http_search_ms": c.summary_ms(http_ms),
        "compared": ({"setting": args.compare, "http_search_ms": c.summary_ms(compared_ms)}
                     if compared_ms else None),
        "retrieve_stages_ms": {k: c.summary_ms(v) for k, v in stages.items()},
        "raw_chroma_ms": raw,
        "gc_during_http_searches": gc_stats,
    }


def compare_setting(settings: Any, spec: str | None) -> tuple[str | None, Any]:
    """`--compare NAME=VALUE`: the setting's name and the value to compare with (its own type)."""
    if not spec:
        return None, None
    name, _, value = spec.partition("=")
    if not hasattr(settings, name):
        raise SystemExit(f"--compare: no setting {name!r}")
    current = getattr(settings, name)
    if isinstance(current, bool):
        return name, value.lower() in ("1", "true", "yes")
    if current is not None:
        return name, type(current)(value)
    try:  # an optional setting, unset: a number if it reads as one
        return name, int(value)
    except ValueError:
        return name, value


async def share_collections(app: Any, clients: list[Any], owners: list[str], n: int,
                            private: float = 0.0) -> None:
    """Owners 1..n: a collection each, holding all their documents (all but the `private` share,
    which stays in their private space), with owner 0 as a viewer. The documents are moved in SQL
    (the API moves one document per request; the effect is the same row update), the collection
    and membership go through the API."""
    from sqlalchemy import select, update

    from app.documents.models import Document

    container = app.state.container
    for i in range(1, n + 1):
        r = await clients[i].post("/api/v1/collections", json={"name": f"Knowledge base {i}"})
        if r.status_code != 201:
            raise SystemExit(f"create collection failed: {r.status_code} {r.text}")
        coll = r.json()["id"]
        async with container.sessions() as session:
            ids = sorted((await session.execute(
                select(Document.id).where(Document.owner_id == owners[i]))).scalars())
            kept = ids[: round(len(ids) * private)]
            await session.execute(update(Document).where(Document.owner_id == owners[i],
                                                         Document.id.not_in(kept))
                                  .values(collection_id=coll))
            await session.commit()
        r = await clients[i].put(f"/api/v1/collections/{coll}/members",
                                 json={"user_id": owners[0], "role": "viewer"})
        if r.status_code != 200:
            raise SystemExit(f"share failed: {r.status_code} {r.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=20, help="copies of SciFact, one per user")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--shared", type=int, default=0,
                        help="the reader can read N collections of other owners (issue #10)")
    parser.add_argument("--private", type=float, default=0.0,
                        help="with --shared: the share of each sharing owner's documents kept "
                             "private (the reader's partitions are then narrowed to the rest)")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--unmerged", action="store_true",
                        help="leave SQLite's keyword index in the segments the corpus load wrote, "
                             "instead of merged as the embedded job runner leaves it when idle")
    parser.add_argument("--docs", type=int, default=0,
                        help="only the first N abstracts per owner (a smaller, quicker run)")
    parser.add_argument("--compare", metavar="SETTING=VALUE",
                        help="A/B in one run: every measured query asked twice, as configured and "
                             "with this setting changed (e.g. keyword_statements=1), alternating "
                             "which goes first")
    parser.add_argument("--gc-stats", action="store_true",
                        help="time the cycle collector's passes during the HTTP searches, by generation")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the event loop's thread (server and client) over the "
                             "measured requests into FILE (read with python -m pstats); the "
                             "profiler's overhead inflates the latencies of that run")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the corpus even if the bench cache holds a copy")
    args = parser.parse_args()
    r = asyncio.run(run(args))

    print(f"\n{r['database']}; reader sees {r['reader_chunks']} chunks "
          f"({r['shared_collections']} shared collections); load average after "
          f"{r['loadavg_after']}")
    print(f"\n{r['chunks_total']} chunks ({r['owners']} owners x {r['chunks_per_owner']}), "
          f"{r['queries']} queries, k={r['k']}, candidates={r['candidates']}; loaded in {r['load_s']} s; "
          f"load average before {r['loadavg_before']}\n")
    rows = [["POST /api/v1/search (HTTP, client-side)", *_cols(r["http_search_ms"])]]
    if r["compared"]:
        rows.append([f"  the same, {r['compared']['setting']}", *_cols(r["compared"]["http_search_ms"])])
    if r["own_only_http_search_ms"]:
        rows.append(["  same queries, an owner who shares nothing (reference)",
                     *_cols(r["own_only_http_search_ms"])])
    rows += [[f"retrieve(): {k}", *_cols(v)] for k, v in r["retrieve_stages_ms"].items()]
    if r["own_only_http_search_ms"]:
        ratio = {p: round(r["http_search_ms"][p] / r["own_only_http_search_ms"][p], 2)
                 for p in ("p50", "p95", "p99")}
        r["reader_over_reference"] = ratio
        rows.append(["  reader / reference (x)", "", ratio["p50"], ratio["p95"], ratio["p99"]])
    rows += [[f"raw Chroma query, {k}", *_cols(v)] for k, v in r["raw_chroma_ms"].items()]
    c.print_table(["measure", "n", "p50 ms", "p95 ms", "p99 ms"], rows)
    if r["gc_during_http_searches"]:
        g = r["gc_during_http_searches"]
        print("\ncollector during the HTTP searches: " + "; ".join(
            f"{k}: {v['n']} passes, {v['total_ms']} ms in all, longest {v['max_ms']} ms"
            for k, v in g.items() if k.startswith("gen"))
            + f"; {g['frozen_objects']} objects frozen, {g['tracked_objects']} tracked; "
            f"one full pass after them {g['full_pass_ms']} ms")
    c.emit_json("search_latency", r)


def _cols(s: dict[str, float]) -> list[Any]:
    return [s["n"], s["p50"], s["p95"], s["p99"]]


if __name__ == "__main__":
    main()
