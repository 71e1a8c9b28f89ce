"""Shared fixtures for ingestion tests: the evaluation documents and their manifest."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

EVAL_DOCS = Path(__file__).resolve().parents[3] / ".." / "shared" / "eval" / "docs"


def manifest() -> dict[str, dict[str, str]]:
    path = EVAL_DOCS / "MANIFEST.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["path"]: row for row in csv.DictReader(fh, delimiter="\t")}


def eval_files() -> list[str]:
    if not EVAL_DOCS.exists():
        return []
    return sorted(
        str(p.relative_to(EVAL_DOCS))
        for p in EVAL_DOCS.rglob("*")
        if p.is_file() and p.name != "MANIFEST.tsv"
    )


@pytest.fixture(scope="session")
def eval_docs() -> Path:
    if not EVAL_DOCS.exists():
        pytest.skip("evaluation documents (shared/eval/docs) are not present")
    return EVAL_DOCS.resolve()
