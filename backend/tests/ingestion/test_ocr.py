"""Text recognition works out of the box: rapidocr's models ship in its wheel, no system package.

These tests run the real engine on page images rendered at test time (tests/docgen.py) in the real
extraction sandbox. They do not need Tesseract: the default engine is rapidocr, and a machine with
tesseract installed still runs rapidocr here."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.config import Settings
from app.ingestion.ocr import OcrUnavailable, engine_for
from app.ingestion.ocr.lines import Box, join_lines
from app.ingestion.ocr.rapid import SPACE_PROBABILITY, SpacedCtcDecoder
from app.ingestion.parsers import extract
from app.ingestion.sandbox import extract_isolated
from app.ingestion.types import ExtractionError, ExtractionLimits
from tests import docgen

PAGES = [
    "Quarterly report. The warehouse in Rotterdam shipped 4,250 crates of porcelain in March.",
    "Second page: the auditors visited on Tuesday and found the inventory complete.",
]


def test_rapidocr_is_the_default_engine() -> None:
    assert Settings().ocr_engine == "rapidocr" and ExtractionLimits().ocr_engine == "rapidocr"
    assert engine_for(ExtractionLimits()).name == "rapidocr"


async def test_scanned_pdf_is_read_page_by_page_in_the_sandbox(tmp_path: Path) -> None:
    scan = docgen.scanned_pdf(tmp_path / "scan.pdf", PAGES)
    events: list[tuple[int, int, str]] = []
    doc = await extract_isolated(scan, "pdf", ExtractionLimits(), lambda *e: events.append(e))
    assert doc.ocr_used and doc.page_count == 2
    by_page = {b.page: b.text for b in doc.blocks}
    assert set(by_page) == {1, 2}
    for word in ("Quarterly report", "Rotterdam", "porcelain", "March"):
        assert word in by_page[1], (word, by_page[1])
    for word in ("auditors", "Tuesday", "inventory complete"):
        assert word in by_page[2], (word, by_page[2])
    # Per-page progress of the recognition itself, after the (empty) text layer pass.
    assert [e for e in events if e[2] == "ocr"] == [(1, 2, "ocr"), (2, 2, "ocr")]


def test_multi_page_tiff_gives_one_page_per_frame(tmp_path: Path) -> None:
    frames = [docgen.text_image("First frame about lighthouses"),
              docgen.text_image("Second frame about glaciers")]
    path = tmp_path / "scan.tiff"
    frames[0].save(path, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    doc = extract(path, "image", ExtractionLimits())
    assert doc.page_count == 2
    assert "lighthouses" in " ".join(b.text for b in doc.blocks if b.page == 1)
    assert "glaciers" in " ".join(b.text for b in doc.blocks if b.page == 2)


def test_blank_scan_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "blank.pdf"
    Image.new("L", (850, 1100), 255).save(path, "PDF", resolution=100.0)
    with pytest.raises(ExtractionError, match="No text could be recognised") as failure:
        extract(path, "pdf", ExtractionLimits())
    assert not failure.value.retryable


def test_too_many_scanned_pages_names_the_limit(tmp_path: Path) -> None:
    scan = docgen.scanned_pdf(tmp_path / "scan.pdf", ["one", "two", "three"])
    with pytest.raises(ExtractionError, match="reads at most 2 pages") as failure:
        extract(scan, "pdf", ExtractionLimits(ocr_max_pages=2))
    assert not failure.value.retryable


def test_tesseract_configured_but_missing_is_an_admin_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on this PATH, whatever the machine has
    assert shutil.which("tesseract") is None
    scan = docgen.scanned_pdf(tmp_path / "scan.pdf", ["Lorem ipsum"])
    with pytest.raises(OcrUnavailable) as failure:
        extract(scan, "pdf", ExtractionLimits(ocr_engine="tesseract"))
    error = failure.value
    assert error.retryable and "tesseract" not in error.message  # the user is told to retry later
    assert error.detail is not None and "tesseract" in error.detail  # the admin learns why


# ---- the decoder and the line layout, on hand-made model output ---------------------------------

CHARS = ["blank", "a", "b", "c", " "]


def _frames(*rows: tuple[int, float]) -> np.ndarray:
    """One line's model output: each frame gives its best class; ``space`` is the space share."""
    out = np.zeros((1, len(rows), len(CHARS)), dtype=np.float32)
    for t, (best, space) in enumerate(rows):
        out[0, t, best] = 0.9 - space if best == 0 else 0.95
        out[0, t, 4] = max(out[0, t, 4], space)
    return out


def test_decoder_inserts_spaces_the_model_hesitated_on() -> None:
    decode = SpacedCtcDecoder(list(CHARS))
    # "ab" then a gap whose space share is over the threshold, then "c": "ab c".
    hesitant = _frames((1, 0.0), (0, 0.0), (2, 0.0), (0, SPACE_PROBABILITY + 0.1), (3, 0.0))
    assert decode(hesitant)[0][0] == "ab c"
    # The same gap with a space share under the threshold stays one word; repeats collapse.
    sure = _frames((1, 0.0), (1, 0.0), (2, 0.0), (0, SPACE_PROBABILITY / 2), (3, 0.0))
    assert decode(sure)[0][0] == "abc"
    # A space the model did predict is kept once, never doubled.
    spaced = _frames((1, 0.0), (4, 0.9), (0, 0.5), (2, 0.0))
    assert decode(spaced)[0][0] == "a b"


def test_boxes_on_one_line_are_joined_left_to_right() -> None:
    boxes = [Box(300, 10, 40, "world"), Box(10, 12, 38, "hello"), Box(10, 60, 90, "next line")]
    assert join_lines(boxes) == "hello world\nnext line"
