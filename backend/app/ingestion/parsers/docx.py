"""DOCX: body paragraphs and tables in document order; heading styles build the heading path."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.oxml.ns import qn

from app.ingestion.parsers._text import BlockBuilder, format_row, looks_like_header, squash
from app.ingestion.parsers._zip import check_zip, refuse_xml_entities, xml_members
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits

_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre|titulo|título)\s*(\d)", re.IGNORECASE)
_W_P, _W_TBL, _W_SDT = qn("w:p"), qn("w:tbl"), qn("w:sdt")
_W_T, _W_TAB, _W_BR, _W_CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_W_TXBX = qn("w:txbxContent")
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_SKIP_INSIDE = {_W_TXBX, _MC_FALLBACK}


def open_docx(path: Path, limits: ExtractionLimits) -> Any:
    check_zip(path, limits)
    with zipfile.ZipFile(path) as zf:
        refuse_xml_entities(zf, xml_members(zf))
    try:
        return docx.Document(str(path))
    except ExtractionError:
        raise
    except Exception as exc:  # python-docx raises many types for broken packages
        raise ExtractionError(DAMAGED) from exc


def paragraph_text(p: Any) -> str:
    """Visible text of a w:p, excluding nested text boxes and VML fallbacks (read separately)."""
    parts: list[str] = []
    stack = list(reversed(list(p)))
    while stack:
        el = stack.pop()
        tag = el.tag
        if tag in _SKIP_INSIDE or tag == _W_P:
            continue
        if tag == _W_T:
            parts.append(el.text or "")
        elif tag == _W_TAB:
            parts.append("\t")
        elif tag in (_W_BR, _W_CR):
            parts.append("\n")
        else:
            stack.extend(reversed(list(el)))
    return "".join(parts)


def _text_boxes(p: Any) -> Iterator[Any]:
    for box in p.iter(_W_TXBX):
        if not any(anc.tag == _MC_FALLBACK for anc in box.iterancestors()):
            yield box


def _style_info(p: Any, styles: dict[str, str]) -> tuple[int | None, bool]:
    """(heading level or None, is list item) from the paragraph's style and numbering."""
    ppr = p.pPr
    style_id = ppr.pStyle.val if ppr is not None and ppr.pStyle is not None else None
    name = styles.get(style_id or "", style_id or "")
    level: int | None = None
    match = _HEADING_STYLE.match(name)
    if match:
        level = int(match.group(1))
    elif name.lower() in {"title"}:
        level = 0
    else:
        outline = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
        if outline is not None and (val := outline.get(qn("w:val"))) and val.isdigit() and int(val) < 9:
            level = int(val) + 1
    is_list = (ppr is not None and ppr.numPr is not None) or "list" in name.lower()
    return level, is_list


def _cell_text(tc: Any) -> str:
    return squash(" ".join(paragraph_text(p) for p in tc.iter(_W_P)))


def _table_rows(tbl: Any) -> list[list[str]]:
    rows: list[list[str]] = []
    for tr in tbl.iter(qn("w:tr")):
        if tr.getparent() is not tbl:
            continue  # nested tables are read as part of their cell's text
        rows.append([_cell_text(tc) for tc in tr.iter(qn("w:tc")) if tc.getparent() is tr])
    return rows


class _Walker:
    def __init__(self, styles: dict[str, str]) -> None:
        self.styles = styles
        self.out = BlockBuilder()

    def body(self, container: Any) -> None:
        for el in container.iterchildren():
            if el.tag == _W_P:
                self.paragraph(el)
            elif el.tag == _W_TBL:
                self.table(el)
            elif el.tag == _W_SDT:
                content = el.find(qn("w:sdtContent"))
                if content is not None:
                    self.body(content)

    def paragraph(self, p: Any) -> None:
        text = paragraph_text(p)
        level, is_list = _style_info(p, self.styles)
        if level is not None and text.strip():
            self.out.heading(text, level)
        else:
            self.out.add(text, "list_item" if is_list else "paragraph")
        for box in _text_boxes(p):
            self.body(box)

    def table(self, tbl: Any) -> None:
        rows = [r for r in _table_rows(tbl) if any(r)]
        if not rows:
            return
        header = rows[0] if len(rows) > 1 and looks_like_header(rows[0]) else None
        for row in rows[1:] if header else rows:
            self.out.add(format_row(_dedupe_merged(row), header, " | "), "table_row")


def _dedupe_merged(cells: list[str]) -> list[str]:
    """Horizontally merged cells repeat their text; keep it once."""
    out: list[str] = []
    for cell in cells:
        out.append("" if out and cell and cell == out[-1] else cell)
    return out


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    document = open_docx(path, limits)
    styles = {s.style_id: s.name or "" for s in document.styles if s.style_id}
    walker = _Walker(styles)
    walker.body(document.element.body)
    # Headers/footers repeat on every page: index each distinct one once, at the end.
    seen: set[str] = set()
    walker.out.reset_headings()
    for section in document.sections:
        for part in (section.header, section.footer):
            try:
                if part.is_linked_to_previous:
                    continue
                for p in part._element.iter(_W_P):
                    text = squash(paragraph_text(p))
                    if text and text not in seen:
                        seen.add(text)
                        walker.out.add(text)
            except (KeyError, ValueError, AttributeError):
                continue
    title = squash(document.core_properties.title or "") or None
    return ExtractedDocument(walker.out.blocks, 1, title)
