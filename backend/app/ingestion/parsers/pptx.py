"""PPTX: one page per slide; the slide title is the heading, then text frames, tables, notes."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

from app.ingestion.parsers._text import BlockBuilder, format_row, looks_like_header, squash
from app.ingestion.parsers._zip import check_zip, refuse_xml_entities, xml_members
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits

_TITLES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.VERTICAL_TITLE}


def _shapes(shapes: Any) -> Iterator[Any]:
    """Shapes in reading order (top to bottom, left to right), flattening groups."""

    def key(shape: Any) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=key):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _is_title(shape: Any) -> bool:
    try:
        return bool(shape.is_placeholder and shape.placeholder_format.type in _TITLES)
    except (ValueError, AttributeError):
        return False


def _slide(out: BlockBuilder, slide: Any, page: int) -> None:
    out.reset_headings()
    shapes = list(_shapes(slide.shapes))
    title = next((s for s in shapes if _is_title(s) and s.has_text_frame and s.text_frame.text.strip()), None)
    if title is not None:
        out.heading(title.text_frame.text, 1, page)
    for shape in shapes:
        if shape is title:
            continue
        if shape.has_text_frame:
            for para in shape.text_frame.paragraphs:
                text = "".join(run.text for run in para.runs) or para.text
                out.add(text, "list_item" if para.level > 0 else "paragraph", page)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[squash(c.text) for c in row.cells] for row in shape.table.rows]
            rows = [r for r in rows if any(r)]
            header = rows[0] if len(rows) > 1 and looks_like_header(rows[0]) else None
            for row in rows[1:] if header else rows:
                out.add(format_row(row, header, " | "), "table_row", page)
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            out.add(f"Notes: {notes.text}", "paragraph", page)


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    check_zip(path, limits)
    with zipfile.ZipFile(path) as zf:
        refuse_xml_entities(zf, xml_members(zf))
    try:
        deck = pptx.Presentation(str(path))
        slides = list(deck.slides)
    except ExtractionError:
        raise
    except Exception as exc:  # python-pptx raises many types for broken packages
        raise ExtractionError(DAMAGED) from exc
    if len(slides) > limits.max_pages:
        raise ExtractionError(
            f"This presentation has {len(slides)} slides, more than the limit of {limits.max_pages}."
        )
    out = BlockBuilder()
    for number, slide in enumerate(slides, start=1):
        _slide(out, slide, number)
    title = squash(deck.core_properties.title or "") or None
    return ExtractedDocument(out.blocks, max(1, len(slides)), title)
