"""OpenDocument Text: headings (with outline level), paragraphs, lists and tables in order."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from app.ingestion.parsers._odf import load_members, meta_title, odf_text, q
from app.ingestion.parsers._text import BlockBuilder, format_row, looks_like_header, squash
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits

_SKIP = {
    q("text", "table-of-content"),
    q("text", "tracked-changes"),
    q("office", "forms"),
    q("text", "sequence-decls"),
    q("text", "variable-decls"),
}


class _Walker:
    def __init__(self) -> None:
        self.out = BlockBuilder()

    def walk(self, el: Element, in_list: bool = False) -> None:
        for child in el:
            tag = child.tag
            if tag in _SKIP:
                continue
            if tag == q("text", "h"):
                level = child.get(q("text", "outline-level"), "1")
                self.out.heading(odf_text(child), int(level) if level.isdigit() else 1)
            elif tag == q("text", "p"):
                self.out.add(odf_text(child), "list_item" if in_list else "paragraph")
                self.walk_frames(child)
            elif tag == q("text", "list"):
                self.walk(child, in_list=True)
            elif tag == q("table", "table"):
                self.table(child)
            else:  # sections, list items, frames, text boxes: descend
                self.walk(child, in_list)

    def walk_frames(self, p: Element) -> None:
        for box in p.iter(q("draw", "text-box")):
            self.walk(box)

    def table(self, table: Element) -> None:
        rows: list[list[str]] = []
        for tr in table.iter(q("table", "table-row")):
            cells = [squash(odf_text(tc)) for tc in tr if tc.tag == q("table", "table-cell")]
            if any(cells):
                rows.append(cells)
        header = rows[0] if len(rows) > 1 and looks_like_header(rows[0]) else None
        for row in rows[1:] if header else rows:
            self.out.add(format_row(row, header, " | "), "table_row")


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    members = load_members(path, limits, "content.xml", "meta.xml")
    body = members["content.xml"].find(f"{q('office', 'body')}/{q('office', 'text')}")
    if body is None:
        raise ExtractionError(DAMAGED)
    walker = _Walker()
    walker.walk(body)
    return ExtractedDocument(walker.out.blocks, 1, meta_title(members.get("meta.xml")))
