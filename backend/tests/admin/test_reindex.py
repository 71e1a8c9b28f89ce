"""Re-indexing against the real local embedder, real embedded Chroma and a real database.

A small hashing embedder (64-d, deterministic, real vector math) stands in for a second model so a
switch to a different dimension can be observed mid-build.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.admin.reindex import Reindexer
from app.auth.models import User
from app.bootstrap import build_embedder
from app.cli import run_reindex
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import upgrade_async
from app.documents.models import Chunk, Document
from app.platform.index import EmbedderFactory, IndexState
from app.platform.models import AppSetting
from app.platform.runtime import EmbeddingValues, RuntimeSettingsService
from app.providers.embeddings.base import Embedder
from app.providers.vectorstore import ALL_OWNERS, VectorScope
from app.providers.vectorstore.chroma_store import ChromaVectorStore
from tests.conftest import make_settings

TOPICS = [
    "Photosynthesis turns sunlight, water and carbon dioxide into glucose inside chloroplasts.",
    "The mitochondrion produces ATP through oxidative phosphorylation in eukaryotic cells.",
    "A binary search tree keeps keys ordered so lookups take logarithmic time.",
    "TCP retransmits lost segments and uses a sliding window for flow control.",
    "Volcanic eruptions release ash and sulfur dioxide that can cool the climate.",
    "The French Revolution began in 1789 with the storming of the Bastille.",
    "Sourdough bread rises thanks to wild yeast and lactic acid bacteria.",
    "Black holes form when massive stars collapse under their own gravity.",
    "Vaccines train the immune system to recognise a pathogen without causing disease.",
    "Interest rates set by central banks influence inflation and borrowing costs.",
    "Glaciers carve U-shaped valleys as they slowly move downhill.",
    "The violin has four strings tuned in perfect fifths.",
]
QUERIES = ["how do plants make sugar from light", "why do interest rates matter for inflation",
           "stars collapsing into black holes", "network protocol that resends lost data"]


class HashEmbedder:
    """Token hashing into 64 signed buckets, L2-normalised. `gate` lets a test hold a build."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()

    @property
    def model_id(self) -> str:
        return "hash-64"

    @property
    def dimension(self) -> int:
        return 64

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        await self.gate.wait()
        return [self._vector(t) for t in texts]

    async def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def _vector(self, text: str) -> list[float]:
        v = np.zeros(64, dtype=np.float32)
        for token in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
            v[int.from_bytes(digest[:4], "little") % 64] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(v))
        return (v / norm if norm else v).tolist()


HASH_SETTINGS = {"embedding": {"provider": "openai", "model": "hash-64",
                               "base_url": "http://127.0.0.1:9/v1", "dimension": 64}}


def make_reindexer(sessions: async_sessionmaker[AsyncSession], runtime: RuntimeSettingsService,
                   vectors: ChromaVectorStore, *, factory: EmbedderFactory = build_embedder,
                   ttl: float = 2.0, batch_size: int = 64) -> Reindexer:
    return Reindexer(IndexState(sessions, runtime, factory, ttl=ttl), sessions, vectors,
                     batch_size=batch_size)


def factory_with(hasher: HashEmbedder) -> Callable[[EmbeddingValues], Embedder]:
    def build(values: EmbeddingValues) -> Embedder:
        if values.model == "hash-64":
            return hasher
        return build_embedder(values)  # the real local MiniLM model

    return build


@pytest.fixture
async def sqlite_env(tmp_path: Path) -> AsyncIterator[tuple[Settings, async_sessionmaker[AsyncSession]]]:
    settings = make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await upgrade_async(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    yield settings, create_sessionmaker(engine)
    await engine.dispose()


async def seed(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Two users; ready documents with chunks, one still processing (must not be indexed)."""
    out: dict[str, Any] = {}
    async with sessions() as s:
        users = [User(email=f"u{i}@example.com", password_hash="x") for i in range(2)]
        s.add_all(users)
        await s.flush()
        for name, owner, status, texts in [
            ("a", users[0], "ready", TOPICS[:6]), ("b", users[1], "ready", TOPICS[6:]),
            ("p", users[0], "processing", TOPICS[:3]),
        ]:
            doc = Document(owner_id=owner.id, filename=f"{name}.txt", mime_type="text/plain",
                           kind="text", size_bytes=100, content_hash=name, storage_key=name,
                           status=status)
            s.add(doc)
            await s.flush()
            for n, text in enumerate(texts):
                s.add(Chunk(id=f"{doc.id}:1:{n}", document_id=doc.id, owner_id=owner.id, version=1,
                            n=n, text=text, page_start=n + 1, page_end=n + 1, char_start=0,
                            char_end=len(text), heading_path=["Section", name.upper()]))
            out[name] = doc.id
        out["users"] = [u.id for u in users]
        await s.commit()
    return out


async def add_ready_doc(sessions: async_sessionmaker[AsyncSession], owner: str, name: str,
                        texts: list[str]) -> list[Chunk]:
    async with sessions() as s:
        doc = Document(owner_id=owner, filename=name, mime_type="text/plain", kind="text",
                       size_bytes=10, content_hash=name, storage_key=name, status="ready")
        s.add(doc)
        await s.flush()
        chunks = [Chunk(id=f"{doc.id}:1:{n}", document_id=doc.id, owner_id=owner, version=1, n=n,
                        text=t, page_start=1, page_end=1, char_start=0, char_end=len(t),
                        heading_path=[]) for n, t in enumerate(texts)]
        s.add_all(chunks)
        await s.commit()
        return chunks


async def top_ids(index: Reindexer, vectors: ChromaVectorStore, owner: str) -> list[list[str]]:
    active = await index.state.active()
    out = []
    for q in QUERIES:
        hits = await vectors.query(active.collection, await active.embedder.embed_query(q), k=3,
                                   scope=VectorScope(owner_id=owner))
        out.append([h.id for h in hits])
    return out


async def test_switch_to_another_model_serves_old_index_until_done(
    sqlite_env: tuple[Settings, async_sessionmaker[AsyncSession]], tmp_path: Path
) -> None:
    settings, sessions = sqlite_env
    ids = await seed(sessions)
    owner_a, owner_b = ids["users"]
    hasher = HashEmbedder()
    runtime = RuntimeSettingsService(settings, sessions, ttl=0.2)
    vectors = ChromaVectorStore.embedded(tmp_path / "chroma")
    index = make_reindexer(sessions, runtime, vectors, factory=factory_with(hasher),
                         ttl=0.2, batch_size=4)

    # Build the MiniLM index from the database.
    result = await index.run(force=True)
    assert result.status == "idle", result
    old = await index.state.active()
    assert old.embedder.model_id == "minilm-l6-v2-int8" and old.embedder.dimension == 384
    assert await vectors.count(old.collection, scope=ALL_OWNERS) == 12  # ready documents only
    before = await top_ids(index, vectors, owner_a)
    assert before[0][0] == f"{ids['a']}:1:0"  # photosynthesis
    assert all(h.startswith(ids["a"]) for hits in before for h in hits)  # owner filter holds

    # The admin switches models: a background build starts, held at its first batch.
    async with sessions() as s:
        await runtime.update(s, HASH_SETTINGS, None, None)
        await s.commit()
    assert await index.state.needs_reindex()
    hasher.gate.clear()
    started = await index.reconcile()
    assert started is not None and started.status == "running"
    assert started.collection == "chunks__hash-64__64" and started.total == 12

    # Meanwhile queries are answered from the old index, and new chunks go to both.
    await asyncio.sleep(0.3)
    assert (await index.state.active()).collection == old.collection
    assert [t.collection for t in await index.state.targets()] == [old.collection, "chunks__hash-64__64"]
    assert await top_ids(index, vectors, owner_a) == before
    # A document that finished just before the build started was only written to the old index,
    # and document B is deleted mid-build: the catch-up pass must fix both.
    late = await add_ready_doc(sessions, owner_a, "late.txt",
                               ["Honeybees communicate the direction of flowers by dancing."])
    async with sessions() as s:
        await s.execute(delete(Document).where(Document.id == ids["b"]))
        await s.commit()
    for target in await index.state.targets():
        await vectors.delete(target.collection, scope=VectorScope.of_document(owner_b, ids["b"]))
    status = await index.status()
    assert status.status == "running" and 0 <= status.progress < 100

    # A second manager (another process) cannot start a competing build.
    other = make_reindexer(sessions, runtime, vectors, factory=factory_with(hasher))
    assert (await other.run(force=True)).status == "running"
    assert await other.reconcile() is None

    hasher.gate.set()
    done = await index.wait()
    assert done is not None and done.status == "idle", done
    new = await index.state.active()
    assert new.collection == "chunks__hash-64__64" and new.embedder.dimension == 64
    assert old.collection not in await vectors.list_collections()
    stored = set(await vectors.ids(new.collection, scope=ALL_OWNERS))
    expected = {f"{ids['a']}:1:{n}" for n in range(6)} | {late[0].id}
    assert stored == expected  # no processing doc, no deleted doc, the late doc included
    hits = await vectors.query(new.collection, await hasher.embed_query("honeybees dancing flowers"),
                               k=1, scope=VectorScope(owner_id=owner_a))
    assert hits[0].id == late[0].id
    assert await vectors.query(new.collection, await hasher.embed_query("violin"), k=3,
                               scope=VectorScope(owner_id=owner_b)) == []
    assert not await index.state.needs_reindex()
    await index.aclose()
    await index.state.aclose()
    await other.aclose()
    await other.state.aclose()


async def test_failed_build_keeps_the_old_index(
    sqlite_env: tuple[Settings, async_sessionmaker[AsyncSession]], tmp_path: Path
) -> None:
    settings, sessions = sqlite_env
    await seed(sessions)
    hasher = HashEmbedder()

    class Broken(HashEmbedder):
        async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
            raise RuntimeError("embedding server exploded")

    broken = Broken()
    runtime = RuntimeSettingsService(settings, sessions, ttl=0.1)
    vectors = ChromaVectorStore.embedded(tmp_path / "chroma")
    async with sessions() as s:
        await runtime.update(s, HASH_SETTINGS, None, None)
        await s.commit()
    index = make_reindexer(sessions, runtime, vectors, factory=factory_with(hasher),
                         ttl=0.1)
    assert (await index.run(force=True)).status == "idle"
    active = (await index.state.active()).collection
    failing = make_reindexer(sessions, runtime, vectors,
                           factory=lambda v: broken, ttl=0.1)
    result = await failing.run(force=True)
    assert result.status == "failed" and "exploded" in (result.error or "")
    assert (await failing.state.active()).collection == active
    assert await vectors.list_collections() == [active]  # the partial build was dropped
    await index.aclose()
    await index.state.aclose()


async def test_cli_rebuilds_a_lost_vector_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await upgrade_async(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    sessions = create_sessionmaker(engine)
    ids = await seed(sessions)

    async def search() -> list[list[str]]:
        vectors = ChromaVectorStore.embedded(settings.chroma_path)
        index = make_reindexer(sessions, RuntimeSettingsService(settings, sessions), vectors)
        try:
            return await top_ids(index, vectors, ids["users"][0]) + \
                await top_ids(index, vectors, ids["users"][1])
        finally:
            await index.aclose()
            await index.state.aclose()

    assert await run_reindex(settings, wait=True) == 0
    assert "re-index complete" in capsys.readouterr().out
    before = await search()
    assert all(len(hits) == 3 for hits in before)

    # Chroma's data is lost entirely; the database alone rebuilds it.
    SharedSystemClient.clear_system_cache()
    shutil.rmtree(settings.chroma_path)
    assert await run_reindex(settings, wait=True) == 0
    SharedSystemClient.clear_system_cache()
    assert await search() == before

    # Without --wait the request is recorded for a running server to pick up.
    assert await run_reindex(settings, wait=False) == 0
    index = make_reindexer(sessions, RuntimeSettingsService(settings, sessions), ChromaVectorStore.embedded(settings.chroma_path))
    assert (await index.status()).status == "requested"
    assert await index.state.needs_reindex()
    await index.aclose()
    await index.state.aclose()
    async with sessions() as s:
        assert await s.get(AppSetting, "vector_index_lock") is not None
    await engine.dispose()
