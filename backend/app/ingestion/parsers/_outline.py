"""A PDF's outline (bookmarks) placed in its pages' text: each page is cut where a section the
outline points to begins, so every block carries the heading path of the text it holds. A PDF
without an outline has the sections its numbered headings give ("6.3 Dispatch interfaces").

A bookmark names a page, not a place on it: "9.7 KeepTogether(flowables)" begins halfway down
page 94 of the ReportLab guide, under "9.4 Spacer" … "9.6 CondPageBreak". Its title is looked for
at the start of a line of that page, after the previous bookmark's, with or without the section
number the text prints before it ("1.1 The R environment" for the bookmark "The R environment").
Found, the page is cut there and the line becomes a heading block; the text above it keeps the
section it continues. Bookmarks whose titles the page does not print (an outline pointing one
page off, a title written otherwise) take effect where the last one found did, or, when the page
prints none of its bookmarks' titles, at its top: the whole page under its last bookmark.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.ingestion.types import Block

# A section number printed before a title, on the title's line: "9.7", "1.1.", "A.2", "IV.",
# "Chapter 3:".
_NUMBER = r"(?:(?:chapter|section|appendix|part)[ \t]+)?(?:\d+|[A-Z]|[IVXLC]+)(?:\.\d+)*[.:]?[ \t]+"

# A line above a page's first heading that starts or ends with a number is its page number or
# running head ("2", "Chapter 1: Creating R packages 3", "12 Appendix A"), not a passage.
_RUNNING_HEAD = re.compile(r"(?:\d+\b[^\n]{0,80}|[^\n]{0,80}\b\d+)")
# A numbered heading's line: "6.3 Dispatch interfaces and type libraries", "2. Related Work".
_NUMBERED = re.compile(r"(\d{1,3}(?:\.\d{1,3}){0,4})\.?[ \t]+([A-Z][^\n]{1,78})")
# A title ends on neither a sentence's punctuation nor a word a sentence goes on from.
_NOT_A_TITLE = re.compile(r"[.,;:!]$|\s(?:a|an|the|and|or|of|to|in|on|for|with|that|which|is|are|by)$",
                          re.I)
# Bookmarks of one page looked for in its text; the others open their sections where the last
# one found did (a page holds a few dozen sections at most, a hostile outline thousands).
MAX_PLACED = 200


@dataclass(frozen=True, slots=True)
class Mark:
    page: int  # 0-based index of the page the bookmark points to
    level: int
    title: str


class Sections:
    """Cuts pages, in order, at the outline's headings (`marks` sorted by page, outline order
    kept within a page)."""

    def __init__(self, marks: Sequence[Mark]) -> None:
        self._marks = list(marks)
        self._next = 0
        self._stack: list[tuple[int, str]] = []

    def blocks(self, index: int, text: str) -> list[Block]:
        """The blocks of page `index` (0-based), whose cleaned text is `text`; pages must come in
        order, those without text included (their bookmarks still open sections)."""
        marks = self._take(index)
        places = _places(text, marks)
        if not any(p is not None for p in places):  # no text, or none of its titles printed
            for mark in marks:
                self._open(mark)
            return [Block(text, index + 1, self._path(), "paragraph")] if text else []
        blocks: list[Block] = []
        cursor = 0
        for mark, place in zip(marks, places, strict=True):
            if place is None:
                self._open(mark)  # in force from the last cut on
                continue
            start, end = place
            above = text[cursor:start].strip()
            if cursor == 0 and _RUNNING_HEAD.fullmatch(above):
                start = 0  # a page number or running head above it: part of the heading's line
            elif above:
                blocks.append(Block(above, index + 1, self._path(), "paragraph"))
            self._open(mark)
            blocks.append(Block(text[start:end].strip(), index + 1, self._path(), "heading"))
            cursor = end
        if text[cursor:].strip():
            blocks.append(Block(text[cursor:].strip(), index + 1, self._path(), "paragraph"))
        return blocks

    def _take(self, index: int) -> list[Mark]:
        start = self._next
        while self._next < len(self._marks) and self._marks[self._next].page <= index:
            self._next += 1
        return self._marks[start : self._next]

    def _open(self, mark: Mark) -> None:
        while self._stack and self._stack[-1][0] >= mark.level:
            self._stack.pop()
        self._stack.append((mark.level, mark.title))

    def _path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self._stack)


def _places(text: str, marks: Sequence[Mark]) -> list[tuple[int, int] | None]:
    """Where each bookmark's heading line is on the page (start, end of the line), searched in
    outline order, each after the previous one found; None where the page does not print it."""
    places: list[tuple[int, int] | None] = []
    cursor = 0
    for n, mark in enumerate(marks):
        if n >= MAX_PLACED:  # each is a search of the page: a hostile outline costs no more
            places.append(None)
            continue
        words = r"\s+".join(re.escape(word) for word in mark.title.split())
        found = re.compile(rf"^[ \t]*(?:{_NUMBER})?{words}[ \t]*$", re.I | re.M).search(text, cursor)
        if found is None:
            places.append(None)
            continue
        places.append((found.start(), found.end()))
        cursor = found.end()
    return places


def section_blocks(outline: Sequence[Mark], pages: Sequence[str]) -> list[Block]:
    """Every page's blocks (`pages`: each page's cleaned text, "" for a page without any), cut
    at the document's sections (`section_marks`)."""
    sections = Sections(section_marks(outline, pages))
    return [block for index, text in enumerate(pages) for block in sections.blocks(index, text)]


def section_marks(outline: Sequence[Mark], pages: Sequence[str]) -> list[Mark]:
    """The sections of a document: its outline's, or, when it has none worth the name (one
    bookmark is its title at most), those of its numbered headings if it has them."""
    return list(outline) if len(outline) > 1 else numbered_headings(pages) or list(outline)


def numbered_headings(pages: Sequence[str]) -> list[Mark]:
    """Lines that number sections in sequence: "1 Overview", "1.1 What is IDL?", "1.2 …",
    "2 IDL syntax". A line is a heading only if its number follows the last heading's (its first
    subsection, or the next section at its level or above) and it ends as a title does, not as
    a sentence or a line a sentence goes on from. A new "1" before any subsection starts the
    sequence again ("1 Allen Institute for AI", "2 Brown University" are affiliations), and
    numbers that never nest are taken for a numbered list: no sections then."""
    marks: list[Mark] = []
    last: tuple[int, ...] = ()
    for index, text in enumerate(pages):
        for line in text.split("\n"):
            found = _NUMBERED.fullmatch(line.strip())
            if not found or _NOT_A_TITLE.search(found[2]):
                continue
            number = tuple(int(part) for part in found[1].split("."))
            if number == (1,) and all(m.level == 0 for m in marks):
                marks, last = [], ()
            if number in _successors(last):
                marks.append(Mark(index, len(number) - 1, line.strip()))
                last = number
    return marks if any(m.level > 0 for m in marks) else []


def _successors(number: tuple[int, ...]) -> set[tuple[int, ...]]:
    """The section numbers that may follow `number`: its first subsection, or the next one at
    its level or any level above ("2.3" -> "2.3.1", "2.4", "3"); "1" first."""
    if not number:
        return {(1,)}
    return {(*number, 1)} | {(*number[:depth], number[depth] + 1) for depth in range(len(number))}
