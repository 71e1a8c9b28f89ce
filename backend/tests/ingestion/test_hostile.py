"""Hostile input: zip bombs, entity expansion, page limits, timeouts, memory, mislabelled bytes."""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import pytest

from app.ingestion.parsers import extract
from app.ingestion.parsers._odf import UNSAFE_XML, parse_xml
from app.ingestion.sandbox import extract_isolated
from app.ingestion.sniff import sniff_file, sniff_type
from app.ingestion.types import ExtractionError, ExtractionLimits
from tests import docgen

CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DOCX whose document.xml inflates to 2 GiB of one byte, ~2 MB on disk, built in pieces."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.docx"
    piece = b"a" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(2048):
                member.write(piece)
    return path


def test_zip_bomb_refused_from_central_directory(zip_bomb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert zip_bomb.stat().st_size < 4 * 1024 * 1024
    assert sniff_file(zip_bomb).kind == "docx"

    def never_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was opened: the bomb would have been inflated")

    monkeypatch.setattr(zipfile.ZipFile, "open", never_open)
    started = time.monotonic()
    with pytest.raises(ExtractionError, match="expands to more than 200 MB when unpacked"):
        extract(zip_bomb, "docx", ExtractionLimits())
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kind", ["xlsx", "pptx", "odt", "ods", "epub"])
def test_every_zip_format_checks_sizes_first(zip_bomb: Path, kind: str) -> None:
    with pytest.raises(ExtractionError, match="refused as unsafe"):
        extract(zip_bomb, kind, ExtractionLimits())


def test_compression_ratio_and_member_count(tmp_path: Path) -> None:
    path = tmp_path / "ratio.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("word/document.xml", b" " * (8 * 1024 * 1024))
    with pytest.raises(ExtractionError, match="compressed more than 200 times"):
        extract(path, "docx", ExtractionLimits())
    with pytest.raises(ExtractionError, match="more than 1 parts"):
        extract(path, "docx", ExtractionLimits(max_zip_members=1))


def _odt(path: Path, content: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
    return path


def test_billion_laughs_refused(tmp_path: Path) -> None:
    body = b"<root>&lol9;</root>"
    with pytest.raises(ExtractionError, match="unsafe XML"):
        parse_xml(LAUGHS + body)  # defusedxml itself refuses, even without the prefix check
    odt = _odt(tmp_path / "laughs.odt", LAUGHS + body)
    assert sniff_file(odt).kind == "odt"
    with pytest.raises(ExtractionError, match=re.escape(UNSAFE_XML)):
        extract(odt, "odt", ExtractionLimits())
    docx = tmp_path / "laughs.docx"
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("word/document.xml", LAUGHS + b"<w:document>&lol9;</w:document>")
    with pytest.raises(ExtractionError, match=re.escape(UNSAFE_XML)):
        extract(docx, "docx", ExtractionLimits())


def test_minimal_odt_extracts(tmp_path: Path) -> None:
    """The hand-built ODT used above is valid when it has no entities (the test can fail)."""
    content = (
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        b' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        b'<text:h text:outline-level="1">Title</text:h><text:p>Hello<text:s text:c="2"/>world'
        b"</text:p></office:text></office:body></office:document-content>"
    )
    doc = extract(_odt(tmp_path / "ok.odt", content), "odt", ExtractionLimits())
    assert [(b.kind, b.text, b.heading_path) for b in doc.blocks] == [
        ("heading", "Title", ("Title",)),
        ("paragraph", "Hello world", ("Title",)),
    ]


def test_pdf_page_limit(tmp_path: Path) -> None:
    two_pages = docgen.pdf(tmp_path / "two.pdf", ["First page.", "Second page."])
    assert extract(two_pages, "pdf", ExtractionLimits(max_pages=2)).page_count == 2
    with pytest.raises(ExtractionError, match="has 2 pages, more than the limit of 1"):
        extract(two_pages, "pdf", ExtractionLimits(max_pages=1))


@pytest.fixture(scope="module")
def costly_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small on disk, seconds and hundreds of MB to lay out (see docgen.heavy_pdf)."""
    return docgen.heavy_pdf(tmp_path_factory.mktemp("costly") / "costly.pdf")


async def test_sandbox_timeout_kills_child(costly_pdf: Path, tmp_path: Path) -> None:
    # Warm up: the first document also starts the extraction host, which is not the parser's time.
    await extract_isolated(docgen.markdown_table(tmp_path / "table.md"), "markdown", ExtractionLimits())
    with pytest.raises(ExtractionError, match=re.escape("took longer than 0.3 seconds")):
        await extract_isolated(costly_pdf, "pdf", ExtractionLimits(timeout_seconds=0.3))
    # (tests/ingestion/test_warm_pool.py checks that the child is gone and the host goes on.)


async def test_sandbox_memory_limit(costly_pdf: Path, tmp_path: Path) -> None:
    """A child that cannot get memory reports a clear error instead of taking the worker down."""
    small = ExtractionLimits(memory_limit_bytes=64 * 1024**2)
    # The cap itself leaves room for an ordinary file ...
    doc = await extract_isolated(docgen.markdown_table(tmp_path / "table.md"), "markdown", small)
    assert "Juicy Apples" in " ".join(b.text for b in doc.blocks)
    # ... and stops the costly one.
    with pytest.raises(ExtractionError) as info:
        await extract_isolated(costly_pdf, "pdf", small)
    assert "memory" in info.value.message and info.value.permanent


async def test_sandbox_reports_progress_and_result(tmp_path: Path) -> None:
    path = docgen.pdf(tmp_path / "long.pdf", [docgen.prose(page, 3) for page in range(113)])
    seen: list[tuple[int, int]] = []
    doc = await extract_isolated(path, "pdf", ExtractionLimits(), lambda d, t, _stage: seen.append((d, t)))
    assert doc.page_count == 113
    assert seen[-1] == (113, 113) and len(seen) > 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_sandbox_passes_errors_through(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    with pytest.raises(ExtractionError, match="damaged or truncated") as info:
        await extract_isolated(bad, "pdf", ExtractionLimits())
    assert info.value.permanent


def test_sniff_uses_bytes_not_extension(tmp_path: Path) -> None:
    renamed = tmp_path / "report.pdf"
    renamed.write_bytes(docgen.notes_docx(tmp_path / "notes.docx").read_bytes())
    assert sniff_file(renamed).kind == "docx"
    pdf = docgen.pdf(tmp_path / "paper.pdf", ["A page of text."])
    assert sniff_type(pdf.read_bytes()[:65536], "x.txt").kind == "pdf"
    slides = docgen.ppt(tmp_path / "slides.ppt", [("Title", ["point"])])
    assert sniff_file(slides, "noext").kind == "ppt"
    sheet = docgen.xls(tmp_path / "sheet.xls", {"Sheet1": [["a", 1.0]]})
    assert sniff_file(sheet, "noext").kind == "xls"
    assert sniff_file(docgen.doc(tmp_path / "letter.doc", ["Dear reader,"]), "noext").kind == "doc"
    assert sniff_file(docgen.msg(tmp_path / "mail.msg", "Hi", "Ada", "ada@example.com", "Grace",
                                    "Hello"), "noext").kind == "email"
    book = docgen.epub(tmp_path / "book.epub", "Book", [("One", ["Text."])])
    assert sniff_file(book, "noext").kind == "epub"
    assert sniff_file(docgen.tiff(tmp_path / "scan.tiff", "Scanned words"), "x").kind == "image"
    assert sniff_type(b"# Title\n\ntext", "notes.md").kind == "markdown"
    assert sniff_type(b"a,b\n1,2\n", "data.csv").kind == "csv"
    assert sniff_type(b"<!doctype html><p>x</p>", "page.txt").kind == "html"
    assert sniff_type(b"From: a@b.c\nTo: d@e.f\nSubject: hi\n\nbody", "mail").kind == "email"
    with pytest.raises(ExtractionError, match=re.escape("The file is empty.")):
        sniff_type(b"", "a.pdf")
    with pytest.raises(ExtractionError, match="Unsupported file type"):
        sniff_type(bytes(range(256)) * 8, "a.txt")
    with pytest.raises(ExtractionError, match="Unsupported file type"):
        sniff_type(b"\x1f\x8b\x08\x00" + bytes(200), "a.gz")


def test_truncated_docx_is_damaged(tmp_path: Path) -> None:
    whole = docgen.docx(tmp_path / "whole.docx", "Manual", docgen.paragraphs(1, 40))
    assert whole.stat().st_size > 30_000 and extract(whole, "docx", ExtractionLimits()).blocks
    cut = tmp_path / "cut.docx"
    cut.write_bytes(whole.read_bytes()[:20_000])
    with pytest.raises(ExtractionError, match="damaged or truncated"):
        extract(cut, sniff_file(cut).kind, ExtractionLimits())


def test_image_without_ocr_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="text recognition is turned off") as picture:
        extract(docgen.tiff(tmp_path / "scan.tiff", "Scanned words"), "image",
                ExtractionLimits(ocr_enabled=False))
    scanned = docgen.scanned_pdf(tmp_path / "scan.pdf", ["Lorem ipsum dolor sit amet"])
    with pytest.raises(ExtractionError, match="scanned document") as scan:
        extract(scanned, "pdf", ExtractionLimits(ocr_enabled=False))
    for failure in (picture.value, scan.value):  # what a user can do, never server instructions
        assert "administrator" in failure.message and "install" not in failure.message
        assert not failure.retryable
