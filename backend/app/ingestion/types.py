"""Data types shared by the sniffer, the parsers, the sandbox and the chunker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "table_row", "list_item"]
# progress(done, total, stage): pages read so far; stage "extracting" (text layer) or "ocr".
Progress = Callable[[int, int, str], None]


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
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    ocr_languages: str = "eng"  # tesseract's -l
    ocr_dpi: int = 150  # scanned PDF pages are rendered at this resolution for recognition
    ocr_threads: int = 1
    ocr_max_pages: int = 300
    # Added to the wall-clock limit for each scanned page recognised: OCR costs seconds per page.
    ocr_page_seconds: float = 60.0
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

    ``permanent=False`` means retrying automatically may succeed (e.g. the worker could not be
    started). A permanent failure is ``retryable`` when a person's later retry can succeed (an
    administrator fixed the server, a passing overload): the web app offers Retry only then.
    ``detail`` is for administrators (the Jobs view), never shown to the document's owner.
    """

    def __init__(self, message: str, *, permanent: bool = True, retryable: bool | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retryable = (not permanent) if retryable is None else retryable
        self.detail = detail

    def __reduce__(self) -> tuple[object, ...]:
        # Default pickling drops keyword-only arguments; the sandbox sends errors across processes.
        return (_rebuild_error, (self.message, self.permanent, self.retryable, self.detail))


def _rebuild_error(message: str, permanent: bool, retryable: bool = False,
                   detail: str | None = None) -> ExtractionError:
    return ExtractionError(message, permanent=permanent, retryable=retryable, detail=detail)


DAMAGED = "The file appears to be damaged or truncated and could not be read."
EMPTY = "The file is empty."
NO_TEXT = "No extractable text was found in this file."
