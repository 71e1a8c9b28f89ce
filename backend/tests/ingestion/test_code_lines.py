"""Code keeps its lines and its indentation in every format that marks it as code; prose is
reflowed. (Python's nesting is its indentation: a flattened `def` reads as a different program.)"""

from __future__ import annotations

from pathlib import Path

from app.ingestion.parsers import extract
from app.ingestion.types import ExtractionLimits

CODE = "def area(r):\n    if r < 0:\n        raise ValueError(r)\n    return 3.14 * r * r"


def _texts(path: Path, kind: str) -> list[str]:
    return [b.text for b in extract(path, kind, ExtractionLimits()).blocks]


def test_a_markdown_fence_keeps_indentation(tmp_path: Path) -> None:
    path = tmp_path / "area.md"
    path.write_text(f"# Area\n\nCompute it\nlike this:\n\n```python\n{CODE}\n```\n")
    assert _texts(path, "markdown") == ["Area", "Compute it like this:", CODE]


def test_an_html_pre_keeps_indentation_less_its_common_margin(tmp_path: Path) -> None:
    shifted = "\n".join("    " + line for line in CODE.split("\n"))
    path = tmp_path / "area.html"
    path.write_text(f"<html><body><h1>Area</h1><p>Compute it\nlike this:</p><pre>\n{shifted}\n"
                    "</pre></body></html>")
    assert _texts(path, "html") == ["Area", "Compute it like this:", CODE]


def test_tabs_become_spaces_and_runs_within_a_line_one_space(tmp_path: Path) -> None:
    path = tmp_path / "tabs.md"
    path.write_text("```\nif x:\n\ty  =  1\n```\n")
    assert _texts(path, "markdown") == ["if x:\n    y = 1"]
