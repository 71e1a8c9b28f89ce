"""HTML: main content only (no scripts, styles, navigation), headings h1–h6 → heading path."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from app.ingestion.parsers._text import (
    BlockBuilder,
    bom_encoding,
    bomless_utf16,
    decode_bytes,
    format_row,
    looks_like_header,
    squash,
)
from app.ingestion.types import BlockKind, ExtractedDocument, ExtractionLimits

_JUNK = (
    "script, style, noscript, template, nav, aside, footer, form, button, svg, iframe, canvas, "
    "select, object, head, [role=navigation], [role=search], [role=contentinfo], [hidden], "
    "a.headerlink, .sphinxsidebar, .related, .skip-link"
)
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "figure",
    "figcaption",
    "address",
    "hr",
    "fieldset",
    "details",
    "summary",
    "center",
    "body",
    "html",
    "caption",
    "br",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def html_encoding(data: bytes) -> str | None:
    found = bom_encoding(data) or bomless_utf16(data)
    if found:
        return found
    match = _META_CHARSET.search(data[:4096])
    if match:
        name = match.group(1).decode("ascii", "ignore").lower()
        # Documents declaring latin-1 are in practice cp1252 (the HTML standard says so too).
        return "cp1252" if name in {"iso-8859-1", "latin-1", "latin1", "us-ascii"} else name
    return None


class _Walker:
    def __init__(self, out: BlockBuilder, page: int) -> None:
        self.out = out
        self.page = page
        self.buffer: list[str] = []

    def flush(self, kind: BlockKind) -> None:
        if self.buffer:
            self.out.add("".join(self.buffer), kind, self.page)
            self.buffer.clear()

    def run(self, root: LexborNode) -> None:
        # Iterative walk: hostile pages nest elements deeper than Python's recursion limit.
        stack: list[tuple[LexborNode, BlockKind | None]] = [(root, None)]
        kinds: list[BlockKind] = ["paragraph"]
        while stack:
            node, exiting = stack.pop()
            if exiting is not None:
                self.flush(kinds.pop())
                continue
            tag = node.tag or ""
            if tag == "-text":
                self.buffer.append(node.text_content or "")
            elif tag in _HEADINGS:
                self.flush(kinds[-1])
                self.out.heading(node.text(deep=True), _HEADINGS[tag], self.page)
            elif tag == "pre":
                self.flush(kinds[-1])
                # The block's own margin goes as a whole: its parts keep their nesting.
                code = textwrap.dedent(node.text(deep=True).expandtabs(4))
                for part in re.split(r"\n[ \t]*\n", code):
                    self.out.add(part, "paragraph", self.page, keep_lines=True)
            elif tag == "table":
                self.flush(kinds[-1])
                self.table(node)
            elif node.is_element_node or tag == "-document":
                if tag in _BLOCKS:
                    self.flush(kinds[-1])
                    kinds.append("list_item" if tag == "li" else "paragraph")
                    stack.append((node, kinds[-1]))
                children = list(node.iter(include_text=True))
                stack.extend((child, None) for child in reversed(children))

    def table(self, table: LexborNode) -> None:
        rows: list[list[str]] = []
        all_th: list[bool] = []
        for tr in table.css("tr"):
            cells = [c for c in tr.iter() if c.tag in ("td", "th")]
            rows.append([squash(c.text(deep=True, separator=" ")) for c in cells])
            all_th.append(bool(cells) and all(c.tag == "th" for c in cells))
        keep = [(r, th) for r, th in zip(rows, all_th, strict=True) if any(r)]
        if not keep:
            return
        first, first_th = keep[0]
        header = first if len(keep) > 1 and (first_th or looks_like_header(first)) else None
        for row, _ in keep[1:] if header else keep:
            self.out.add(format_row(row, header, " | "), "table_row", self.page)


def html_to_blocks(html: str, out: BlockBuilder, page: int = 1) -> str | None:
    """Append the main text of ``html`` to ``out``; returns the document title if any."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = squash(title_node.text(deep=True)) if title_node is not None else ""
    for node in tree.css(_JUNK):
        node.decompose()
    root = (
        tree.css_first("main")
        or tree.css_first("[role=main]")
        or tree.css_first("article")
        or tree.body
        or tree.root
    )
    if root is not None:
        _Walker(out, page).run(root)
    return title or None


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    data = path.read_bytes()[: limits.max_uncompressed_bytes]
    text = decode_bytes(data, html_encoding(data))
    out = BlockBuilder()
    title = html_to_blocks(text, out)
    return ExtractedDocument(out.blocks, 1, title)
