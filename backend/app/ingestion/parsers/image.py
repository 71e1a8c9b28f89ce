"""Images (PNG, JPEG, TIFF, ...): OCR with tesseract when available."""

from __future__ import annotations

import re
from pathlib import Path

from app.ingestion.parsers._text import BlockBuilder
from app.ingestion.parsers.ocr import ocr_image, tesseract_path
from app.ingestion.parsers.pdf import clean_page_text
from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits

NO_OCR_IMAGE = (
    "This is an image; text can only be read from images when OCR is enabled (install tesseract-ocr)."
)


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    if not limits.ocr_enabled or tesseract_path() is None:
        raise ExtractionError(NO_OCR_IMAGE)
    pages = ocr_image(path)
    while pages and not pages[-1].strip():
        pages.pop()  # tesseract ends its output with a form feed
    if len(pages) > limits.max_pages:
        raise ExtractionError(
            f"This image has {len(pages)} pages, more than the limit of {limits.max_pages}."
        )
    out = BlockBuilder()
    for number, text in enumerate(pages, start=1):
        for para in re.split(r"\n\s*\n", text):
            out.add(clean_page_text(para), page=number)
    if not out.blocks:
        raise ExtractionError("No text could be recognised in this image.")
    return ExtractedDocument(out.blocks, max(1, len(pages)), ocr_used=True)
