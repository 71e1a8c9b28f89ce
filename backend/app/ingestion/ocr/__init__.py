"""Text recognition (OCR) for scanned PDF pages and images.

Two engines read a page image and return its text, lines in reading order:
- ``rapidocr`` (default): PP-OCRv4 detection and recognition ONNX models that ship inside the
  ``rapidocr-onnxruntime`` wheel, run by onnxruntime. Works on every install, nothing downloaded.
- ``tesseract``: the ``tesseract`` command, where an administrator installed it (more languages
  through ``CITEWISE_OCR_LANGUAGES``).

Engines are built inside the extraction child (``app.ingestion.warm_pool``), never in the warm host:
an onnxruntime session does not survive ``fork``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from PIL import Image

from app.ingestion.ocr.errors import OCR_OFF_IMAGE, OCR_OFF_SCAN, OCR_UNAVAILABLE, OcrUnavailable
from app.ingestion.types import ExtractionError, ExtractionLimits, Progress

__all__ = ["OCR_OFF_IMAGE", "OCR_OFF_SCAN", "OCR_UNAVAILABLE", "OcrEngine", "OcrUnavailable",
           "engine_for", "recognise_pages"]


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image.Image) -> str:
        """The text of one page image, one line per line of text, in reading order."""
        ...


def engine_for(limits: ExtractionLimits) -> OcrEngine:
    """The engine the limits name; raises OcrUnavailable if it cannot run on this machine."""
    if limits.ocr_engine == "tesseract":
        from app.ingestion.ocr.tesseract import TesseractEngine

        return TesseractEngine(limits.ocr_languages)
    from app.ingestion.ocr.rapid import RapidOcrEngine

    return RapidOcrEngine(threads=limits.ocr_threads)


def recognise_pages(pages: Iterable[Image.Image], total: int, limits: ExtractionLimits,
                    progress: Progress | None) -> list[str]:
    """The text of each page image, reporting ``(page, total, "ocr")`` after each page."""
    if total > limits.ocr_max_pages:
        raise ExtractionError(
            f"This scanned document has {total} pages; text recognition reads at most "
            f"{limits.ocr_max_pages} pages per document. Split it into smaller files and upload those."
        )
    engine = engine_for(limits)
    texts: list[str] = []
    for number, image in enumerate(pages, start=1):
        texts.append(engine.read(_bounded(image)))
        if progress is not None:
            progress(number, total, "ocr")
    return texts


# A page larger than this (an A4 page at ~400 dpi) is scaled down first: the detector resizes to
# 2000 px anyway, and a huge bitmap only costs memory.
MAX_SIDE = 4800


def _bounded(image: Image.Image) -> Image.Image:
    if max(image.size) <= MAX_SIDE:
        return image
    scale = MAX_SIDE / max(image.size)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
