"""OCR through the ``tesseract`` command line, where it is installed (``CITEWISE_OCR_ENGINE=tesseract``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from app.ingestion.ocr.errors import OcrUnavailable
from app.ingestion.types import ExtractionError

_PAGE_TIMEOUT_S = 120.0


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


class TesseractEngine:
    name = "tesseract"

    def __init__(self, languages: str = "eng") -> None:
        exe = tesseract_path()
        if exe is None:
            raise OcrUnavailable("CITEWISE_OCR_ENGINE=tesseract, but the tesseract command is not "
                                 "installed on this worker (install tesseract-ocr, or use rapidocr)")
        self._exe = exe
        self._languages = languages

    def read(self, image: Image.Image) -> str:
        with tempfile.TemporaryDirectory(prefix="citewise-ocr-") as tmp:
            path = Path(tmp) / "page.png"
            image.save(path)
            try:
                done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                    [self._exe, str(path), "stdout", "-l", self._languages],
                    capture_output=True,
                    timeout=_PAGE_TIMEOUT_S,
                    check=False,
                    env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
                )
            except subprocess.TimeoutExpired as exc:
                raise ExtractionError("Text recognition took too long on a page of this file.") from exc
        if done.returncode != 0:
            stderr = done.stderr.decode("utf-8", "replace").strip()[-300:]
            if "language" in stderr.lower() or "data file" in stderr.lower():  # a missing pack
                raise OcrUnavailable(f"tesseract -l {self._languages} failed: {stderr}")
            raise ExtractionError("Text recognition could not read a page of this file.",
                                  detail=f"tesseract exited with {done.returncode}: {stderr}")
        return done.stdout.decode("utf-8", "replace").replace("\f", "")
