"""The hostile-file set, generated at test time and sent through the API: each file is refused at
upload or contained (its document fails with a sentence a person can read), nothing is stored
outside the data folder, and the worker goes on to index an ordinary document afterwards."""

from __future__ import annotations

import asyncio
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from tests import docgen
from tests.conftest import register
from tests.ingestion.test_hostile import CONTENT_TYPES, LAUGHS

MB = 1024 * 1024


def _zip_bomb_docx(path: Path) -> Path:
    """word/document.xml inflates to 400 MB of one byte; ~400 KB on disk (under the 1 MB upload)."""
    piece = b"a" * MB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(400):
                member.write(piece)
    return path


def _entity_bomb_docx(path: Path) -> Path:
    body = LAUGHS + b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' \
        b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("word/document.xml", body)
    return path


def _flate_bomb_pdf(path: Path) -> Path:
    """One page whose content stream inflates to 512 MB of blanks; ~500 KB on disk."""
    packer = zlib.compressobj(9)
    block = b" " * (4 * MB)
    stream = b"".join(packer.compress(block) for _ in range(128)) + packer.flush()
    return docgen._raw_pdf(path, [stream])


def _many_pages_pdf(path: Path, pages: int) -> Path:
    return docgen._raw_pdf(path, [zlib.compress(b"BT /F1 12 Tf 72 720 Td (page) Tj ET")], pages=pages)


def _pdf_zip_polyglot(path: Path, tmp: Path) -> Path:
    """A valid PDF with a DOCX appended: two readers, two different documents."""
    pdf = docgen.pdf(tmp / "poly-part.pdf", ["The polyglot's PDF side says harbour."])
    docx = docgen.docx(tmp / "poly-part.docx", "Zip side", ["The zip side says lighthouse."])
    path.write_bytes(pdf.read_bytes() + docx.read_bytes())
    return path


@pytest.fixture
async def user(fresh: Any) -> Any:
    async with AsyncClient(transport=ASGITransport(app=fresh, client=("10.6.6.6", 1)),
                           base_url="https://testserver") as client:
        await register(client, "hostile@example.com")
        yield client


async def _send(client: AsyncClient, name: str, data: bytes, mime: str) -> dict[str, Any]:
    r = await client.post("/api/v1/documents", files=[("files", (name, data, mime))])
    assert r.status_code == 202, (name, r.status_code, r.text)
    return dict(r.json())


async def _finished(client: AsyncClient, doc_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while True:
        doc = (await client.get(f"/api/v1/documents/{doc_id}")).json()
        if doc["status"] in ("ready", "failed"):
            return dict(doc)
        assert time.monotonic() < deadline, doc
        await asyncio.sleep(0.25)


def _human(message: str | None) -> bool:
    """A sentence for a person: no traceback, no exception class, not empty."""
    return bool(message) and len(message or "") < 400 and not any(
        marker in (message or "") for marker in ("Traceback", "Error:", "Exception", "  File "))


async def test_hostile_files_are_refused_or_contained(user: AsyncClient, fresh: Any, tmp_path: Path) -> None:
    max_pages = fresh.state.container.settings.max_pages
    cases: list[tuple[str, Path, str, str]] = [
        # (name sent, file, declared type, what the error must mention)
        ("bomb.docx", _zip_bomb_docx(tmp_path / "bomb.docx"), "application/octet-stream", "unpacked"),
        ("laughs.docx", _entity_bomb_docx(tmp_path / "laughs.docx"), "application/octet-stream", "unsafe"),
        ("inflate.pdf", _flate_bomb_pdf(tmp_path / "inflate.pdf"), "application/pdf", ""),
        ("pages.pdf", _many_pages_pdf(tmp_path / "pages.pdf", max_pages + 1), "application/pdf",
         "pages"),
    ]
    for name, path, mime, mention in cases:
        assert path.stat().st_size < MB, name  # each fits in the 1 MB upload: the bomb is inside
        sent = await _send(user, name, path.read_bytes(), mime)
        assert not sent["errors"], (name, sent)
        doc = await _finished(user, sent["documents"][0]["id"])
        assert doc["status"] == "failed" and doc["chunk_count"] == 0, (name, doc)
        assert _human(doc["error"]) and mention in doc["error"], (name, doc["error"])

    # Mislabelled: an executable calling itself a PDF is refused at the door, by its bytes.
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 8
    sent = await _send(user, "report.pdf", elf, "application/pdf")
    assert not sent["documents"] and sent["errors"][0]["error"] == "unsupported_type", sent
    assert _human(sent["errors"][0]["detail"])
    # A PDF sent as text/plain with a .txt name is read as what it is.
    real = docgen.pdf(tmp_path / "real.pdf", ["Mislabelled documents are read by their bytes."])
    sent = await _send(user, "notes.txt", real.read_bytes(), "text/plain")
    doc = await _finished(user, sent["documents"][0]["id"])
    assert doc["mime_type"] == "application/pdf" and doc["status"] == "ready", doc

    # A polyglot is read as exactly one thing, and downloads as an attachment that cannot run.
    sent = await _send(user, "poly.html", _pdf_zip_polyglot(tmp_path / "poly.bin", tmp_path).read_bytes(),
                       "text/html")
    doc = await _finished(user, sent["documents"][0]["id"])
    assert doc["mime_type"] == "application/pdf" and doc["status"] in ("ready", "failed"), doc
    r = await user.get(f"/api/v1/documents/{doc['id']}/file")
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    # HTML claiming to be an image: stored as HTML, never served inline.
    sent = await _send(user, "cat.gif", b"GIF89a<html><body><script>alert(1)</script><p>Cat facts: "
                       b"cats sleep most of the day.</p></body></html>", "image/gif")
    doc = await _finished(user, sent["documents"][0]["id"])
    r = await user.get(f"/api/v1/documents/{doc['id']}/file", params={"inline": "true"})
    assert r.headers["content-disposition"].startswith("attachment"), r.headers

    # Names: path traversal and control characters become a plain display name; the bytes are
    # stored under a generated id inside the data folder.
    data_dir = Path(fresh.state.container.settings.data_dir).resolve()
    before = {p for p in data_dir.rglob("*") if p.is_file()}
    for i, name in enumerate(["../../../../etc/cron.d/evil.txt", "..\\..\\windows\\win.ini.txt",
                              "evil\x00\x1b[31mred\r\nSet-Cookie: x=1\u202egnp.txt", "/abs/path.md",
                              "....//....//x.txt"]):
        sent = await _send(user, name, f"Harmless text number {i} about hostile names.\n".encode(),
                           "text/plain")
        shown = sent["documents"][0]["filename"]
        assert "/" not in shown and "\\" not in shown and not shown.startswith("."), shown
        assert not any(ord(ch) < 32 or ch in "\u202e\x7f" for ch in shown), repr(shown)
        doc = await _finished(user, sent["documents"][0]["id"])
        assert doc["status"] == "ready", doc
        r = await user.get(f"/api/v1/documents/{doc['id']}/file")
        assert r.status_code == 200 and "\r" not in r.headers["content-disposition"]
        assert "\n" not in r.headers["content-disposition"]
    new = {p.resolve() for p in data_dir.rglob("*") if p.is_file()} - before
    assert all(data_dir in p.parents for p in new)
    assert not Path("/etc/cron.d/evil.txt").exists()

    # The worker went on: an ordinary document is indexed and searchable.
    sent = await _send(user, "after.md", b"# After the storm\n\nThe lighthouse keeper logged calm seas.\n",
                       "text/markdown")
    assert (await _finished(user, sent["documents"][0]["id"]))["status"] == "ready"
    r = await user.post("/api/v1/search", json={"query": "lighthouse keeper calm seas"})
    assert any("lighthouse keeper" in h["text"] for h in r.json()["results"])
