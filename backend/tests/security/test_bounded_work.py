"""Issue #13 finding 3 stays fixed: a tiny upload cannot make unbounded indexing work. With the
default limits, a ~20 KB PDF whose 200 pages share one dense content stream (7 million characters,
thousands of chunks) fails during extraction with a message naming the limit, and leaves no chunks
and no vectors."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from app.core.config import Settings
from app.documents.models import Job
from app.ingestion.pipeline import text_limit
from app.providers.vectorstore import AllOwners
from tests import docgen
from tests.conftest import TEST_SECRET, register


def test_default_limits_bound_what_one_upload_can_cost() -> None:
    defaults = Settings(secret_key=TEST_SECRET)
    # A small file may give the allowance, never its size times a large factor.
    assert text_limit(defaults, 5_000)[0] == defaults.chars_allowance <= 1_000_000
    assert text_limit(defaults, 20_000)[0] <= 20_000 * 100
    # The largest upload is bounded by the absolute limit.
    biggest = defaults.max_upload_mb * 1024 * 1024
    assert text_limit(defaults, biggest)[0] == defaults.max_document_chars <= 50_000_000
    assert defaults.max_document_chunks <= 50_000
    assert 0 < defaults.user_quota_chunks <= 1_000_000


async def test_a_pdf_built_to_explode_fails_before_embedding(fresh: Any, tmp_path: Path) -> None:
    settings = fresh.state.container.settings
    for name in ("max_document_chars", "max_chars_per_file_byte", "chars_allowance",
                 "max_document_chunks"):  # the defaults, as shipped
        assert getattr(settings, name) == Settings.model_fields[name].default
    pdf = docgen.exploding_pdf(tmp_path / "tiny.pdf")
    assert pdf.stat().st_size < 64 * 1024
    async with AsyncClient(transport=ASGITransport(app=fresh, client=("10.4.4.4", 1)),
                           base_url="https://testserver") as client:
        await register(client, email="bomb@example.com")
        r = await client.post("/api/v1/documents", files=[("files", (pdf.name, pdf.read_bytes(),
                                                                     "application/pdf"))])
        assert r.status_code == 202, r.text
        doc_id = r.json()["documents"][0]["id"]
        deadline = time.monotonic() + 300
        while (doc := (await client.get(f"/api/v1/documents/{doc_id}")).json())["status"] not in (
                "ready", "failed"):
            assert time.monotonic() < deadline, doc
            await asyncio.sleep(0.25)
    assert doc["status"] == "failed", doc
    assert "CITEWISE_MAX_CHARS_PER_FILE_BYTE" in doc["error"] and doc["chunk_count"] == 0
    container = fresh.state.container
    async with container.sessions() as s:
        timings = (await s.execute(select(Job.stage_timings).where(Job.document_id == doc_id))
                   ).scalars().all()
    assert timings and all("embed" not in t for t in timings), timings
    for target in await container.index.targets():
        assert await container.vectors.count(
            target.collection, scope=AllOwners(document_ids=frozenset({doc_id}))) == 0
