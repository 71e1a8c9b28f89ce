"""RTF through striprtf (pure Python; RTF is text so no decompression risk)."""

from __future__ import annotations

from pathlib import Path

from striprtf.striprtf import rtf_to_text

from app.ingestion.parsers._text import BlockBuilder, clean_text
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    raw = path.read_bytes()[: limits.max_uncompressed_bytes].decode("latin-1")
    try:
        text = clean_text(rtf_to_text(raw, errors="replace"))
    except (ValueError, IndexError) as exc:
        raise ExtractionError(DAMAGED) from exc
    out = BlockBuilder()
    for para in text.split("\n"):
        out.add(para)
    return ExtractedDocument(out.blocks, 1)
