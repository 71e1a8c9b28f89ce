"""Markdown: ATX and setext headings, fenced code, lists and pipe tables (line-based), and the
HTML tables it may embed (read as the HTML parser reads a table: a row per block, each cell with
its column's header); no other HTML."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from app.ingestion.parsers._text import BlockBuilder, decode_bytes, format_row, squash
from app.ingestion.parsers.html import html_to_blocks
from app.ingestion.types import ExtractedDocument, ExtractionLimits

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HRULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TABLE = re.compile(r"^ {0,3}<table\b", re.I)  # an HTML block that is a table (to </table>)


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line.removeprefix("|").removesuffix("|")
    return [squash(c) for c in re.split(r"(?<!\\)\|", line)]


class _Parser:
    def __init__(self) -> None:
        self.out = BlockBuilder()
        self.para: list[str] = []
        self.item: list[str] = []

    def flush(self) -> None:
        if self.para:
            self.out.add(" ".join(self.para))
            self.para = []
        if self.item:
            self.out.add(" ".join(self.item), "list_item")
            self.item = []

    def parse(self, text: str) -> None:
        lines = _COMMENT.sub("", text).split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if fence := _FENCE.match(line):
                self.flush()
                marker = fence.group(1)
                body: list[str] = []
                i += 1
                while i < len(lines) and not lines[i].lstrip().startswith(marker):
                    body.append(lines[i])
                    i += 1
                # (A fence inside a list item is indented with it: that margin goes.)
                self.out.add(textwrap.dedent("\n".join(body).expandtabs(4)), keep_lines=True)
            elif atx := _ATX.match(line):
                self.flush()
                self.out.heading(atx.group(2) or "", len(atx.group(1)))
            elif (
                line.strip()
                and not self.para
                and not self.item
                and _SETEXT.match(nxt)
                and not _LIST.match(line)
                and not _HRULE.match(line)
            ):
                self.flush()
                self.out.heading(line, 1 if nxt.strip().startswith("=") else 2)
                i += 1
            elif _HTML_TABLE.match(line):
                # "<table> <tr> <td><code>ENGINE_METHOD_RAND</code></td> …" as written in Node's
                # docs: rows of "Constant: ENGINE_METHOD_RAND | Description: …", not tags.
                self.flush()
                end = i
                while end < len(lines) - 1 and "</table>" not in lines[end].lower():
                    end += 1
                html_to_blocks("\n".join(lines[i : end + 1]), self.out)
                i = end + 1
                continue
            elif "|" in line and _TABLE_SEP.match(nxt) and "-" in nxt:
                self.flush()
                header = _cells(line)
                i += 2
                while i < len(lines) and "|" in lines[i] and lines[i].strip():
                    self.out.add(format_row(_cells(lines[i]), header), "table_row")
                    i += 1
                continue
            elif not line.strip() or _HRULE.match(line):
                self.flush()
            elif item := _LIST.match(line):
                self.flush()
                self.item = [item.group(1)]
            elif self.item and line[:1] in " \t":
                self.item.append(line.strip())
            else:
                if self.item:
                    self.flush()
                self.para.append(line.strip())
            i += 1
        self.flush()


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    text = decode_bytes(path.read_bytes()[: limits.max_uncompressed_bytes])
    parser = _Parser()
    parser.parse(text)
    first = next((b.text for b in parser.out.blocks if b.kind == "heading"), None)
    return ExtractedDocument(parser.out.blocks, 1, first)
