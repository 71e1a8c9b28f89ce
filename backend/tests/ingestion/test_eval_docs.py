"""Every evaluation document either extracts sensible text or fails with a clear message.

Needs the real corpus: runs only when CITEWISE_EVAL_DOCS is set (see tests/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.ingestion.parsers import extract
from app.ingestion.sandbox import extract_isolated
from app.ingestion.sniff import sniff_file
from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits
from tests.ingestion.conftest import eval_files, manifest

pytestmark = pytest.mark.eval_docs

MANIFEST = manifest()
LIMITS = ExtractionLimits()
# fullrefman has 2,415 pages: more than the default limit of 2,000, so it must be refused.
PAGE_LIMIT = "This PDF has 2415 pages, more than the limit of 2000."
ENCRYPTED = "This PDF is password-protected; remove the password and upload it again."

# Files that must fail, with (part of) the message the user sees.
EXPECTED_ERRORS: dict[str, str] = {
    "pdf/fullrefman.pdf": PAGE_LIMIT,
    "tricky/password.pdf": ENCRYPTED,
    "tricky/libreoffice-writer-password.pdf": ENCRYPTED,
    "tricky/zero_bytes.docx": "The file is empty.",
    "tricky/zero_bytes.pdf": "The file is empty.",
    "tricky/empty.xlsx": "No extractable text was found in this file.",
    "pptx/picture.pptx": "No extractable text was found in this file.",
    # pdfium cannot open it at all ("Data format error"): reported as damaged.
    "tricky/unreadablemetadata.pdf": "damaged or truncated",
    # Six pictures without writing: OCR (rapidocr, always installed) runs and finds nothing.
    "pdf_scanned/imagemagick-images.pdf": "No text could be recognised in this scanned document",
}

# Words the text must contain (from the file names, the manifest notes, or the files themselves).
EXPECTED_WORDS: dict[str, list[str]] = {
    "csv/iris.csv": ["5.1", "setosa"],
    "csv/semicolon-delimited.csv": ["Lorem, ipsum: consectetur"],
    "docx/live-manual.en.docx": ["live-build", "persistence"],
    "docx/tables-with-incomplete-rows.docx": ["Example of DOCX table"],
    "email/fake-email-attachment.eml": ["Subject: Fake email with attachment", "Attachments:"],
    "email/fake-email.msg": ["Subject: Test Email"],
    "epub/winter-sports.epub": ["Switzerland"],
    "html/example-with-scripts.html": ["Russian Offensive Campaign"],
    "html/python_library_functools.html": ["lru_cache"],
    "markdown/simple-table.md": ["Juicy Apples"],
    "odt/live-manual.en.odt": ["live-build"],
    "ods/wine_data.ods": ["14.23"],
    "pdf/korean-text-with-tables.pdf": ["적립"],
    "pdf/GeoTopo-komprimiert.pdf": ["Topologie"],
    "rst/tutorial_classes.rst.txt": ["namespace"],
    "rtf/fake-doc.rtf": ["My first paragraph"],
    "tricky/cjk_euc_jp.txt": ["開発"],
    "tricky/cjk_euc_kr.txt": ["파이썬"],
    "tricky/cjk_gb2312.txt": ["语言"],
    "tricky/cjk_iso2022_jp.txt": ["開発"],
    "tricky/copy-protected.pdf": ["LayoutParser"],
    "tricky/example-steelJIS-datasheet-utf-16.html": ["SteelJIS"],
    "tricky/html_named_as.txt": ["lru_cache"],
    "tricky/live-manual.fr.latin1.txt": ["À PROPOS"],
    "tricky/umlauts-non-utf8.md": ["können", "äöüß"],
    "txt/live-manual.en.txt": ["live-build"],
    "xls/tests-example.xls": ["What is 2+2?"],
    "xlsx/emoji.xlsx": ["🤠"],
    "xlsx/stanley-cups.xlsx": ["Team: Blues"],
    "pdf_scanned/loremipsum-flat.pdf": ["Lorem ipsum", "consectetur adipiscing"],
    "image/layout-parser-paper-fast.tiff": ["LayoutParser", "document image analysis"],
    "doc/simple.doc": ["favorite things"],
    "ppt/fake-power-point.ppt": ["Adding a Bullet Slide"],
}
EXPECTED_KIND = {
    "tricky/html_named_as.txt": "html",
    "email/fake-email.msg": "email",
    "rst/library_functools.rst.txt": "rst",
}


def _text(doc: ExtractedDocument) -> str:
    return "\n\n".join(b.text for b in doc.blocks)


def _check(rel: str, doc: ExtractedDocument) -> None:
    text = _text(doc)
    assert text.strip(), rel
    assert "\ufffd" not in text[:2000] or rel.startswith("pdf_scanned/"), rel
    assert "\x02" not in text and "\x00" not in text
    assert all(b.text.strip() and 1 <= b.page <= doc.page_count for b in doc.blocks)
    pages = MANIFEST.get(rel, {}).get("pdf_pages", "")
    if pages.isdigit():
        assert doc.page_count == int(pages), rel
    for word in EXPECTED_WORDS.get(rel, []):
        assert word in text, (rel, word)
    if rel.startswith("pdf/") and int(pages or 0) > 1:
        assert max(b.page for b in doc.blocks) > 1, "PDF pages must be numbered per page"


def _run_sync(path: Path, rel: str) -> ExtractedDocument:
    detected = sniff_file(path)
    if rel in EXPECTED_KIND:
        assert detected.kind == EXPECTED_KIND[rel]
    return extract(path, detected.kind, LIMITS)


ALL = eval_files()
# Without the corpus, one placeholder per parametrised test: it is reported as skipped (with the
# reason naming CITEWISE_EVAL_DOCS) rather than as pytest's anonymous "empty parameter set".
PLAIN = [f for f in ALL if not f.startswith("tricky/")] or ["(corpus not set)"]
TRICKY = [f for f in ALL if f.startswith("tricky/")] or ["(corpus not set)"]


@pytest.mark.parametrize("rel", PLAIN)
def test_eval_document(rel: str, eval_docs: Path) -> None:
    path = eval_docs / rel
    if rel in EXPECTED_ERRORS:
        with pytest.raises(ExtractionError, match=re.escape(EXPECTED_ERRORS[rel])):
            _run_sync(path, rel)
        return
    _check(rel, _run_sync(path, rel))


@pytest.mark.parametrize("rel", TRICKY)
async def test_tricky_document_isolated(rel: str, eval_docs: Path) -> None:
    """Tricky files go through the sandboxed child process, as the worker runs them."""
    path = eval_docs / rel
    try:
        kind = sniff_file(path).kind
    except ExtractionError as exc:
        assert rel in EXPECTED_ERRORS and EXPECTED_ERRORS[rel] in exc.message
        return
    if rel in EXPECTED_KIND:
        assert kind == EXPECTED_KIND[rel]
    pages: list[tuple[int, int]] = []
    if rel in EXPECTED_ERRORS:
        with pytest.raises(ExtractionError, match=re.escape(EXPECTED_ERRORS[rel])):
            await extract_isolated(path, kind, LIMITS, lambda d, t, _stage: pages.append((d, t)))
        return
    doc = await extract_isolated(path, kind, LIMITS, lambda d, t, _stage: pages.append((d, t)))
    _check(rel, doc)
    assert pages and pages[-1] == (doc.page_count, doc.page_count)


def test_manifest_is_covered(eval_docs: Path) -> None:
    """The parametrisation really saw the whole folder (guards against an empty glob)."""
    assert len(ALL) == len(MANIFEST) > 80
    assert set(EXPECTED_ERRORS) <= set(ALL)
    assert set(EXPECTED_WORDS) <= set(ALL)


def test_live_manual_agrees_across_formats(eval_docs: Path) -> None:
    """The same manual as txt/docx/odt/html/epub yields comparable amounts of text."""
    sizes = {}
    for rel in (
        "txt/live-manual.en.txt",
        "docx/live-manual.en.docx",
        "odt/live-manual.en.odt",
        "html/live-manual.en.html",
        "epub/live-manual.en.epub",
    ):
        sizes[rel] = len(_text(_run_sync(eval_docs / rel, rel)))
    smallest, largest = min(sizes.values()), max(sizes.values())
    assert largest < 2 * smallest, sizes
