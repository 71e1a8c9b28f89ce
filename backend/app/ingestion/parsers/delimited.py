"""CSV/TSV: encoding detected, dialect sniffed among comma, semicolon, tab and pipe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from app.ingestion.parsers._rows import RowWriter
from app.ingestion.parsers._text import decode_bytes
from app.ingestion.types import ExtractedDocument, ExtractionLimits

_FIELD_LIMIT = 16 * 1024 * 1024


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])

        class Guessed(csv.excel):
            delimiter = best if counts[best] else ","

        return Guessed


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    data = path.read_bytes()[: limits.max_uncompressed_bytes]
    text = decode_bytes(data)
    # Sniff on whole lines only: a cut line confuses the sniffer's consistency check.
    sample = text[:65536].rsplit("\n", 1)[0] if len(text) > 65536 else text
    csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text), _dialect(sample))
    writer = RowWriter()
    writer.sheet(None, 1, reader)
    return ExtractedDocument(writer.out.blocks, 1)
