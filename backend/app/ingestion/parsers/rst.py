"""reStructuredText (and underlined plain text): section titles by adornment style."""

from __future__ import annotations

import re
from pathlib import Path

from app.ingestion.parsers._text import BlockBuilder, decode_bytes
from app.ingestion.types import ExtractedDocument, ExtractionLimits

_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}[ \t]*$")
_LIST = re.compile(r"^[ \t]*(?:[-*+•]|#\.|\d{1,9}[.)])[ \t]+(.*)$")
_DIRECTIVE = re.compile(r"^\.\.[ \t]+([\w:-]+)::[ \t]*(.*)$")
_TARGET = re.compile(r"^\.\.[ \t]+(?:_[^:]*:|\|[^|]+\|)")
_SKIP_DIRECTIVES = {
    "index",
    "toctree",
    "highlight",
    "currentmodule",
    "module",
    "moduleauthor",
    "sectionauthor",
    "testsetup",
    "testcleanup",
    "image",
    "figure",
    "include",
    "raw",
}


class UnderlineParser:
    """Headings are a text line underlined (optionally overlined) by a repeated punctuation
    character; levels follow the order in which adornment styles first appear (the RST rule)."""

    def __init__(self, *, rst: bool) -> None:
        self.rst = rst
        self.out = BlockBuilder()
        self.styles: list[tuple[str, bool]] = []
        self.para: list[str] = []
        self.kind: str = "paragraph"
        self.page = 1

    def flush(self) -> None:
        if self.para:
            self.out.add(
                " ".join(self.para),
                "list_item" if self.kind == "list_item" else "paragraph",
                self.page,
            )
        self.para = []
        self.kind = "paragraph"

    def heading(self, title: str, char: str, over: bool) -> None:
        self.flush()
        style = (char, over)
        if style not in self.styles:
            self.styles.append(style)
        self.out.heading(title, self.styles.index(style) + 1, self.page)

    def parse(self, text: str) -> None:
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            if "\f" in line:  # form feed = page break in plain-text exports
                self.flush()
                self.page += line.count("\f")
                line = line.replace("\f", "")
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            after = lines[i + 2] if i + 2 < len(lines) else ""
            over = _ADORNMENT.match(line)
            if over and nxt.strip() and _ADORNMENT.match(after) and after.strip()[0] == line.strip()[0]:
                self.heading(nxt, line.strip()[0], True)
                i += 3
                continue
            under = _ADORNMENT.match(nxt)
            title = line.strip()
            if (
                title
                and not self.para
                and under
                and not _ADORNMENT.match(line)
                and len(nxt.strip()) >= min(len(title), 3)
                and len(title) < 200
            ):
                self.heading(title, nxt.strip()[0], False)
                i += 2
                continue
            self.body_line(line)
            i += 1
        self.flush()

    def body_line(self, line: str) -> None:
        stripped = line.strip()
        if not stripped or _ADORNMENT.match(line):
            self.flush()
            return
        if self.rst and stripped.startswith(".."):
            self.flush()
            directive = _DIRECTIVE.match(stripped)
            if directive and directive.group(1) not in _SKIP_DIRECTIVES and directive.group(2):
                self.para.append(directive.group(2))
                self.flush()
            elif not directive and not _TARGET.match(stripped) and stripped != "..":
                self.para.append(stripped[2:].strip())  # a comment: keep, it is prose
            return
        item = _LIST.match(line)
        if item:
            self.flush()
            self.kind = "list_item"
            self.para.append(item.group(1).strip())
            return
        if self.rst and stripped.startswith(":") and re.match(r"^:[\w -]+:\s*$", stripped):
            return  # bare option of a directive (":noindex:")
        self.para.append(stripped)


def parse_text(text: str, *, rst: bool) -> tuple[BlockBuilder, int]:
    parser = UnderlineParser(rst=rst)
    parser.parse(text)
    return parser.out, parser.page


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    text = decode_bytes(path.read_bytes()[: limits.max_uncompressed_bytes])
    out, pages = parse_text(text, rst=True)
    first = next((b.text for b in out.blocks if b.kind == "heading"), None)
    return ExtractedDocument(out.blocks, pages, first)
