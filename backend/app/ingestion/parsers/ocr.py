"""OCR through the ``tesseract`` command line (no Python binding is installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from app.ingestion.types import ExtractionError

NO_OCR_SCAN = (
    "No extractable text — this looks like a scanned document; "
    "enable OCR (install tesseract-ocr) to index it."
)
_PAGE_TIMEOUT_S = 120.0


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def ocr_image(image: Path, language: str = "eng") -> list[str]:
    """Text of each page of an image file (multi-page TIFFs give several pages)."""
    exe = tesseract_path()
    if exe is None:
        raise ExtractionError(NO_OCR_SCAN)
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [exe, str(image), "stdout", "-l", language],
            capture_output=True,
            timeout=_PAGE_TIMEOUT_S,
            check=False,
            env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError("Text recognition (OCR) took too long on this file.") from exc
    if done.returncode != 0:
        raise ExtractionError("Text recognition (OCR) could not read this image.")
    text = done.stdout.decode("utf-8", "replace")
    return text.split("\f")
