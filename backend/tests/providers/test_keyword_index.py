"""One contract suite for every KeywordIndex: SQLite FTS5 and PostgreSQL full text, each on a
schema built by the real migrations and picked the way `app.bootstrap` picks it (by dialect).

Covers owner isolation, document scopes, the index following chunk writes (a new version replaces
the old one), ranking (heading field weighted above body text), stop words, and hostile query text.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, event, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.auth.models import User
from app.bootstrap import build_keyword_index
from app.documents.models import Chunk, Document
from app.documents.repository import replace_chunks
from app.providers.keyword import KeywordIndex, KeywordScope, query_terms
from app.providers.keyword.base import merge_hits, split_scopes
from app.providers.keyword.postgres_fts import PostgresKeywordIndex
from app.providers.keyword.pruning import certain_top, essential_count, threshold_of
from app.providers.keyword.sqlite_fts5 import SqliteFts5KeywordIndex, owner_key

FILLER = "The committee reviewed several unrelated budget items during the meeting."


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_database" if request.param == "sqlite" else "pg_database"))


@asynccontextmanager
async def open_session(url: str) -> AsyncIterator[AsyncSession]:
    """A session on its own engine, disposed of after."""
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            yield s
    finally:
        await engine.dispose()


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    async with open_session(database_url) as s:
        yield s


@pytest.fixture
def index(session: AsyncSession) -> KeywordIndex:
    return build_keyword_index(session.get_bind().dialect.name)


@dataclass
class Doc:
    owner: str
    id: str
    chunks: list[str]


async def add_owner(session: AsyncSession, owner_id: str | None = None) -> str:
    owner = owner_id or str(uuid.uuid4())
    session.add(User(id=owner, email=f"{uuid.uuid4().hex}@example.com", password_hash="x"))
    await session.flush()
    return owner


async def add_doc(session: AsyncSession, owner: str, chunks: Sequence[tuple[list[str], str]],
                  version: int = 1) -> Doc:
    doc = str(uuid.uuid4())
    session.add(Document(id=doc, owner_id=owner, filename="f.txt", mime_type="text/plain",
                         kind="text", size_bytes=1, content_hash=doc, storage_key=doc,
                         status="ready", version=version))
    await session.flush()
    await replace_chunks(session, doc, chunk_rows(doc, owner, chunks, version))
    await session.commit()
    return Doc(owner, doc, [f"{doc}:{version}:{n}" for n in range(len(chunks))])


def chunk_rows(doc: str, owner: str, chunks: Sequence[tuple[list[str], str]], version: int
               ) -> list[dict[str, object]]:
    return [{"id": f"{doc}:{version}:{n}", "document_id": doc, "owner_id": owner, "version": version,
             "n": n, "text": body, "page_start": 1, "page_end": 1, "char_start": 0,
             "char_end": len(body), "heading_path": heading, "token_count": 0}
            for n, (heading, body) in enumerate(chunks)]


async def ids(index: KeywordIndex, session: AsyncSession, scope: KeywordScope, query: str,
              limit: int = 50) -> list[str]:
    return [cid for cid, _ in await index.search(session, scope, query, limit=limit)]


def scope(owner: str, *docs: str) -> KeywordScope:
    return KeywordScope(owner_id=owner, document_ids=frozenset(docs) if docs else None)


def test_bootstrap_picks_the_index_by_dialect() -> None:
    assert isinstance(build_keyword_index("sqlite"), SqliteFts5KeywordIndex)
    assert isinstance(build_keyword_index("postgresql"), PostgresKeywordIndex)
    for impl in (SqliteFts5KeywordIndex(), PostgresKeywordIndex()):
        assert isinstance(impl, KeywordIndex)
    with pytest.raises(ValueError):
        build_keyword_index("mysql")


async def test_an_index_refuses_the_other_database(session: AsyncSession) -> None:
    other = (PostgresKeywordIndex() if session.get_bind().dialect.name == "sqlite"
             else SqliteFts5KeywordIndex())
    with pytest.raises(RuntimeError, match="needs"):
        await other.search(session, scope("someone"), "glaciers", limit=5)


async def test_owner_isolation(index: KeywordIndex, session: AsyncSession) -> None:
    alice, bob = await add_owner(session), await add_owner(session)
    a = await add_doc(session, alice, [([], "Glaciers retreat quickly."), (["Glaciers"], FILLER)])
    b = await add_doc(session, bob, [([], "Glaciers and glaciers again."), (["Glaciers"], "Ice.")])
    assert sorted(await ids(index, session, scope(alice), "glaciers")) == sorted(a.chunks)
    assert sorted(await ids(index, session, scope(bob), "glaciers")) == sorted(b.chunks)
    assert await ids(index, session, scope(str(uuid.uuid4())), "glaciers") == []
    # Naming bob's document in alice's scope finds nothing either.
    assert await ids(index, session, scope(alice, b.id), "glaciers") == []


async def test_owners_whose_fts_tokens_collide_stay_isolated(
        index: KeywordIndex, session: AsyncSession) -> None:
    # On SQLite both ids map to the same owner_key token (lower case, hyphens dropped): the token
    # only narrows the search, the owner_id condition keeps it correct.
    first = str(uuid.uuid4())
    second = first.replace("-", "").upper()
    assert owner_key(first) == owner_key(second)
    await add_owner(session, first)
    await add_owner(session, second)
    one = await add_doc(session, first, [([], "Tectonic plates drift apart.")])
    two = await add_doc(session, second, [([], "Tectonic plates collide.")])
    assert await ids(index, session, scope(first), "tectonic plates") == one.chunks
    assert await ids(index, session, scope(second), "tectonic plates") == two.chunks


async def test_document_scope(index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    docs = [await add_doc(session, owner, [([], f"Volcanic ash report number {n}.")])
            for n in range(3)]
    everything = sorted(c for d in docs for c in d.chunks)
    assert sorted(await ids(index, session, scope(owner), "volcanic ash")) == everything
    got = await ids(index, session, scope(owner, docs[0].id, docs[2].id), "volcanic ash")
    assert sorted(got) == sorted(docs[0].chunks + docs[2].chunks)
    assert await ids(index, session, scope(owner, docs[1].id), "volcanic") == docs[1].chunks
    assert await ids(index, session, scope(owner, str(uuid.uuid4())), "volcanic") == []


async def test_document_exclusion(index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    docs = [await add_doc(session, owner, [([], f"Glacier melt survey number {n}.")])
            for n in range(3)]
    outside = KeywordScope(owner_id=owner, exclude_document_ids=frozenset({docs[1].id}))
    got = await ids(index, session, outside, "glacier melt")
    assert sorted(got) == sorted(docs[0].chunks + docs[2].chunks)
    with pytest.raises(ValueError):
        KeywordScope(owner_id=owner, document_ids=frozenset({docs[0].id}),
                     exclude_document_ids=frozenset({docs[1].id}))


async def test_several_scopes_in_one_search(index: KeywordIndex, session: AsyncSession) -> None:
    # A reader's owner partitions searched at once: each row scores exactly as in its own scope's
    # search (each scope's own statistics), and the result is those searches merged and cut.
    first = str(uuid.uuid4())
    owners = [await add_owner(session, first), await add_owner(session),
              await add_owner(session, first.replace("-", "").upper())]  # same FTS5 token as first
    docs = [[await add_doc(session, o, [(["Coral reefs"] if n == 0 else [], body)
                                       for n, body in enumerate(bodies)])
             for bodies in (["Coral bleaching spreads on warm reefs.", "Reef fish counts."],
                            ["Coral spawning and coral larvae drift.", FILLER],
                            ["Warm water bleaching of coral.", "Reefs recover slowly."])]
            for o in owners]
    outsider = await add_owner(session)
    theirs = await add_doc(session, outsider, [(["Coral reefs"], "Coral bleaching on reefs.")])
    scopes = [KeywordScope(owner_id=owners[0]),
              KeywordScope(owner_id=owners[1], document_ids=frozenset({docs[1][0].id, docs[1][2].id})),
              KeywordScope(owner_id=owners[2], exclude_document_ids=frozenset({docs[2][1].id}))]
    query = "coral bleaching reefs warm"
    alone = sorted([hit for sc in scopes for hit in await index.search(session, sc, query, limit=50)],
                   key=lambda h: (-h[1], h[0]))
    assert len(alone) > 6
    for limit in (50, 5):
        together = await index.search(session, scopes, query, limit=limit)
        assert [cid for cid, _ in together] == [cid for cid, _ in alone[:limit]]
        assert [s for _, s in together] == pytest.approx([s for _, s in alone[:limit]])
    got = {cid for cid, _ in await index.search(session, scopes, query, limit=50)}
    assert not got & set(theirs.chunks)  # nobody outside the scopes
    assert not got & set(docs[1][1].chunks + docs[2][1].chunks)  # nor their left-out documents
    assert await index.search(session, [], query, limit=5) == []
    with pytest.raises(ValueError, match="one keyword scope per owner"):
        await index.search(session, [scope(owners[0]), scope(owners[0], docs[0][0].id)], query,
                           limit=5)


async def test_a_new_version_replaces_the_old_one(index: KeywordIndex, session: AsyncSession) -> None:
    # Chunk ids carry the version; re-processing replaces a document's rows (repository
    # `replace_chunks`), and the index follows: the old version's words are gone.
    owner = await add_owner(session)
    doc = await add_doc(session, owner, [(["Monsoon"], "Heavy rainfall in summer.")])
    await session.execute(update(Document).where(Document.id == doc.id).values(version=2))
    await replace_chunks(session, doc.id, chunk_rows(doc.id, owner, [([], "Drought in winter.")], 2))
    await session.commit()
    assert await ids(index, session, scope(owner), "monsoon rainfall summer") == []
    assert await ids(index, session, scope(owner), "drought") == [f"{doc.id}:2:0"]


async def test_index_follows_updates_and_deletes(index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    doc = await add_doc(session, owner, [(["Volcanoes"], "Lava flows slowly.")])
    await session.execute(update(Chunk).where(Chunk.id == doc.chunks[0])
                          .values(heading_path=["Earthquakes"], text="Faults slip."))
    await session.commit()
    assert await ids(index, session, scope(owner), "volcanoes lava") == []
    assert await ids(index, session, scope(owner), "earthquakes") == doc.chunks
    assert await ids(index, session, scope(owner), "faults") == doc.chunks
    await session.execute(delete(Chunk).where(Chunk.id == doc.chunks[0]))
    await session.commit()
    assert await ids(index, session, scope(owner), "earthquakes faults") == []


async def test_postgres_statistics_follow_chunk_writes(session: AsyncSession) -> None:
    # What BM25 reads on PostgreSQL (migration 0011's triggers): postings per chunk and lexeme,
    # chunk count and tokens per document, through insert, update and delete.
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the postings exist on PostgreSQL only")

    async def stats() -> tuple[object, ...]:
        row = (await session.execute(text(
            "SELECT (SELECT count(*) FROM keyword_postings WHERE owner_id = :o), "
            "(SELECT coalesce(sum(chunks), 0) FROM keyword_stats WHERE owner_id = :o), "
            "(SELECT coalesce(sum(length), 0) FROM keyword_stats WHERE owner_id = :o)"), {"o": owner})).one()
        return tuple(row)

    owner = await add_owner(session)
    doc = await add_doc(session, owner, [(["Glaciers"], "Glaciers retreat."), ([], "Ice melts.")])
    # glacier (heading + text), retreat, ice, melt; 3 + 2 tokens
    assert await stats() == (4, 2, 5)
    tf = (await session.execute(text(
        "SELECT tf_heading, tf_text, length FROM keyword_postings WHERE chunk_id = :c AND lexeme = 'glacier'"),
        {"c": doc.chunks[0]})).one()
    assert tuple(tf) == (1, 1, 3)
    await session.execute(update(Chunk).where(Chunk.id == doc.chunks[1]).values(text="Snow falls softly."))
    await session.commit()
    assert await stats() == (5, 2, 6)  # snow, fall, soft replace ice, melt
    await session.execute(delete(Chunk).where(Chunk.id == doc.chunks[0]))
    await session.commit()
    assert await stats() == (3, 1, 3)
    await session.execute(delete(Chunk).where(Chunk.document_id == doc.id))
    await session.commit()
    assert await stats() == (0, 0, 0)
    assert (await session.execute(text("SELECT count(*) FROM keyword_stats WHERE document_id = :d"),
                                  {"d": doc.id})).scalar_one() == 0


async def test_postgres_search_puts_its_planner_settings_back(
        index: KeywordIndex, session: AsyncSession) -> None:
    # The ranking statement runs with its own planner settings (postgres_fts._SETTINGS); the
    # caller's transaction gets its own values back, whether a search matched or not.
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("planner settings exist on PostgreSQL only")
    owner = await add_owner(session)
    await add_doc(session, owner, [(["Glaciers"], "Glaciers retreat.")])
    await session.execute(text("SET LOCAL work_mem = '5MB'"))
    names = "work_mem, enable_nestloop, enable_sort, jit, max_parallel_workers_per_gather"
    query = text("SELECT " + ", ".join(f"current_setting('{n}')" for n in names.split(", ")))
    before = tuple((await session.execute(query)).one())
    assert before[0] == "5MB"
    for words in ("glaciers", "the", "moraines"):  # a match, only stop words, no match
        await index.search(session, scope(owner), words, limit=3)
        assert tuple((await session.execute(query)).one()) == before
    assert await ids(index, session, scope(owner), "glaciers")


async def test_heading_match_outranks_body_match(index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    # The short body chunk would win if heading and text were one field (0002's index).
    doc = await add_doc(session, owner, [
        ([], "Glaciers retreat quickly now."),
        (["Glaciers"], FILLER),
        (["Café résumé"], FILLER),
        *[(["Minutes"], FILLER)] * 5,
    ])
    assert await ids(index, session, scope(owner), "glaciers") == [doc.chunks[1], doc.chunks[0]]
    assert doc.chunks[2] in await ids(index, session, scope(owner), "café")
    if session.get_bind().dialect.name == "sqlite":  # unicode61 folds diacritics; PostgreSQL keeps them
        assert doc.chunks[2] in await ids(index, session, scope(owner), "cafe resume")


async def test_stemming_and_more_matched_terms_rank_higher(
        index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    doc = await add_doc(session, owner, [
        ([], "Migrating birds cross the desert."),
        ([], "The bird rested on the fence before the storm arrived in the valley."),
        ([], "Nothing relevant here at all, only filler words for the index."),
    ])
    # "migration birds" matches "Migrating" and "birds"/"bird" by their stems; the chunk with
    # both terms ranks first.
    assert await ids(index, session, scope(owner), "migration birds") == doc.chunks[:2]


async def test_words_split_at_punctuation_like_fts5(index: KeywordIndex, session: AsyncSession) -> None:
    # PostgreSQL's parser alone keeps "3.5", "mg/kg", "BRCA1/2" whole and reads the "-6" of
    # "IL-6" as a negative number; query words are split at every non-alphanumeric character,
    # so the index must split the same way (migration 0012) for them to meet.
    owner = await add_owner(session)
    doc = await add_doc(session, owner, [
        (["IL-6 signalling"], "Serum levels rose 3.5-fold at 0.05 mg/kg in BRCA1/2 carriers."),
        ([], FILLER),
    ])
    for query in ("IL 6", "il-6", "fold", "kg dose", "brca1", "5 fold"):
        assert await ids(index, session, scope(owner), query) == doc.chunks[:1], query


async def test_rare_terms_weigh_more(index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    # The aardvark chunk is the longest and sorts last by id: only its rarer term can lift it.
    chunks = [([], f"Common ground number {n}.") for n in range(7)]
    doc = await add_doc(session, owner, [
        *chunks, ([], "An aardvark digs burrows in the dry savanna at night, hunting termites.")])
    assert (await ids(index, session, scope(owner), "common aardvark"))[0] == doc.chunks[7]


async def test_scores_best_first_ties_by_id_and_limit(index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    doc = await add_doc(session, owner, [([], "Identical tundra sentence.")] * 6)
    found = await index.search(session, scope(owner), "tundra", limit=4)
    assert [cid for cid, _ in found] == sorted(doc.chunks)[:4]
    assert all(isinstance(s, float) and s > 0 for _, s in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


async def test_queries_without_usable_words(index: KeywordIndex, session: AsyncSession) -> None:
    owner = await add_owner(session)
    doc = await add_doc(session, owner, [([], "To be or not to be, that is the question.")])
    for query in ("", "   ", "?!", "... --- ...", "_"):
        assert await index.search(session, scope(owner), query, limit=10) == []
    # A query of stop words only: query_terms falls back to the words themselves (behaviour kept
    # from before the provider split). PostgreSQL's 'english' configuration drops them from both
    # the document and the query, so nothing matches; FTS5 indexes every word, so they match.
    assert query_terms("to be or not to be") == ["to", "be", "or", "not"]
    expected = doc.chunks if session.get_bind().dialect.name == "sqlite" else []
    assert await ids(index, session, scope(owner), "to be or not to be") == expected


@pytest.mark.parametrize("query", [
    'glaciers" OR "minutes',
    "glaciers' OR 1=1; DROP TABLE chunks; --",
    "glaciers) OR (owner_key : *",
    'owner_key : "u0" OR glaciers',
    "glaciers NEAR(glaciers minutes) AND NOT minutes*",
    "glaciers & !minutes | (ice:* <-> snow)",
    "glaciers:A & ice:*B",
    "\\glaciers\\ % _ ^ {glaciers} [glaciers] $1 @@ @> ::tsquery",
    "GLACIERS\x00\t\n" + "glaciers " * 200,
    "glaciers " + " ".join(f"w{n}" for n in range(100)),
])
async def test_hostile_query_text(index: KeywordIndex, session: AsyncSession, query: str) -> None:
    owner, other = await add_owner(session), await add_owner(session)
    doc = await add_doc(session, owner, [(["Glaciers"], FILLER), ([], "Minutes of the meeting.")])
    theirs = await add_doc(session, other, [(["Glaciers"], "Minutes and glaciers.")])
    got = await ids(index, session, scope(owner), query)
    assert doc.chunks[0] in got  # the query still means "glaciers OR ..." and nothing else
    assert set(got) <= set(doc.chunks)
    assert not set(got) & set(theirs.chunks)
    # The statement ran as a query: the table and the other owner's rows are intact.
    assert await ids(index, session, scope(other), "glaciers") == theirs.chunks


async def test_sqlite_owner_token_matches_migration_0004(session: AsyncSession) -> None:
    # The tie between `owner_key()` and the triggers' _OWNER_KEY expression in migration 0004.
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the owner token exists on SQLite only")
    owner = await add_owner(session, str(uuid.uuid4()).upper())
    doc = await add_doc(session, owner, [([], "Token check.")])
    stored = (await session.execute(text("SELECT owner_key FROM chunks_fts WHERE chunk_id = :c"),
                                    {"c": doc.chunks[0]})).scalar_one()
    assert stored == owner_key(owner)


# ---- top-k pruning (app/providers/keyword/pruning.py): always the exhaustive ranking's result ----

# Made-up words, so their frequencies are only what the generator gives them; drawn with Zipf-like
# weights: a few words in most chunks (the terms pruning skips), most of them rare.
VOCABULARY = [f"{a}{b}{c}" for a, b, c in zip(
    "bdfgklmnprstvz" * 5, "aeiou" * 14, "rnsltmdkgpbvzx" * 5, strict=False)][:60]
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]


def random_text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(low, high)))


async def random_corpus(session: AsyncSession, rng: random.Random, owners: int, docs: int
                        ) -> list[list[Doc]]:
    corpus: list[list[Doc]] = []
    for _ in range(owners):
        owner = await add_owner(session)
        corpus.append([await add_doc(session, owner, [
            ([random_text(rng, 1, 3)] if rng.random() < 0.4 else [], random_text(rng, 3, 40))
            for _ in range(rng.randint(1, 8))]) for _ in range(docs)])
    return corpus


def insert_chunk(writer: Any, doc: Doc, n: int, text: str) -> None:
    """A chunk written by another connection (`sqlite3`), as a concurrent worker would."""
    writer.execute(
        "INSERT INTO chunks (id, document_id, owner_id, version, n, text, page_start, "
        "page_end, char_start, char_end, heading_path, token_count) "
        "VALUES (?, ?, ?, 1, ?, ?, 1, 1, 0, 1, '[]', 0)",
        (f"{doc.id}:1:{n}", doc.id, doc.owner, n, text))


def random_query(rng: random.Random) -> str:
    # Mostly corpus words (uniformly: rare ones too), sometimes a word no chunk has.
    words = [rng.choice(VOCABULARY) if rng.random() < 0.9 else f"absent{rng.randint(0, 9)}"
             for _ in range(rng.randint(1, 12))]
    return " ".join(words)


@contextmanager
def statements(session: AsyncSession) -> Iterator[list[tuple[str, Any]]]:
    """The SQL (and parameters) the session sends while the block runs."""
    seen: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def pruned(session: AsyncSession, sent: list[tuple[str, Any]]) -> bool:
    """Whether every ranking statement of a SQLite search skipped rows holding only common
    terms (PostgreSQL always ranks every matching row)."""
    # The MATCH expressions that name the owners: a pruned one names them twice, the second time
    # OR-ed with the terms that are not required.
    matches = [p for _, params in sent for p in params
               if isinstance(p, str) and p.startswith("owner_key")]
    return bool(matches) and all(m.count("owner_key") == 2 for m in matches)


@pytest.mark.parametrize("seed", [1, 2])
async def test_pruned_search_equals_the_exhaustive_ranking(
        index: KeywordIndex, session: AsyncSession, seed: int) -> None:
    # Randomized corpora and queries, one owner, several owners, narrowed and excluding scopes,
    # small and large limits: the same ids in the same order with the same scores, to the bit.
    rng = random.Random(seed)
    corpus = await random_corpus(session, rng, owners=4, docs=6)
    owners = [docs[0].owner for docs in corpus]
    scope_sets = [
        [KeywordScope(owner_id=owners[0])],
        [KeywordScope(owner_id=o) for o in owners],
        [KeywordScope(owner_id=owners[0], document_ids=frozenset(d.id for d in corpus[0][:3])),
         KeywordScope(owner_id=owners[1], exclude_document_ids=frozenset(d.id for d in corpus[1][:2])),
         KeywordScope(owner_id=owners[2])],
        [KeywordScope(owner_id=owners[3], document_ids=frozenset({corpus[3][-1].id}))],
    ]
    pruned_only = compared = 0
    for _ in range(25):
        query = random_query(rng)
        for scopes in scope_sets:
            for limit in (1, 4, 15):
                with statements(session) as sent:
                    got = await index.search(session, scopes, query, limit=limit)
                full = await index.search(session, scopes, query, limit=limit, exhaustive=True)
                assert got == full, (query, limit)
                compared += bool(full)
                pruned_only += bool(full) and pruned(session, sent)
                # And it is each scope's own ranking, merged (last-bit differences aside: the
                # terms may be summed in another order).
                alone = sorted([h for sc in scopes
                                for h in await index.search(session, sc, query, limit=limit)],
                               key=lambda h: (-h[1], h[0]))[:limit]
                assert [s for _, s in got] == pytest.approx([s for _, s in alone], rel=1e-12)
                cut = got[-1][1] + 1e-9 if got else 0.0
                assert {c for c, s in got if s > cut} == {c for c, s in alone if s > cut}
    assert compared > 100
    if session.get_bind().dialect.name == "sqlite":
        # The comparison is only worth something if many searches did prune (PostgreSQL ranks
        # every matching row: app/providers/keyword/postgres_fts.py).
        assert pruned_only > compared / 4, (pruned_only, compared)


async def test_pruning_with_a_narrow_scope_of_a_large_owner(
        index: KeywordIndex, session: AsyncSession) -> None:
    # The best rows by score are all outside the scope (SQLite ranks by the owner's token first
    # and checks the documents after): the result is still the scope's best, exactly.
    owner = await add_owner(session)
    strong = [await add_doc(session, owner, [(["Basalt"], "Basalt basalt basalt columns.")])
              for _ in range(40)]
    weak = await add_doc(session, owner, [([], FILLER + " Basalt columns and " + FILLER),
                                          ([], "Columns of " + FILLER)])
    inside = KeywordScope(owner_id=owner, document_ids=frozenset({weak.id}))
    outside = KeywordScope(owner_id=owner, exclude_document_ids=frozenset(d.id for d in strong))
    for sc in (inside, outside):
        for limit in (1, 2, 5):
            got = await index.search(session, sc, "basalt columns", limit=limit)
            assert got == await index.search(session, sc, "basalt columns", limit=limit,
                                             exhaustive=True)
            assert [cid for cid, _ in got] == weak.chunks[:limit]


async def test_searches_of_split_scopes_merge_to_the_search_of_all(
        index: KeywordIndex, session: AsyncSession) -> None:
    # Retrieval searches a reader's owner partitions as a few statements side by side
    # (`split_scopes`) and merges them: the same ids, order and scores, to the bit, as one search.
    rng = random.Random(7)
    corpus = await random_corpus(session, rng, owners=7, docs=4)
    owners = [docs[0].owner for docs in corpus]
    whole = [KeywordScope(owner_id=o) for o in owners]
    mixed = [*whole[:4],
             KeywordScope(owner_id=owners[4], document_ids=frozenset(d.id for d in corpus[4][:2])),
             KeywordScope(owner_id=owners[5], exclude_document_ids=frozenset({corpus[5][0].id})),
             whole[6]]
    assert [len(g) for g in split_scopes(whole, 3)] == [3, 2, 2]
    assert [len(g) for g in split_scopes(whole[:3], 2)] == [3]  # never a lone scope
    assert split_scopes(whole[:1], 4) == [whole[:1]]
    compared = 0
    for _ in range(20):
        query = random_query(rng)
        for scopes in (whole, mixed):
            for limit in (1, 6, 40):
                full = await index.search(session, scopes, query, limit=limit)
                for ways in (2, 3):
                    groups = split_scopes(scopes, ways)
                    assert sorted(s.owner_id for g in groups for s in g) == sorted(owners)
                    merged = merge_hits([await index.search(session, g, query, limit=limit)
                                         for g in groups], limit)
                    assert merged == full, (query, limit, ways)
                compared += bool(full)
    assert compared > 60


async def test_ties_at_the_edge_of_a_window_are_broken_by_chunk_id(
        index: KeywordIndex, session: AsyncSession) -> None:
    # 20 identical chunks (same score), in documents whose random ids do not follow insertion
    # order: whichever tied rows a first, small window keeps, the result is the lowest ids.
    owner = await add_owner(session)
    docs = [await add_doc(session, owner, [(["Moraine"], "Moraine ridges of gravel.")])
            for _ in range(20)]
    everything = sorted(c for d in docs for c in d.chunks)
    for limit in (1, 2, 3, 7):
        got = await index.search(session, scope(owner), "moraine gravel", limit=limit)
        assert [cid for cid, _ in got] == everything[:limit]
        assert got == await index.search(session, scope(owner), "moraine gravel", limit=limit,
                                         exhaustive=True)


def is_statistics(sql: str) -> bool:
    """A SQLite statement reading the terms' statistics (the index's state, then term counts)."""
    return sql.startswith("SELECT (SELECT block FROM chunks_fts_data")


def statistics_read(sent: list[tuple[str, Any]]) -> int:
    return sum(is_statistics(sql) for sql, _ in sent)


async def test_sqlite_statistics_read_before_a_concurrent_write_are_not_trusted(
        session: AsyncSession, database_url: str) -> None:
    # SQLite reads outside a transaction: another connection commits between the statistics and
    # the ranking (here: rows that change N and the terms' counts). The bounds may then be off,
    # so the search starts over with fresh statistics and returns the ranking of the new data.
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL ranks in one statement, without bounds")
    import sqlite3

    rng = random.Random(7)
    corpus = await random_corpus(session, rng, owners=2, docs=6)
    other = corpus[1][0]
    scopes = [KeywordScope(owner_id=docs[0].owner) for docs in corpus]
    query = " ".join(VOCABULARY[:3] + VOCABULARY[20:24])
    writer = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"))
    engine = session.get_bind()

    def write_once(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "WITH top" in statement and not written:
            written.append(True)
            for n in range(30):
                insert_chunk(writer, other, 100 + n, " ".join(VOCABULARY[:3] * 3))
            writer.commit()

    written: list[bool] = []
    event.listen(engine, "before_cursor_execute", write_once)
    try:
        with statements(session) as sent:
            got = await index_for(session).search(session, scopes, query, limit=5)
    finally:
        event.remove(engine, "before_cursor_execute", write_once)
        writer.close()
    assert written
    assert sum(is_statistics(sql) and "count(*)" in sql for sql, _ in sent) == 2
    assert got == await index_for(session).search(session, scopes, query, limit=5, exhaustive=True)


async def test_sqlite_statistics_prepared_before_the_scopes_are_known(
        sqlite_session: AsyncSession) -> None:
    # Retrieval reads the terms' statistics while the access rule decides the scopes
    # (`prepare`); the search of several owners then starts with its ranking. Statistics that a
    # write has since made stale are read again, and statistics of another query are not used:
    # every result is the exhaustive ranking of the data as it is when ranked.
    session, index = sqlite_session, SqliteFts5KeywordIndex()
    corpus = await random_corpus(session, random.Random(5), owners=3, docs=5)
    scopes = [KeywordScope(owner_id=docs[0].owner) for docs in corpus]
    query = " ".join(VOCABULARY[:3] + VOCABULARY[20:24])

    async def search(prepared: object | None) -> int:
        with statements(session) as sent:
            got = await index.search(session, scopes, query, limit=5, prepared=prepared)
        assert got == await index.search(session, scopes, query, limit=5, exhaustive=True)
        assert got
        return statistics_read(sent)

    assert await index.prepare(session, "the of and") is not None  # stop words alone: kept
    assert await index.prepare(session, "!!") is None
    assert await search(await index.prepare(session, query)) == 0
    assert await search(None) == 1
    assert await search(await index.prepare(session, "other words entirely")) == 1
    stale = await index.prepare(session, query)
    await add_doc(session, corpus[0][0].owner, [([], " ".join(VOCABULARY[:3] * 4))])
    # Read again: once to find the index changed since the kept counts, once to count anew.
    assert await search(stale) == 2


async def test_postgresql_search_on_a_prepared_session_is_its_ranking_alone(
        pg_database: str) -> None:
    # Retrieval readies each keyword statement's session while the access rule decides the
    # scopes (`prepare`: the planner settings for the session's transaction, the lexemes); the
    # search on it then sends its ranking statement alone and leaves the settings to the
    # transaction's end. Unprepared, or prepared in a transaction that has since ended, it makes
    # and puts back the settings itself. Every way, the same hits.
    index = PostgresKeywordIndex()
    async with open_session(pg_database) as session:
        corpus = await random_corpus(session, random.Random(7), owners=3, docs=4)
        await session.commit()
        scopes = [KeywordScope(owner_id=docs[0].owner) for docs in corpus]
        query = " ".join(VOCABULARY[:3] + VOCABULARY[20:23])
        expected = await index.search(session, scopes, query, limit=5)
        assert expected
        await session.commit()

        ready = await index.prepare(session, query)
        assert ready is not None and ready.lexemes
        assert (await session.execute(text("SHOW enable_nestloop"))).scalar_one() == "off"
        with statements(session) as sent:
            assert await index.search(session, scopes, query, limit=5, prepared=ready) == expected
        assert len(sent) == 1 and "keyword_postings" in sent[0][0]
        await session.rollback()  # the transaction's end drops the settings
        assert (await session.execute(text("SHOW enable_nestloop"))).scalar_one() == "on"

        async def unprepared(prepared: object | None) -> str:
            with statements(session) as sent:
                assert await index.search(session, scopes, query, limit=5,
                                          prepared=prepared) == expected
            assert len(sent) == 3  # the settings made, the ranking, the settings put back
            return str((await session.execute(text("SHOW enable_nestloop"))).scalar_one())

        assert await unprepared(None) == "on"
        assert await unprepared(ready) == "on"  # its transaction has ended
        # Another query's: its settings stand (made on this transaction), its lexemes do not.
        assert await unprepared(await index.prepare(session, "other words")) == "off"
        assert await index.prepare(session, "!!") is None


@pytest.fixture
async def sqlite_session(sqlite_database: str) -> AsyncIterator[AsyncSession]:
    async with open_session(sqlite_database) as s:
        yield s


def term_counts(sent: list[tuple[str, Any]]) -> list[str]:
    """The terms whose rows the statistics statements counted (each a bound parameter)."""
    return [value.strip('"') for sql, params in sent if is_statistics(sql)
            and "count(*)" in sql for value in params]


async def test_sqlite_term_counts_are_kept_until_the_index_changes(
        sqlite_session: AsyncSession) -> None:
    # A search of several owners counts its terms' rows for the bounds. The counts are kept for
    # the state of the index they were read at: the same terms are not counted again until a
    # write (a chunk added, a document deleted) changes it, and every result is the exhaustive
    # ranking of the data as it is then.
    session, index = sqlite_session, SqliteFts5KeywordIndex()
    corpus = await random_corpus(session, random.Random(11), owners=3, docs=5)
    scopes = [KeywordScope(owner_id=docs[0].owner) for docs in corpus]
    first, second = " ".join(VOCABULARY[:4]), " ".join(VOCABULARY[2:6])

    async def search(query: str) -> list[str]:
        with statements(session) as sent:
            got = await index.search(session, scopes, query, limit=5)
        assert got == await index.search(session, scopes, query, limit=5, exhaustive=True)
        return sorted(term_counts(sent))

    assert await search(first) == sorted(VOCABULARY[:4])
    assert await search(first) == []  # all four kept
    assert await search(second) == sorted(VOCABULARY[4:6])  # only the two not seen yet
    await add_doc(session, corpus[0][0].owner, [([], " ".join(VOCABULARY[:6] * 4))])
    assert await search(first) == sorted(VOCABULARY[:4])  # the index changed: counted again
    assert await search(first) == []
    await session.execute(delete(Chunk).where(Chunk.document_id == corpus[1][0].id))
    await session.commit()
    assert await search(second) == sorted(VOCABULARY[2:6])


async def test_sqlite_term_counts_read_while_the_index_changes(
        sqlite_session: AsyncSession, sqlite_database: str) -> None:
    # Another connection commits a chunk holding the terms while the statistics are read: the
    # kept counts are stale, so the others are counted at the new state; written again, all of
    # them. The search is the exhaustive ranking of the data it ends on.
    import sqlite3

    session, index = sqlite_session, SqliteFts5KeywordIndex()
    corpus = await random_corpus(session, random.Random(5), owners=2, docs=4)
    scopes = [KeywordScope(owner_id=docs[0].owner) for docs in corpus]
    other = corpus[1][0]
    await index.search(session, scopes, " ".join(VOCABULARY[:2]), limit=3)  # two terms kept
    query = " ".join(VOCABULARY[:4])
    writer = sqlite3.connect(sqlite_database.removeprefix("sqlite+aiosqlite:///"))
    writes = iter(range(2))

    def write(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if is_statistics(statement) and "count(*)" in statement:
            n = next(writes, None)
            if n is not None:
                insert_chunk(writer, other, 200 + n, " ".join(VOCABULARY[:4] * 5))
                writer.commit()

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", write)
    try:
        with statements(session) as sent:
            got = await index.search(session, scopes, query, limit=3)
    finally:
        event.remove(engine, "before_cursor_execute", write)
        writer.close()
    # The two not kept (written before: the two kept are stale), then those two at the new
    # state (written again), then all four.
    assert term_counts(sent) == [*VOCABULARY[2:4], *VOCABULARY[:2], *VOCABULARY[:4]]
    assert got == await index.search(session, scopes, query, limit=3, exhaustive=True)
    assert f"{other.id}:1:201" in [cid for cid, _ in got]


def index_for(session: AsyncSession) -> KeywordIndex:
    return build_keyword_index(session.get_bind().dialect.name)


def test_essential_terms_and_certain_windows() -> None:
    # Bounds largest first: rows holding only the last terms (bounds 1 + 0.5 < 2) cannot reach 2.
    assert essential_count([5.0, 3.0, 1.0, 0.5], 2.0) == 2
    assert essential_count([5.0, 3.0, 1.0, 0.5], 1.5) == 3  # 1.5 is reachable by 1 + 0.5
    assert essential_count([5.0, 3.0, 1.0, 0.5], None) == 4
    assert essential_count([5.0, 3.0], 100.0) == 1  # at least the rarest term
    assert threshold_of([("a", 3.0), ("b", 2.0)], 2) == 2.0
    assert threshold_of([("a", 3.0)], 2) is None
    rows = [("c", 3.0, True), ("a", 2.0, False), ("b", 2.0, True), ("d", 1.0, True)]
    # The window held more rows: those tied with its last one (1.0) may have been cut.
    assert certain_top(rows, 4, 2) == [("c", 3.0), ("b", 2.0)]
    assert certain_top(rows, 4, 3) is None
    assert certain_top(rows, 5, 3) == [("c", 3.0), ("b", 2.0), ("d", 1.0)]  # all rows are here
    assert certain_top([("b", 2.0, True), ("a", 2.0, True), ("c", 1.0, True)], 3, 2) == [
        ("a", 2.0), ("b", 2.0)]  # ties by chunk id


def test_keyword_scope_cannot_be_built_without_an_owner() -> None:
    with pytest.raises(ValueError):
        KeywordScope(owner_id="")
    with pytest.raises(ValueError):
        KeywordScope(owner_id="u1", document_ids=frozenset())
    with pytest.raises(TypeError):
        KeywordScope(owner_id="u1", document_ids="doc-1")  # type: ignore[arg-type]


def test_a_scope_of_spaces_needs_its_document_condition() -> None:
    # `spaces` only says which statistics a document condition's rows may be ranked with.
    docs = frozenset({"d1"})
    assert KeywordScope(owner_id="u1", document_ids=docs, spaces=frozenset({""})).spaces
    assert KeywordScope(owner_id="u1", exclude_document_ids=docs, spaces=frozenset({"c1"})).spaces
    for bad in (dict(spaces=frozenset({"c1"})),  # an owner read whole has no spaces to name
                dict(document_ids=docs, spaces=frozenset()),
                dict(document_ids=docs, spaces={"c1"})):
        with pytest.raises(ValueError):
            KeywordScope(owner_id="u1", **bad)  # type: ignore[arg-type]


async def test_identifier_parts_are_words(index: KeywordIndex, session: AsyncSession) -> None:
    # A camel-case identifier is one token to both tokenizers: its parts (and their American
    # spellings) are indexed after the text (chunks.index_terms, migration 0015).
    owner = await add_owner(session)
    doc = await add_doc(session, owner, [
        (["String drawing methods"], "canvas.drawCentredString(x, y, text)"),
        ([], "url.fileURLToPath(url) returns a path"),
        ([], FILLER),
    ])
    assert await ids(index, session, scope(owner), "centered") == doc.chunks[:1]
    assert await ids(index, session, scope(owner), "centred") == doc.chunks[:1]
    assert await ids(index, session, scope(owner), "file url") == doc.chunks[1:2]
    assert await ids(index, session, scope(owner), "drawCentredString") == doc.chunks[:1]
    rows = (await session.execute(text("SELECT index_terms FROM chunks WHERE id = :id"),
                                  {"id": doc.chunks[0]})).scalar_one()
    assert rows == "draw centred centered string"


async def test_a_document_larger_than_one_insert_is_indexed_whole(
        index: KeywordIndex, session: AsyncSession) -> None:
    # replace_chunks writes CHUNK_INSERT_ROWS rows per statement (statement-level triggers on
    # PostgreSQL): every row of every statement is stored and indexed, with its identifiers' parts.
    from app.documents.repository import CHUNK_INSERT_ROWS

    owner = await add_owner(session)
    n = 2 * CHUNK_INSERT_ROWS + 3
    doc = await add_doc(session, owner, [([], f"Section {i} calls drawCentredString{i}.")
                                         for i in range(n)])
    stored = (await session.execute(text(
        "SELECT count(*), sum(CASE WHEN index_terms LIKE 'draw centred centered string%' THEN 1 ELSE 0 END) "
        "FROM chunks "
        "WHERE document_id = :d"), {"d": doc.id})).one()
    assert tuple(stored) == (n, n)
    got = await ids(index, session, scope(owner), "centered string", limit=n + 10)
    assert sorted(got) == sorted(doc.chunks)


async def test_compact_merges_the_index_and_every_search_stays_the_same(
        index: KeywordIndex, session: AsyncSession) -> None:
    # Each document is its own commit, as ingestion writes them: FTS5 keeps them in segments.
    rng = random.Random(7)
    corpus = await random_corpus(session, rng, owners=3, docs=12)
    queries = [random_query(rng) for _ in range(12)]
    scopes = [scope(docs[0].owner) for docs in corpus]

    async def results() -> list[list[tuple[str, float]]]:
        return [await index.search(session, sc, q, limit=limit, exhaustive=exhaustive)
                for q in queries for sc in (scopes[0], scopes) for limit in (3, 20)
                for exhaustive in (False, True)]

    before = await results()
    if isinstance(index, SqliteFts5KeywordIndex):
        segments = await segment_count(session)
        assert segments > 1, "the corpus left one segment: nothing to merge"
        steps = 0
        while not await index.compact(session, pages=1):  # the smallest step: several of them
            steps += 1
            assert steps < 500
            assert await segment_count(session) > 1
        assert steps >= 1
        assert await segment_count(session) == 1
    assert await index.compact(session, pages=1) is True  # nothing left: no work
    assert await results() == before
    # The index still follows writes after the merge.
    late = await add_doc(session, scopes[0].owner_id, [([], "zebra quokka")])
    assert await ids(index, session, scopes[0], "quokka") == [late.chunks[0]]


async def segment_count(session: AsyncSession) -> int:
    # FTS5's structure record (id 10): a 4-byte cookie, then varints: levels, segments.
    block = (await session.execute(text("SELECT block FROM chunks_fts_data WHERE id = 10"))).scalar_one()
    pos, values = 4, []
    for _ in range(2):
        value = 0
        while True:
            byte = block[pos]
            pos += 1
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values[1]
