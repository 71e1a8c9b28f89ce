"""reStructuredText (and underlined plain text): section titles by adornment style; in
reStructuredText, literal blocks ("…::" and an indented block), code directives and doctest
blocks are kept line by line, as a Markdown fence's code is, never reflowed into prose."""

from __future__ import annotations

import re
import textwrap
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
# Directives whose body is code: shown as written.
_CODE_DIRECTIVES = {"code-block", "code", "sourcecode", "doctest", "testcode", "testoutput"}
# Directives that describe one API entry (Sphinx's object descriptions, with or without a domain:
# ".. function:: cmp_to_key(func)", ".. py:method:: register(cls, func=None)"): their signature
# heads what follows, as a heading does, so that every passage of the entry knows what it
# describes ("Added in version 3.4." a few passages below "singledispatch").
_ENTRY_DIRECTIVES = {
    "function", "class", "method", "classmethod", "staticmethod", "attribute", "data",
    "exception", "decorator", "decoratormethod", "property", "describe", "object", "option",
    "envvar", "type", "macro", "member", "var", "enum",
}
# A directive's options at the top of its body: ":linenos:", ":caption: Example".
_OPTION = re.compile(r"^:[\w -]+:(?:\s.*)?$")
# Version notes read as Sphinx renders them (and as the HTML of the same docs reads): "Changed in
# version 3.7: The register attribute now supports …", not a bare "3.7" above the sentence, so
# that "since which version …?" finds the version in the sentence it dates.
_VERSION_NOTES = {
    "versionadded": "Added in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "versionremoved": "Removed in version",
}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


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
        # The indentation of a line that announced a literal block ("…::", ".. code-block::"),
        # and of a skipped directive whose indented body is skipped with it.
        self.literal: int | None = None
        self.skipped: int | None = None
        # A version note's label and the directive's indentation, while its body may follow.
        self.label: tuple[str, int] | None = None
        self.section = 0  # the level of the current section title
        self.entries: list[int] = []  # the indentations of the open entry directives

    def flush(self) -> None:
        if self.label is not None and self.para == [self.label[0]]:
            self.para = [self.label[0][:-1] + "."]  # a note without a body: "Added in version 3.9."
        self.label = None
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
        self.section = self.styles.index(style) + 1
        self.entries = []
        self.out.heading(title, self.section, self.page)

    def entry(self, signature: str, indent: int) -> None:
        """An API entry's signature: a heading one level under its section, or under the entry
        it is nested in (".. method::" indented in ".. class::")."""
        self.close_entries(indent)
        self.entries.append(indent)
        self.out.heading(signature, self.section + len(self.entries), self.page)

    def close_entries(self, indent: int) -> None:
        """End the entries a line at `indent` is not inside (not indented under them)."""
        self.flush()
        while self.entries and self.entries[-1] >= indent:
            self.entries.pop()
        self.out.close(self.section + len(self.entries) + 1)

    def parse(self, text: str) -> None:
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            if "\f" in line:  # form feed = page break in plain-text exports
                self.flush()
                self.page += line.count("\f")
                line = line.replace("\f", "")
            if self.rst and (taken := self.code(lines, i)):
                i += taken
                continue
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

    def code(self, lines: list[str], i: int) -> int:
        """How many lines from `i` are code (a literal or doctest block, added as such) or the
        body of a skipped directive; 0 when line `i` is neither."""
        line = lines[i]
        if not line.strip():
            return 0
        for announced in ("skipped", "literal"):
            base = getattr(self, announced)
            setattr(self, announced, None)
            if base is None or _indent(line) <= base:
                continue
            end = i
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
                end += 1
            if announced == "literal":
                body = textwrap.dedent("\n".join(lines[i:end])).split("\n")
                while body and _OPTION.match(body[0].strip()):
                    body.pop(0)
                self.flush()
                self.out.add("\n".join(body), page=self.page, keep_lines=True)
            return end - i
        if not self.para and line.lstrip().startswith(">>>"):  # a doctest block: to a blank line
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            self.out.add(textwrap.dedent("\n".join(lines[i:end])), page=self.page,
                         keep_lines=True)
            return end - i
        return 0

    def body_line(self, line: str) -> None:
        stripped = line.strip()
        if self.label is not None and self.para == [self.label[0]]:
            if not stripped:
                return  # the note's body may follow a blank line
            if _indent(line) <= self.label[1]:
                self.flush()  # not indented under the note: it has no body
            else:
                self.label = None  # its body: one paragraph with the label
        if not stripped or _ADORNMENT.match(line):
            self.flush()
            return
        if self.entries and _indent(line) <= self.entries[-1] and not stripped.startswith(".."):
            self.close_entries(_indent(line))  # a paragraph after the entry, in its section
        if self.rst and stripped.startswith(".."):
            self.flush()
            directive = _DIRECTIVE.match(stripped)
            name = directive.group(1) if directive else ""
            if name in _CODE_DIRECTIVES:
                self.literal = _indent(line)
            elif name in _SKIP_DIRECTIVES:
                self.skipped = _indent(line)
            elif directive and name in _VERSION_NOTES and directive.group(2):
                version, _, said = directive.group(2).partition(" ")
                label = f"{_VERSION_NOTES[name]} {version}:"
                if said.strip():  # ".. versionchanged:: 3.2 Says why on the same line."
                    self.para = [label, said.strip()]
                else:
                    self.para, self.label = [label], (label, _indent(line))
            elif directive and directive.group(2) and name.rpartition(":")[2] in _ENTRY_DIRECTIVES:
                self.entry(directive.group(2).strip(), _indent(line))
            elif directive and directive.group(2):
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
        if self.rst and stripped.endswith("::"):
            # "… as follows::" introduces a literal block and reads "… as follows:"; a lone
            # "::" (or one after a space) introduces it and reads as nothing.
            self.literal = _indent(line)
            stripped = stripped[:-1] if len(stripped) > 2 and stripped[-3] != " " else \
                stripped[:-2].rstrip()
            if not stripped:
                return
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
