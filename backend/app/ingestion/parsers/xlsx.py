"""XLSX with openpyxl in read-only mode (streams rows; openpyxl parses XML with defusedxml)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from app.ingestion.parsers._rows import RowWriter
from app.ingestion.parsers._zip import check_zip
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    check_zip(path, limits)
    # A file object, not a path: openpyxl refuses paths without an .xlsx suffix, and stored
    # uploads are named by id.
    handle = path.open("rb")
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken packages
        handle.close()
        raise ExtractionError(DAMAGED) from exc
    try:
        writer = RowWriter()
        sheets = book.worksheets
        for index, sheet in enumerate(sheets, start=1):
            if writer.full:
                break
            writer.sheet(sheet.title, index, sheet.iter_rows(values_only=True))
        title = book.properties.title if book.properties else None
        return ExtractedDocument(writer.out.blocks, max(1, len(sheets)), title or None)
    finally:
        book.close()
        handle.close()
