"""Data types shared by the sniffer, the parsers, the sandbox and the chunker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "table_row", "list_item"]


@dataclass(frozen=True, slots=True)
class Block:
    """One structural unit of text.

    ``heading_path`` lists the enclosing headings, outermost first; a heading block's own
    path ends with its own text, so a heading belongs to the section it opens.
    """

    text: str
    page: int
    heading_path: tuple[str, ...]
    kind: BlockKind


@dataclass(slots=True)
class ExtractedDocument:
    blocks: list[Block] = field(default_factory=list)
    page_count: int = 1
    title: str | None = None
    ocr_used: bool = False


@dataclass(frozen=True, slots=True)
class ExtractionLimits:
    max_pages: int = 2000
    max_uncompressed_bytes: int = 200 * 1024 * 1024  # zip members / decoded streams, total
    max_zip_members: int = 10_000
    max_compression_ratio: float = 200.0
    timeout_seconds: float = 300.0
    memory_limit_bytes: int = 2 * 1024**3
    ocr_enabled: bool = True
    # Extracted characters: parsers that go page by page stop as soon as they pass it.
    max_chars: int = 20_000_000
    # The setting that `max_chars` comes from, named in the error a user sees.
    max_chars_reason: str = ""


def too_much_text(limits: ExtractionLimits) -> ExtractionError:
    return ExtractionError(
        f"This file contains more text than the limit of {limits.max_chars:,} characters"
        f"{limits.max_chars_reason}. Split it into smaller files, or ask an administrator "
        "to raise the limit.")


class ExtractionError(Exception):
    """Message is shown to the user verbatim; must be plain, understandable English.

    ``permanent=False`` means a retry may succeed (e.g. the worker could not be started).
    """

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    def __reduce__(self) -> tuple[object, ...]:
        # Default pickling drops keyword-only arguments; the sandbox sends errors across processes.
        return (_rebuild_error, (self.message, self.permanent))


def _rebuild_error(message: str, permanent: bool) -> ExtractionError:
    return ExtractionError(message, permanent=permanent)


DAMAGED = "The file appears to be damaged or truncated and could not be read."
EMPTY = "The file is empty."
NO_TEXT = "No extractable text was found in this file."
