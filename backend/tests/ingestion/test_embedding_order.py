"""The pipeline embeds a document's chunks shortest first, so each embedding call pads little."""

from __future__ import annotations

from typing import Any

from app.ingestion.pipeline import EMBED_BATCH, embedding_order


def words(text: str) -> int:
    return len(text.split())


def row(n: int, tokens: int, path: list[str]) -> dict[str, Any]:
    return {"id": f"d:1:{n}", "n": n, "text": "w " * tokens, "token_count": tokens, "heading_path": path}


def test_rows_come_shortest_first_counting_the_heading_path() -> None:
    rows = [
        row(0, 200, []),
        row(1, 10, ["A very long heading with many words in it", "and a subsection"]),
        row(2, 12, []),
        row(3, 250, ["Short"]),
        row(4, 11, ["H"]),
    ]
    ordered = embedding_order(rows, words)
    # 1 counts 10 + 12 heading words + 1; 4 counts 11 + 1 + 1; 2 counts 12.
    assert [r["n"] for r in ordered] == [2, 4, 1, 0, 3]


def test_every_row_is_embedded_exactly_once_and_rows_are_untouched() -> None:
    rows = [row(i, (i * 37) % 256, ["S", str(i % 3)] if i % 2 else []) for i in range(3 * EMBED_BATCH + 5)]
    before = [dict(r) for r in rows]
    ordered = embedding_order(rows, words)
    assert sorted(r["id"] for r in ordered) == sorted(r["id"] for r in rows)
    assert rows == before  # the caller's list keeps document order
    lengths = [r["token_count"] + (words(" > ".join(r["heading_path"])) + 1 if r["heading_path"] else 0)
               for r in ordered]
    assert lengths == sorted(lengths)
