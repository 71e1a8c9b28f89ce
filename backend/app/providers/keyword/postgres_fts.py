"""Keyword search on PostgreSQL: BM25 over the postings migration 0011 maintains.

Relies on the schema of migrations 0003, 0011, 0012, 0015, 0017 and 0019 (alembic/versions/):
``chunks.tsv`` is the generated column ``setweight(to_tsvector('english', words(heading path)), 'A') ||
setweight(to_tsvector('english', words(text || ' ' || index_terms)), 'D')`` (``index_terms``: the
parts of the text's identifiers), where words() replaces every run of
non-alphanumeric characters by a space, as FTS5's unicode61 tokenizer and `query_terms` split
("IL-6" is ``il`` + ``6``, "3.5" is ``3`` + ``5``); from it, triggers keep ``keyword_postings`` (one row
per chunk and distinct lexeme: occurrences in the heading path and in the text, the chunk's length
in tokens; primary key ``(owner_id, lexeme, chunk_id)``) and ``keyword_stats`` (chunks and tokens
per document). The ``'english'`` configuration here (stemming, its own stop words) must be the one
that column is built with.

The score is Okapi BM25, like FTS5's ``bm25()`` on SQLite, with every statistic taken **within the
search's scope** (the owner, and the documents the scope names or excludes): N and the average
length from ``keyword_stats``, each term's document frequency from the postings the query reads.
A search reads only the postings of its own terms, never the chunks' text. A search over several
scopes (a reader's owner partitions) is one statement in which each scope (``part``, its owner)
keeps its own statistics; the scores are merged by the final ORDER BY. Each step is a CTE read
once, joined by hashing (see `_SETTINGS`): postings, document frequencies per part and lexeme,
then one weight row per part and lexeme joined to every posting. When every scope is an owner
searched whole or a set of the owner's spaces (`KeywordScope.spaces`), the triggers already hold
those statistics (0017: ``keyword_owner_stats``, ``keyword_lexeme_stats``; 0019, per space:
``keyword_space_stats``, ``keyword_space_lexemes``): the weights are read from them first, and
each weight row then finds its own postings by key and adds them up (`_KEPT_SQL`). A scope
narrowed to some documents reads each posting's document off its chunk id, which starts with it
(``{document_id}:{version}:{n}``, `app.documents.vectors.chunk_id`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.providers.keyword.base import (
    KeywordHit,
    KeywordScope,
    check_dialect,
    query_terms,
    scope_list,
)

# k1 and b are the usual BM25 constants (FTS5's too). A query word found in a chunk's heading path
# weighs 3x one found in its text (BM25F-style, the same weight as FTS5's, chosen on SciFact train;
# docs/benchmarks.md §2). The IDF is Lucene's ln(1 + (N - df + 0.5) / (df + 0.5)): positive even
# for a word in most chunks of a small scope, where FTS5's form would go to zero.
K1, B, HEADING_WEIGHT = 1.2, 0.75, 3.0

# Each chunk's BM25 score: the sum over its postings (h) of their terms' weights (w).
_POSTING_SCORE = "w.idf * h.tf * (w.k1 + 1) / (h.tf + w.k1 * (1 - w.b + w.b * h.length / w.avgdl))"
_RANKING = f"SELECT h.chunk_id, sum({_POSTING_SCORE}) AS score"
_SQL = """
WITH stats AS MATERIALIZED (
{stats}
), hits AS MATERIALIZED (
{hits}
), weights AS MATERIALIZED (
    SELECT d.part, d.lexeme,
           ln(1.0 + (greatest(s.n, d.df) - d.df + 0.5) / (d.df + 0.5)) AS idf,
           CAST(:k1 AS float8) AS k1, CAST(:b AS float8) AS b, greatest(s.avgdl, 1.0) AS avgdl
    FROM (SELECT part, lexeme, count(*) AS df FROM hits GROUP BY part, lexeme) d
         JOIN stats s ON s.part = d.part
)
{ranking}
FROM hits h JOIN weights w ON w.part = h.part AND w.lexeme = h.lexeme
GROUP BY h.chunk_id ORDER BY score DESC, h.chunk_id LIMIT :limit
"""
# Every scope's statistics kept by the triggers: owners searched whole (the common case: an
# owner's own documents, a reader of collections that hold all of an owner's documents) read N,
# the average length and every document frequency from the per-owner statistics of migration 0017;
# a scope that is exactly some of an owner's spaces (`KeywordScope.spaces`) sums those of its
# spaces (0019). A few rows by primary key, one per scope and term; each reads its own postings
# (`_KEPT_HITS`), weighted as they come, and only the sums are grouped. The same values and the
# same expressions, summed in the same order (a chunk's terms in lexeme order, as the index
# returns them to `_SQL`), as `_SQL`: the same scores to the last bit.
_KEPT_SQL = """
WITH weights AS MATERIALIZED (
{weights}
    ORDER BY part, lexeme
)
SELECT s.chunk_id, sum(s.posting_score) AS score
FROM (
{hits}
) s
GROUP BY s.chunk_id ORDER BY score DESC, s.chunk_id LIMIT :limit
"""
# One branch of `_KEPT_SQL`: for each weight row of the branch's scopes, in order, the postings
# of that owner and term, found by the primary key (a nested loop: `OFFSET 0` keeps the subquery
# apart, so the planner cannot turn it back into a hash join of every posting against the
# weights, with which the statement took 36 % longer: docs/benchmarks.md §5b, 2026-12-06).
_KEPT_HITS = """    SELECT h.chunk_id, {score} AS posting_score
    FROM weights w CROSS JOIN LATERAL (
        SELECT p.chunk_id,
               (CAST(:heading_weight AS float8) * p.tf_heading + p.tf_text)::float8 AS tf,
               p.length::float8 AS length
        FROM keyword_postings p
        WHERE p.owner_id = w.part AND p.lexeme = w.lexeme{hits_scope}
        OFFSET 0) h
    WHERE w.part {part}"""
_WHOLE_WEIGHTS = """    SELECT k.owner_id AS part, k.lexeme,
           ln(1.0 + (greatest(o.chunks::float8, k.chunks) - k.chunks + 0.5) / (k.chunks + 0.5))
             AS idf,
           CAST(:k1 AS float8) AS k1, CAST(:b AS float8) AS b,
           greatest(coalesce(o.length::float8 / nullif(o.chunks, 0), 1.0), 1.0) AS avgdl
    FROM keyword_lexeme_stats k JOIN keyword_owner_stats o ON o.owner_id = k.owner_id
    WHERE k.owner_id = ANY(:owners) AND k.lexeme = ANY(:lexemes) AND k.chunks > 0"""
# One scope of spaces (:s<i>) of one owner (:o<i>): `_STATS` and the grouped document
# frequencies of `_SQL`, summed over the spaces' kept rows instead.
_SPACE_WEIGHTS = """    SELECT CAST(:o{i} AS varchar) AS part, k.lexeme,
           ln(1.0 + (greatest(s.n, k.df) - k.df + 0.5) / (k.df + 0.5)) AS idf,
           CAST(:k1 AS float8) AS k1, CAST(:b AS float8) AS b, greatest(s.avgdl, 1.0) AS avgdl
    FROM (SELECT lexeme, sum(chunks) AS df FROM keyword_space_lexemes
          WHERE owner_id = :o{i} AND space = ANY(CAST(:s{i} AS varchar[]))
            AND lexeme = ANY(:lexemes)
          GROUP BY lexeme) k
    CROSS JOIN (SELECT sum(chunks)::float8 AS n,
                       coalesce(sum(length)::float8 / nullif(sum(chunks), 0), 1.0) AS avgdl
                FROM keyword_space_stats
                WHERE owner_id = :o{i} AND space = ANY(CAST(:s{i} AS varchar[]))) s
    WHERE k.df > 0 AND s.n IS NOT NULL"""
# `part` is the scope's owner (one scope per owner): its own N and average length, its own
# postings. The owners searched whole share one branch (one index scan for all of them, one plan
# whatever their number); a scope narrowed to some documents gets a branch of its own (:o<i>).
_STATS = """    SELECT owner_id AS part, sum(chunks)::float8 AS n,
           coalesce(sum(length)::float8 / nullif(sum(chunks), 0), 1.0) AS avgdl
    FROM keyword_stats
    WHERE owner_id = :o{i} AND {negate}(document_id = ANY(CAST(:d{i} AS varchar[])))
    GROUP BY owner_id"""
# The whole owners' statistics, one index-only aggregate per owner (summing all of them in one
# scan filtered by `= ANY` took twice as long: every row compared with every owner).
_WHOLE_STATS = """    SELECT o.part, s.n, s.avgdl
    FROM unnest(CAST(:owners AS varchar[])) AS o(part) CROSS JOIN LATERAL (
        SELECT sum(chunks)::float8 AS n,
               coalesce(sum(length)::float8 / nullif(sum(chunks), 0), 1.0) AS avgdl
        FROM keyword_stats WHERE owner_id = o.part) AS s
    WHERE s.n IS NOT NULL"""
_HITS = """    SELECT p.owner_id AS part, p.lexeme, p.chunk_id,
           (CAST(:heading_weight AS float8) * p.tf_heading + p.tf_text)::float8 AS tf,
           p.length::float8 AS length
    FROM keyword_postings p WHERE p.{owner} AND p.lexeme = ANY(:lexemes){hits_scope}"""
_NON_WORD = re.compile(r"\W")
# Planner settings for the ranking statement alone (set before it, put back after it, within the
# caller's transaction). Its row estimates cannot be right (how many postings a lexeme has in one
# owner, how many rows share a chunk), and wrong ones gave, untouched: grouping by sorting on disk
# within 4 MB, parallel workers for the small statistics scan, and nested loops that rescanned a
# CTE per row (47 s once). Every CTE is materialized and joined by hashing, whatever the
# estimates: each step then costs what its rows cost (docs/benchmarks.md §5b, 2026-11-30). The one
# nested loop left is `_KEPT_HITS`'s, which its lateral subquery leaves the planner no other way
# to run: a key lookup per weight row, never a rescan.
_SETTINGS = {"work_mem": "64MB", "max_parallel_workers_per_gather": "0", "jit": "off",
             "plan_cache_mode": "force_custom_plan", "enable_nestloop": "off",
             "enable_mergejoin": "off", "enable_sort": "off"}
# One round trip: the old values (the CTE runs first), the new ones, and the query's lexemes.
_SWAP = text(
    "WITH old AS MATERIALIZED (SELECT "  # noqa: S608 (fixed setting names only)
    + ", ".join(f"current_setting('{k}') AS {k}" for k in _SETTINGS)
    + ") SELECT old.*, "
    + "".join(f"set_config('{k}', :{k}, true), " for k in _SETTINGS)
    + "tsvector_to_array(to_tsvector('english', :words)) FROM old")
_RESTORE = text("SELECT " + ", ".join(f"set_config('{k}', :{k}, true)" for k in _SETTINGS))


def _statement(scopes: Sequence[KeywordScope], *, kept: bool = True
               ) -> tuple[TextClause, dict[str, object]]:
    """BM25 over the union of `scopes` in one statement: every statistic (N, average length,
    document frequency) is computed per scope, exactly as a search of that scope alone. With
    `kept`, and every scope an owner searched whole or a scope of spaces, from the statistics the
    triggers keep (`_KEPT_SQL`)."""
    whole = [sc.owner_id for sc in scopes if sc.whole]
    narrowed = [(i, sc) for i, sc in enumerate(scopes) if not sc.whole]
    kept = kept and all(sc.spaces is not None for _, sc in narrowed)
    params: dict[str, object] = {}
    hits: list[str] = []  # one branch per statement part: the whole owners, each narrowed scope
    if whole:
        params["owners"] = whole
        hits.append(_KEPT_HITS.format(score=_POSTING_SCORE, part="= ANY(:owners)", hits_scope="")
                    if kept else _HITS.format(owner="owner_id = ANY(:owners)", hits_scope=""))
    for i, sc in narrowed:
        ids = sc.document_ids if sc.document_ids is not None else sc.exclude_document_ids
        assert ids is not None
        op = "= ANY" if sc.document_ids is not None else "<> ALL"
        params[f"o{i}"] = sc.owner_id
        # One array parameter, not a placeholder per id: a reader's partitions may name
        # thousands of documents (docs/benchmarks.md §5b).
        params[f"d{i}"] = sorted(ids)
        # Only fixed SQL and numbered placeholders are formatted in; every value is bound.
        # A posting's document is read off its chunk id (`app.documents.vectors.chunk_id`) and
        # looked up in the list hashed: looking the listed documents' chunks up first took most
        # of a narrowed branch's time (docs/benchmarks.md §5b).
        in_list = f"split_part(p.chunk_id, ':', 1) {op}(CAST(:d{i} AS varchar[]))"
        hits.append(_KEPT_HITS.format(score=_POSTING_SCORE, part=f"= :o{i}",
                                      hits_scope=f" AND {in_list}")
                    if kept else
                    _HITS.format(owner=f"owner_id = :o{i}", hits_scope=f"\n      AND {in_list}"))
    union = "\n    UNION ALL\n"
    if kept:
        weights = [_WHOLE_WEIGHTS] if whole else []
        for i, sc in narrowed:
            assert sc.spaces is not None
            params[f"s{i}"] = sorted(sc.spaces)
            weights.append(_SPACE_WEIGHTS.format(i=i))
        return text(_KEPT_SQL.format(weights=union.join(weights),
                                     hits=union.join(hits))), params
    stats = [_WHOLE_STATS] if whole else []
    stats += [_STATS.format(i=i, negate="" if sc.document_ids is not None else "NOT ")
              for i, sc in narrowed]
    return text(_SQL.format(ranking=_RANKING, stats=union.join(stats),
                            hits=union.join(hits))), params


@dataclass(frozen=True, slots=True)
class Ready:
    """`prepare`'s result: the query's words and lexemes, and the transaction in which the
    planner settings were made (they last until it ends)."""

    words: str
    lexemes: list[str]
    transaction: object


def _words(query: str) -> str:
    # Only word characters reach to_tsvector (which has no syntax anyway); PostgreSQL's
    # 'english' configuration then stems them and drops its own stop words.
    return " ".join(w for w in (_NON_WORD.sub("", t) for t in query_terms(query)) if w)


class PostgresKeywordIndex:
    # Each statement runs in a server process of its own: two halves of a reader's owners
    # overlap (p95 −14 to −17 % for a reader of 11 owners, docs/benchmarks.md §5b).
    side_by_side = 2

    async def prepare(self, session: AsyncSession, query: str) -> Ready | None:
        """The ranking's planner settings, made for the rest of `session`'s transaction, and the
        query's lexemes. Retrieval readies its keyword session this way while the access rule
        decides the scopes; `search(prepared=)` on that session is then its ranking statement
        alone (the settings are not put back: the session is the search's own, and its
        transaction's end drops them). The statistics here need no preparing: they are the
        scopes' own (migrations 0017, 0019)."""
        check_dialect(session, "postgresql")
        words = _words(query)
        if not words:
            return None
        applied = (await session.execute(_SWAP, _SETTINGS | {"words": words})).one()
        return Ready(words=words, lexemes=list(applied[-1]), transaction=session.get_transaction())

    async def compact(self, session: AsyncSession, *, pages: int) -> bool:
        """Nothing to merge: the postings are a btree, kept by PostgreSQL itself."""
        del session, pages
        return True

    async def search(
        self, session: AsyncSession, scope: KeywordScope | Sequence[KeywordScope], query: str, *,
        limit: int, exhaustive: bool = False, from_postings: bool = False,
        prepared: object | None = None
    ) -> list[KeywordHit]:
        """`from_postings`: every statistic computed from the postings read, as for a scope
        narrowed to listed documents, even for owners searched whole and scopes of spaces (tests:
        the kept statistics give the same scores)."""
        # Every search here ranks every matching row: MaxScore pruning inside this statement did
        # not pay off on PostgreSQL (docs/benchmarks.md §5b, 2026-11-30 and 2026-12-01): the
        # planner's row estimates for the CTEs a pruned statement needs led it into nested loops
        # (15-30 s on some queries), and with a threshold from partial scores (one statement,
        # always exact) the extra passes over the postings cost more than the chunks not summed.
        del exhaustive
        check_dialect(session, "postgresql")
        scopes = scope_list(scope)
        words = _words(query)
        if not words or not scopes:
            return []
        ready = prepared if (isinstance(prepared, Ready) and prepared.words == words
                             and prepared.transaction is session.get_transaction()) else None
        # The query's lexemes ('english' stems, its stop words dropped) go in as constants, so
        # the planner estimates each one's postings from its statistics of that very lexeme.
        restore: dict[str, object] | None = None  # the settings to put back after the ranking
        if ready is not None:
            lexemes = ready.lexemes
        else:
            old = (await session.execute(_SWAP, _SETTINGS | {"words": words})).one()
            lexemes, restore = list(old[-1]), dict(zip(_SETTINGS, old[: len(_SETTINGS)],
                                                       strict=True))
        hits: list[KeywordHit] = []
        if lexemes:
            stmt, params = _statement(scopes, kept=not from_postings)
            params |= {"lexemes": lexemes, "limit": limit, "k1": K1, "b": B,
                       "heading_weight": HEADING_WEIGHT}
            hits = [(r[0], float(r[1])) for r in (await session.execute(stmt, params)).all()]
        # (A failed statement aborts the transaction, whose rollback drops these settings too.)
        if restore is not None:
            await session.execute(_RESTORE, restore)
        return hits
