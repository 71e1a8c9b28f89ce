"""Plain text: paragraphs at blank lines, underlined headings, form feeds as page breaks."""

from __future__ import annotations

from pathlib import Path

from app.ingestion.parsers._text import decode_bytes
from app.ingestion.parsers.rst import parse_text
from app.ingestion.types import ExtractedDocument, ExtractionLimits


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    text = decode_bytes(path.read_bytes()[: limits.max_uncompressed_bytes])
    out, pages = parse_text(text, rst=False)
    return ExtractedDocument(out.blocks, pages)
