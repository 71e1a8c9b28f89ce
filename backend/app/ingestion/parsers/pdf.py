"""PDF text per page with pypdfium2 (exact 1-based page numbers), OCR fallback for scans."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from app.ingestion.ocr import OCR_OFF_SCAN, recognise_pages
from app.ingestion.parsers._outline import Mark, section_blocks
from app.ingestion.parsers._text import clean_text, squash
from app.ingestion.types import (
    DAMAGED,
    ExtractedDocument,
    ExtractionError,
    ExtractionLimits,
    Progress,
    too_much_text,
)

ENCRYPTED_PDF = "This PDF is password-protected; remove the password and upload it again."
_FPDF_ERR_PASSWORD = 4
# pdfium marks a hyphen it considers a line-break hyphen with \x02; soft hyphens are U+00AD.
_BREAK_HYPHEN = re.compile(r"[\x02\u00ad]\s*\n\s*")
_LINE_HYPHEN = re.compile(r"(\w)-\n\s*(?=[a-zà-ÿ])")


def clean_page_text(raw: str) -> str:
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _BREAK_HYPHEN.sub("", text)
    text = text.replace("\x02", "-").replace("\u00ad", "")
    text = _LINE_HYPHEN.sub(r"\1", text)
    text = clean_text(text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _FPDF_ERR_PASSWORD:
            raise ExtractionError(ENCRYPTED_PDF) from exc
        raise ExtractionError(DAMAGED) from exc


def _outline(pdf: pdfium.PdfDocument, page_count: int) -> list[Mark]:
    """The outline's bookmarks by page (outline order within a page); none if it is unreadable."""
    marks: list[Mark] = []
    try:
        for i, bookmark in enumerate(pdf.get_toc(max_depth=6)):
            if i > 20_000:
                break
            dest = bookmark.get_dest()
            index = dest.get_index() if dest is not None else None
            title = squash(bookmark.get_title() or "")
            if index is not None and 0 <= index < page_count and title:
                marks.append(Mark(index, bookmark.level, title[:200]))
    except (pdfium.PdfiumError, ValueError, RecursionError):
        return []
    return sorted(marks, key=lambda m: m.page)  # stable: keeps outline order within a page


def _title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        title = squash(pdf.get_metadata_value("Title") or "")
    except (pdfium.PdfiumError, UnicodeDecodeError, ValueError):
        return None
    return title or None


def parse(path: Path, limits: ExtractionLimits, progress: Progress | None = None) -> ExtractedDocument:
    pdf = _open(path)
    try:
        page_count = len(pdf)
        if page_count == 0:
            raise ExtractionError("This PDF has no pages.")
        if page_count > limits.max_pages:
            raise ExtractionError(
                f"This PDF has {page_count} pages, more than the limit of {limits.max_pages}."
            )
        texts: list[str] = []
        step = max(1, page_count // 50)
        chars = 0
        for index in range(page_count):
            texts.append(_page_text(pdf, index))
            chars += len(texts[-1])
            if chars > limits.max_chars:  # stop now: pages can share one huge content stream
                raise too_much_text(limits)
            if progress is not None and ((index + 1) % step == 0 or index + 1 == page_count):
                progress(index + 1, page_count, "extracting")
        marks = _outline(pdf, page_count)
        if not any(texts):
            return _ocr_document(pdf, limits, marks, progress)
        return ExtractedDocument(section_blocks(marks, texts), page_count, _title(pdf))
    finally:
        pdf.close()


def _page_text(pdf: pdfium.PdfDocument, index: int) -> str:
    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        return ""  # one broken page should not lose the rest of the document
    try:
        textpage = page.get_textpage()
        try:
            return clean_page_text(textpage.get_text_bounded())
        finally:
            textpage.close()
    except pdfium.PdfiumError:
        return ""
    finally:
        page.close()


def _ocr_document(
    pdf: pdfium.PdfDocument,
    limits: ExtractionLimits,
    marks: list[Mark],
    progress: Progress | None,
) -> ExtractedDocument:
    if not limits.ocr_enabled:
        raise ExtractionError(OCR_OFF_SCAN)
    page_count = len(pdf)
    texts = recognise_pages(_page_images(pdf, limits.ocr_dpi), page_count, limits, progress)
    pages = [clean_page_text(raw) for raw in texts]
    blocks = section_blocks(marks, pages)
    if not blocks:
        raise ExtractionError(NO_TEXT_IN_SCAN)
    return ExtractedDocument(blocks, page_count, _title(pdf), ocr_used=True)


NO_TEXT_IN_SCAN = ("No text could be recognised in this scanned document: its pages hold pictures "
                   "without readable writing, or the scan is too faint or blurred.")


def _page_images(pdf: pdfium.PdfDocument, dpi: int) -> Iterator[Image.Image]:
    """Each page rendered for recognition, one at a time (a page bitmap is megabytes)."""
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            yield page.render(scale=dpi / 72, grayscale=True).to_pil()
        finally:
            page.close()
