"""Scanned documents through the real pipeline (upload → job → sandboxed OCR → chunks → search),
with the OCR engine that ships in a PyPI wheel: no tesseract needed, none used."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.ingestion.ocr import OCR_UNAVAILABLE
from tests import docgen
from tests.api.helpers import upload, wait_done
from tests.conftest import register

PAGES = [
    "Field notes. The heron colony on the northern marsh counted 212 nests this spring.",
    "Second page: volunteers repaired the boardwalk near the observation tower.",
]


async def _search(client: AsyncClient, query: str) -> list[dict[str, Any]]:
    r = await client.post("/api/v1/search", json={"query": query})
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


async def test_scanned_pdf_becomes_ready_and_searchable(
        client: AsyncClient, api_app: Any, tmp_path: Path) -> None:
    # The default engine is rapidocr, whatever the machine has: this runs without tesseract.
    assert api_app.state.container.settings.ocr_engine == "rapidocr"
    print("tesseract on this machine:", shutil.which("tesseract"))
    await register(client)
    scan = docgen.scanned_pdf(tmp_path / "field-notes.pdf", PAGES)
    (doc,) = (await upload(client, scan))["documents"]
    done = await wait_done(client, doc["id"], timeout=300)
    assert done["status"] == "ready", done
    assert done["page_count"] == 2 and done["chunk_count"] >= 1 and done["retryable"] is False
    hits = await _search(client, "heron colony nests")
    assert hits and hits[0]["document_id"] == doc["id"] and hits[0]["page"] == 1
    assert "heron colony" in hits[0]["text"]
    hits = await _search(client, "boardwalk observation tower")
    assert hits and hits[0]["document_id"] == doc["id"] and hits[0]["page"] == 2


async def test_ocr_that_cannot_run_fails_retryable_with_the_cause_for_the_admin(
        client: AsyncClient, api_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tesseract chosen with a language pack no machine has: missing command or missing pack, OCR
    # cannot run: the server's problem, not the file's.
    settings = api_app.state.container.settings
    monkeypatch.setattr(settings, "ocr_engine", "tesseract")
    monkeypatch.setattr(settings, "ocr_languages", "qqq")
    admin = await register(client, "root@example.com")
    assert admin["role"] == "admin"
    scan = docgen.scanned_pdf(tmp_path / "scan.pdf", ["Lorem ipsum dolor sit amet"])
    (doc,) = (await upload(client, scan))["documents"]
    done = await wait_done(client, doc["id"], timeout=120)
    assert done["status"] == "failed" and done["retryable"] is True, done
    assert done["error"] == OCR_UNAVAILABLE and "tesseract" not in done["error"]
    jobs = (await client.get("/api/v1/admin/jobs", params={"status": "failed"})).json()["items"]
    (job,) = [j for j in jobs if j["document_id"] == doc["id"]]
    assert job["error"].startswith(OCR_UNAVAILABLE) and "tesseract" in job["error"]  # the cause
    assert job["worker"] and job["attempts"] == 1 and job["document_status"] == "failed"


@pytest.mark.eval_docs
async def test_real_scanned_pdf_becomes_ready_and_searchable(client: AsyncClient, eval_docs: Path) -> None:
    """loremipsum-flat.pdf from the evaluation corpus: one page image, no fonts, no text layer."""
    await register(client)
    (doc,) = (await upload(client, eval_docs / "pdf_scanned" / "loremipsum-flat.pdf"))["documents"]
    done = await wait_done(client, doc["id"], timeout=600)
    assert done["status"] == "ready", done
    hits = await _search(client, "consectetur adipiscing elit")
    assert hits and hits[0]["document_id"] == doc["id"] and hits[0]["page"] == 1
    text = " ".join(h["text"] for h in hits if h["document_id"] == doc["id"])
    for words in ("Lorem ipsum dolor sit amet", "consectetur adipiscing elit", "sollicitudin"):
        assert words in text, words
