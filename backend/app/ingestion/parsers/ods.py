"""OpenDocument Spreadsheet: each sheet's rows, honouring repeated rows/columns sanely."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

from app.ingestion.parsers._odf import load_members, meta_title, odf_text, q
from app.ingestion.parsers._rows import MAX_COLUMNS, RowWriter
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits

_MAX_ROW_REPEAT = 100  # identical non-empty rows repeated more than this are a fill, not data


def _repeat(el: Element, attr: str) -> int:
    value = el.get(q("table", attr), "1")
    return int(value) if value.isdigit() else 1


def _cell_value(tc: Element) -> str:
    kind = tc.get(q("office", "value-type"))
    if kind in ("float", "percentage", "currency"):
        return tc.get(q("office", "value"), "") or odf_text(tc)
    if kind == "date":
        return tc.get(q("office", "date-value"), "") or odf_text(tc)
    return " ".join(odf_text(p) for p in tc.iter(q("text", "p")))


def _rows(table: Element) -> Iterator[list[object]]:
    for tr in table.iter(q("table", "table-row")):
        cells: list[object] = []
        for tc in tr:
            if tc.tag not in (q("table", "table-cell"), q("table", "covered-table-cell")):
                continue
            value = _cell_value(tc).strip()
            count = min(_repeat(tc, "number-columns-repeated"), MAX_COLUMNS - len(cells))
            cells.extend([value] * max(count, 0))
            if len(cells) >= MAX_COLUMNS:
                break
        if not any(cells):
            continue
        for _ in range(min(_repeat(tr, "number-rows-repeated"), _MAX_ROW_REPEAT)):
            yield cells


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    members = load_members(path, limits, "content.xml", "meta.xml")
    body = members["content.xml"].find(f"{q('office', 'body')}/{q('office', 'spreadsheet')}")
    if body is None:
        raise ExtractionError(DAMAGED)
    tables = body.findall(q("table", "table"))
    writer = RowWriter()
    for index, table in enumerate(tables, start=1):
        if writer.full:
            break
        writer.sheet(table.get(q("table", "name")), index, _rows(table))
    return ExtractedDocument(writer.out.blocks, max(1, len(tables)), meta_title(members.get("meta.xml")))
