"""Turning spreadsheet-like rows into table_row blocks ("Header: value; Header: value")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from app.ingestion.parsers._text import BlockBuilder, format_row, looks_like_header, squash

MAX_ROWS = 100_000  # per document: beyond this a spreadsheet is a database dump, not prose
MAX_COLUMNS = 500


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.12g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return squash(str(value))


class RowWriter:
    """Writes the rows of successive sheets, sharing one row budget across the document."""

    def __init__(self) -> None:
        self.out = BlockBuilder()
        self.rows_written = 0

    @property
    def full(self) -> bool:
        return self.rows_written >= MAX_ROWS

    def sheet(self, name: str | None, page: int, rows: Iterable[Iterable[object]]) -> None:
        self.out.reset_headings()
        pending_name = name  # written only once the sheet has content: empty sheets add nothing
        header: list[str] | None = None
        first = True
        for raw in rows:
            if self.full:
                return
            cells = [cell_text(v) for _, v in zip(range(MAX_COLUMNS), raw, strict=False)]
            while cells and not cells[-1]:
                cells.pop()
            if not any(cells):
                continue
            if pending_name:
                self.out.heading(pending_name, 1, page)
                pending_name = None
            if first and sum(1 for c in cells if c) == 1:
                # Lone cells above the table are captions; the header row may follow them.
                self.out.add(" ".join(cells), "paragraph", page)
                continue
            if first:
                first = False
                if looks_like_header(cells):
                    header = cells
                    continue
            self.out.add(format_row(cells, header), "table_row", page)
            self.rows_written += 1
