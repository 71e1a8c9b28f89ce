"""XLSX with openpyxl in read-only mode (streams rows; openpyxl parses XML with defusedxml)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from app.ingestion.parsers._rows import RowWriter
from app.ingestion.parsers._zip import check_zip
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    check_zip(path, limits)
    try:
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken packages
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
