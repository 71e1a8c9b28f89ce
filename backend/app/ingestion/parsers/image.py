"""Images (PNG, JPEG, TIFF, ...): text recognition (OCR), one page per frame of a multi-page TIFF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageSequence

from app.ingestion.ocr import OCR_OFF_IMAGE, recognise_pages
from app.ingestion.parsers._text import BlockBuilder
from app.ingestion.parsers.pdf import clean_page_text
from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits, Progress

NO_TEXT_IN_IMAGE = ("No text could be recognised in this picture: it holds no readable writing, or "
                    "the writing is too small, faint or blurred.")


def parse(path: Path, limits: ExtractionLimits, progress: Progress | None = None) -> ExtractedDocument:
    if not limits.ocr_enabled:
        raise ExtractionError(OCR_OFF_IMAGE)
    with Image.open(path) as image:
        frames = getattr(image, "n_frames", 1)
        if frames > limits.max_pages:
            raise ExtractionError(
                f"This image has {frames} pages, more than the limit of {limits.max_pages}."
            )
        texts = recognise_pages(_frames(image), frames, limits, progress)
    out = BlockBuilder()
    for number, text in enumerate(texts, start=1):
        for para in re.split(r"\n\s*\n", text):
            out.add(clean_page_text(para), page=number)
    if not out.blocks:
        raise ExtractionError(NO_TEXT_IN_IMAGE)
    return ExtractedDocument(out.blocks, max(1, frames), ocr_used=True)


def _frames(image: Image.Image) -> Iterator[Image.Image]:
    for frame in ImageSequence.Iterator(image):
        yield frame.convert("L")
