"""Legacy Excel 97-2003 (.xls) with xlrd."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlrd

from app.ingestion.parsers._rows import MAX_COLUMNS, RowWriter
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits


def _rows(sheet: Any, datemode: int) -> Iterator[list[object]]:
    for r in range(sheet.nrows):
        row: list[object] = []
        for c in range(min(sheet.ncols, MAX_COLUMNS)):
            cell = sheet.cell(r, c)
            value: object = cell.value
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    value = xlrd.xldate_as_datetime(cell.value, 1 if datemode else 0)
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    pass
            elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                value = None
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                value = bool(cell.value)
            row.append(value)
        yield row


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, struct.error, AssertionError...
        raise ExtractionError(DAMAGED) from exc
    try:
        writer = RowWriter()
        for index in range(book.nsheets):
            if writer.full:
                break
            sheet = book.sheet_by_index(index)
            writer.sheet(sheet.name, index + 1, _rows(sheet, book.datemode))
            book.unload_sheet(index)
        return ExtractedDocument(writer.out.blocks, max(1, book.nsheets))
    finally:
        book.release_resources()
