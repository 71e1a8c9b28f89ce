"""Helpers shared by parsers: decoding bytes of unknown encoding and building block lists."""

from __future__ import annotations

import re
import unicodedata

import charset_normalizer

from app.ingestion.types import Block, BlockKind

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_ISO2022_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b$(D", b"\x1b$)C", b"\x1b$A")
# Characters that are never content: C0/C1 controls except tab/newline/form feed.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufeff\ufffe]")
_SPACES_RE = re.compile(r"[^\S\n\f]+")


def bom_encoding(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows up as NUL bytes in every other position of ASCII text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def guess_encoding(data: bytes) -> str:
    """Best encoding for ``data``: BOM, then strict UTF-8, then charset-normalizer, then cp1252."""
    found = bom_encoding(data) or bomless_utf16(data)
    if found:
        return found
    if any(esc in data[:65536] for esc in _ISO2022_ESCAPES):
        return "iso2022_jp"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by a sample boundary is still UTF-8.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    best = charset_normalizer.from_bytes(data[: 512 * 1024]).best()
    if best is not None and best.encoding:
        return str(best.encoding)
    return "cp1252"


def decode_bytes(data: bytes, encoding: str | None = None) -> str:
    """Decode to text; undecodable bytes become U+FFFD rather than failing the document."""
    enc = encoding or guess_encoding(data)
    try:
        text = data.decode(enc, errors="replace")
    except LookupError:
        text = data.decode("cp1252", errors="replace")
    return clean_text(text)


def clean_text(text: str) -> str:
    """Unify newlines, drop control characters, NFC-normalise."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    return unicodedata.normalize("NFC", text)


def squash(text: str) -> str:
    """Collapse all whitespace (including newlines) to single spaces."""
    return " ".join(text.split())


def tidy_lines(text: str) -> str:
    """Keep line structure and indentation (code, addresses) but trim runs of spaces within
    lines and runs of blank lines. (Python's nesting is its indentation: "def f():" /
    "    return 1" must not lose it; a parser removes a code block's own margin, as a whole.)"""
    lines = []
    for line in text.expandtabs(4).split("\n"):
        body = line.lstrip()
        indent = " " * (len(line) - len(body))
        lines.append(indent + _SPACES_RE.sub(" ", body).rstrip() if body else "")
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip("\n")


def is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def looks_like_header(cells: list[str]) -> bool:
    """A header row has at least two cells, all non-empty labels that are not numbers."""
    filled = [c for c in cells if c]
    return (
        len(filled) >= 2
        and len(filled) == len(cells)
        and len(set(filled)) == len(filled)
        and not any(map(is_number, filled))
    )


def format_row(cells: list[str], header: list[str] | None, sep: str = "; ") -> str:
    """ "Header: value; Header: value" when a header is known, else cells joined with " | "."""
    if header:
        parts = []
        for i, cell in enumerate(cells):
            if not cell:
                continue
            label = header[i] if i < len(header) and header[i] else f"Column {i + 1}"
            parts.append(f"{label}: {cell}")
        return sep.join(parts)
    return " | ".join(c for c in cells if c)


class BlockBuilder:
    """Accumulates blocks and tracks the heading stack, so parsers only say "heading, level n"."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._stack: list[tuple[int, str]] = []

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._stack)

    def heading(self, text: str, level: int, page: int = 1) -> None:
        text = squash(text)
        if not text:
            return
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text[:300]))
        self.blocks.append(Block(text, page, self.path, "heading"))

    def close(self, level: int) -> None:
        """End the sections of `level` and deeper: what follows is under their parent."""
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()

    def reset_headings(self) -> None:
        self._stack.clear()

    def add(
        self, text: str, kind: BlockKind = "paragraph", page: int = 1, *, keep_lines: bool = False
    ) -> None:
        text = tidy_lines(text) if keep_lines else squash(text)
        if text:
            self.blocks.append(Block(text, page, self.path, kind))
