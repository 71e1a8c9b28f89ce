"""One cell of a table, asked for by column and row: "In the table on the last slide, what is in
column C of the second row?". The parsers write each row of a table with a header on a line of
its own, as "Header: value" cells joined by " | " or "; " (`app.ingestion.parsers._text.format_row`),
so the rows of one table are consecutive lines with the same headers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.rag.terms import ORDINALS

_ORDINALS = {**ORDINALS, "last": -1}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10}
_ORDINAL = "|".join(_ORDINALS)
_QUOTED = r"[\"'“‘]([^\"'”’]{1,40})[\"'”’]"
# "column C", "column 'Location'", "the Location column".
_COLUMN = re.compile(rf"\bcolumn\s+(?:{_QUOTED}|([A-Za-z0-9][\w.-]{{0,30}}))"
                     rf"|\bthe\s+(?:{_QUOTED}|([A-Za-z0-9][\w.-]{{0,30}}))\s+column\b", re.I)
# "the second row", "the 2nd row", "row 2", "row two".
_ROW = re.compile(rf"\b({_ORDINAL}|\d{{1,3}}(?:st|nd|rd|th))\s+(?:data\s+)?row\b"
                  rf"|\brow\s+(\d{{1,3}}|{'|'.join(_NUMBERS)})\b", re.I)
_CELL = re.compile(r"^([^:|;]{1,40}):\s*(.*\S)\s*$")


@dataclass(frozen=True, slots=True)
class TableCell:
    text: int  # which of the texts searched holds it
    header: str  # the column as the table names it
    value: str
    row: str  # the whole row, as written


def asked_cell(question: str) -> tuple[str, int] | None:
    """The column and the row (1 = the first row under the header, -1 the last) the question
    asks for, or None."""
    column, row = _COLUMN.search(question), _ROW.search(question)
    if column is None or row is None:
        return None
    name = next(g for g in column.groups() if g)
    word = (row.group(1) or row.group(2)).lower()
    number = _ORDINALS.get(word) or _NUMBERS.get(word) or int(re.sub(r"\D", "", word))
    return (name, number) if number else None


def row_cells(line: str) -> list[tuple[str, str]] | None:
    """A table row's (header, value) cells, or None when `line` is not one."""
    parts = line.split(" | ") if " | " in line else line.split("; ")
    cells = [_CELL.match(part.strip()) for part in parts]
    if len(cells) < 2 or not all(cells):
        return None
    return [(m.group(1).strip(), m.group(2)) for m in cells if m]


def tables(text: str) -> list[list[tuple[str, list[tuple[str, str]]]]]:
    """The tables of a text: runs of consecutive row lines (blank lines between them allowed)
    with the same headers, each row as (line, cells)."""
    found: list[list[tuple[str, list[tuple[str, str]]]]] = []
    current: list[tuple[str, list[tuple[str, str]]]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        cells = row_cells(line)
        if cells and current and [h for h, _ in cells] == [h for h, _ in current[0][1]]:
            current.append((line, cells))
            continue
        if current:
            found.append(current)
        current = [(line, cells)] if cells else []
    if current:
        found.append(current)
    return found


def find_cell(question: str, texts: Sequence[str]) -> TableCell | None:
    """The cell the question asks for in the tables of `texts` (best first): the first text's
    table with that column and row; None when the question asks for no cell, no table has it, or
    two tables of the first text holding one disagree."""
    asked = asked_cell(question)
    if asked is None:
        return None
    name, number = asked
    for i, text in enumerate(texts):
        cells = set()
        for table in tables(text):
            headers = [h for h, _ in table[0][1]]
            column = next((h for h in headers if h.lower() == name.lower()), None)
            if column is None or abs(number) > len(table):
                continue
            line, row = table[number - 1 if number > 0 else number]
            cells.add(TableCell(i, column, dict(row)[column], line))
        if len(cells) == 1:
            return cells.pop()
        if cells:
            return None
    return None
