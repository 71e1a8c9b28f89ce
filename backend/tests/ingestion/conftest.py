"""The real evaluation corpus's manifest and file list (empty when CITEWISE_EVAL_DOCS is unset)."""

from __future__ import annotations

import csv

from tests.conftest import eval_docs_dir


def manifest() -> dict[str, dict[str, str]]:
    folder = eval_docs_dir()
    if folder is None:
        return {}
    with (folder / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return {row["path"]: row for row in csv.DictReader(fh, delimiter="\t")}


def eval_files() -> list[str]:
    folder = eval_docs_dir()
    if folder is None:
        return []
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != "MANIFEST.tsv"
    )
