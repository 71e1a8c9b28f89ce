"""Parser registry: ``extract(path, kind, limits)`` dispatches on the sniffed kind.

Every parser is synchronous and pure (reads the file, returns blocks). Run it through
``app.ingestion.sandbox.extract_isolated`` for untrusted files: parsers bound sizes, but only a
separate process can bound time and memory.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from app.ingestion.parsers import (
    delimited,
    doc,
    docx,
    epub,
    html,
    image,
    mail,
    markdown,
    ods,
    odt,
    pdf,
    ppt,
    pptx,
    rst,
    rtf,
    text,
    xls,
    xlsx,
)
from app.ingestion.types import (
    DAMAGED,
    EMPTY,
    NO_TEXT,
    ExtractedDocument,
    ExtractionError,
    ExtractionLimits,
    Progress,
    too_much_text,
)

Parser = Callable[[Path, ExtractionLimits], ExtractedDocument]

PARSERS: dict[str, Parser] = {
    "docx": docx.parse,
    "pptx": pptx.parse,
    "xlsx": xlsx.parse,
    "xls": xls.parse,
    "csv": delimited.parse,
    "html": html.parse,
    "markdown": markdown.parse,
    "rst": rst.parse,
    "text": text.parse,
    "epub": epub.parse,
    "odt": odt.parse,
    "ods": ods.parse,
    "rtf": rtf.parse,
    "email": mail.parse,
    "doc": doc.parse,
    "ppt": ppt.parse,
}
KINDS = frozenset({*PARSERS, "pdf", "image"})


def extract(
    path: Path, kind: str, limits: ExtractionLimits, progress: Progress | None = None
) -> ExtractedDocument:
    """Extract blocks from ``path``; raises ExtractionError with a user-readable message.

    ``progress(done_pages, total_pages, stage)`` is called by formats that have pages to count (PDF,
    and scanned pages as they are recognised).
    Never returns a document without text.
    """
    if path.stat().st_size == 0:
        raise ExtractionError(EMPTY)
    try:
        if kind == "pdf":
            result = pdf.parse(path, limits, progress)
        elif kind == "image":
            result = image.parse(path, limits, progress)
        elif kind in PARSERS:
            result = PARSERS[kind](path, limits)
        else:
            raise ExtractionError(f"Unsupported file type: {kind}.")
    except (ExtractionError, MemoryError, RecursionError):
        raise
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        UnicodeError,
        OSError,
        EOFError,
        AssertionError,
    ) as exc:
        # Library-specific failures on broken input all mean the same thing to a user.
        raise ExtractionError(DAMAGED) from exc
    if not any(block.text.strip() for block in result.blocks):
        raise ExtractionError(NO_TEXT)
    if sum(len(block.text) for block in result.blocks) > limits.max_chars:
        raise too_much_text(limits)
    if progress is not None and kind not in ("pdf", "image"):
        progress(result.page_count, result.page_count, "extracting")
    return result
