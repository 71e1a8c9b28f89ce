"""How a citation names where its passage is (app.documents.locations)."""

from __future__ import annotations

import pytest

from app.documents.locations import location


@pytest.mark.parametrize(("kind", "page", "path", "expected"), [
    ("pdf", 12, ["1 Introduction", "R and statistics"], "p. 12"),
    ("image", 1, [], "p. 1"),
    ("pptx", 3, ["This is the first content slide"], "slide 3"),
    ("xlsx", 2, ["Stanley Cups Since 67"], "sheet 2"),
    ("epub", 4, ["CHAPTER III"], "ch. 4"),
    # Formats without pages: the innermost heading, not "p. 1".
    ("html", 1, ["json — JSON encoder and decoder", "Basic Usage"], "Basic Usage"),
    ("docx", 1, ["About 「2」", "About this manual 「3」"], "About this manual"),
    ("rst", 1, [":class:`partial` Objects"], "partial Objects"),
    ("markdown", 1, ["Crypto", "  "], "Crypto"),
    ("text", 1, [], None),
    ("markdown", 1, ["A" * 80], "A" * 59 + "…"),
])
def test_location(kind: str, page: int, path: list[str], expected: str | None) -> None:
    assert location(kind, page, path) == expected
