"""Structure-aware chunking of extracted blocks.

Offsets: ``char_start``/``char_end`` index into the document text
``"\\n\\n".join(block.text for block in blocks)``, and every chunk's ``text`` is exactly
``document_text[char_start:char_end]``, so a viewer can highlight it. Nothing synthetic is
added to chunk text; ``heading_path`` is metadata (the pipeline may prepend it for embedding).

Rules, in priority order:
1. A chunk never exceeds ``max_tokens`` (as measured by ``count_tokens`` on its parts).
2. A change of top-level section (``heading_path[0]``) or of page always starts a new chunk.
3. Blocks are packed whole; a heading at the end of a chunk moves to the next one; a heading
   also starts a new chunk once the current one is a third full.
4. Oversized blocks are split at sentence ends, else at whitespace, else anywhere.
5. A chunk continuing the same section starts with the previous chunk's tail (whole sentences,
   else words; whole rows for tables) of at most ``overlap_tokens``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from app.ingestion.types import Block

TokenCounter = Callable[[str], int]

# A boundary is where the next piece starts: after sentence punctuation (+closing quotes) and
# whitespace, right after CJK full stops, or after a line break.
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|(?<=[。！？])\s*|\s*\n\s*")
_WORD = re.compile(r"\s+")
_CHARS_PER_TOKEN = 16  # search window: no tokenizer averages more characters per token


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    n: int
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    heading_path: tuple[str, ...]
    # Word pieces in ``text``: the sum of its parts' counts (exact for the WordPiece tokenizer,
    # which splits at the whitespace the parts are cut at), so no caller counts the chunk again.
    tokens: int


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    tokens: int
    page: int
    path: tuple[str, ...]
    kind: str


def document_text(blocks: Sequence[Block]) -> str:
    """The text that chunk offsets refer to."""
    return "\n\n".join(b.text for b in blocks)


def chunk_blocks(
    blocks: Sequence[Block],
    count_tokens: TokenCounter,
    *,
    max_tokens: int = 256,
    overlap_tokens: int = 40,
) -> list[ChunkDraft]:
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
    doc = document_text(blocks)
    packer = _Packer(doc, count_tokens, max_tokens, overlap_tokens)
    # Pieces of split blocks leave room for the overlap (and a heading) in front of them.
    for unit in _units(blocks, doc, count_tokens, max_tokens, max_tokens - overlap_tokens):
        packer.add(unit)
    if packer.units:
        packer.flush(None)
    return packer.chunks


def _units(
    blocks: Sequence[Block], doc: str, count: TokenCounter, budget: int, piece_budget: int
) -> Iterator[_Unit]:
    offset = 0
    for block in blocks:
        start, end = offset, offset + len(block.text)
        offset = end + 2
        start, end = _trim(doc, start, end)
        if start >= end:
            continue
        tokens = count(doc[start:end]) if end - start <= budget * _CHARS_PER_TOKEN else budget + 1
        if tokens <= budget:
            yield _Unit(start, end, tokens, block.page, block.heading_path, block.kind)
            continue
        for piece_start, piece_end, piece_tokens in _split(doc, start, end, count, piece_budget):
            yield _Unit(piece_start, piece_end, piece_tokens, block.page, block.heading_path, block.kind)


def _trim(doc: str, start: int, end: int) -> tuple[int, int]:
    while start < end and doc[start].isspace():
        start += 1
    while end > start and doc[end - 1].isspace():
        end -= 1
    return start, end


def _boundaries(doc: str, start: int, end: int, pattern: re.Pattern[str]) -> list[int]:
    return [m.end() for m in pattern.finditer(doc, start, end) if start < m.end() < end]


def _last_fitting(cands: list[int], fits: Callable[[int], bool]) -> int | None:
    """Largest candidate satisfying a predicate that holds for a prefix of ``cands``."""
    lo, hi, best = 0, len(cands) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(cands[mid]):
            best, lo = cands[mid], mid + 1
        else:
            hi = mid - 1
    return best


def _split(
    doc: str, start: int, end: int, count: TokenCounter, budget: int
) -> Iterator[tuple[int, int, int]]:
    """Pieces of doc[start:end], each within ``budget`` tokens, cut at the best boundary."""
    pos = start
    window = budget * _CHARS_PER_TOKEN
    while pos < end:
        pos, _ = _trim(doc, pos, end)
        if pos >= end:
            return
        if end - pos <= window:
            tokens = count(doc[pos:end])
            if tokens <= budget:
                yield pos, end, tokens
                return
        limit = min(end, pos + window)
        measured: dict[int, int] = {}

        def fits(cut: int, pos: int = pos, measured: dict[int, int] = measured) -> bool:
            piece_end = _trim(doc, pos, cut)[1]
            measured[cut] = count(doc[pos:piece_end])
            return measured[cut] <= budget

        cut = None
        for pattern in (_SENTENCE, _WORD):
            cands = _boundaries(doc, pos, limit, pattern)
            if limit == end:
                cands.append(end)
            cut = _last_fitting(cands, fits)
            if cut is not None:
                break
        if cut is None:  # one enormous "word": cut anywhere
            cut = _last_fitting(list(range(pos + 1, limit + 1)), fits) or pos + 1
            measured.setdefault(cut, count(doc[pos:cut]))
        piece_end = _trim(doc, pos, cut)[1]
        yield pos, piece_end, measured[cut]
        pos = cut


class _Packer:
    def __init__(self, doc: str, count: TokenCounter, budget: int, overlap: int) -> None:
        self.doc, self.count, self.budget, self.overlap = doc, count, budget, overlap
        self.chunks: list[ChunkDraft] = []
        self.units: list[_Unit] = []
        self.tokens = 0
        self.start = 0
        self.overlap_page: int | None = None

    def add(self, unit: _Unit) -> None:
        while self.units:
            last = self.units[-1]
            # A chunk never spans pages: a citation must name the one page its text is on.
            section_change = unit.path[:1] != last.path[:1] or unit.page != last.page
            full = self.tokens + unit.tokens > self.budget
            heading_break = unit.kind == "heading" and self.tokens * 3 >= self.budget
            if not (section_change or full or heading_break):
                self.units.append(unit)
                self.tokens += unit.tokens
                return
            self.flush(unit, section_change)
        self._begin(unit)

    def _begin(self, unit: _Unit) -> None:
        """Open a chunk with ``unit``, after the pending overlap tail if there is one."""
        if self.overlap_page is None:
            self.start, self.tokens = unit.start, 0
        self.units = [unit]
        self.tokens += unit.tokens

    def flush(self, nxt: _Unit | None, section_change: bool = False) -> None:
        units = self.units
        carry: list[_Unit] = []
        if nxt is not None and not section_change and any(u.kind != "heading" for u in units):
            # Do not end a chunk on a heading: it belongs with what follows.
            while units[-1].kind == "heading":
                carry.insert(0, units.pop())
        end = units[-1].end
        pages = [u.page for u in units] + ([self.overlap_page] if self.overlap_page is not None else [])
        carried = sum(u.tokens for u in carry)
        self.chunks.append(
            ChunkDraft(
                n=len(self.chunks),
                text=self.doc[self.start : end],
                page_start=min(pages),
                page_end=max(pages),
                char_start=self.start,
                char_end=end,
                heading_path=units[0].path,
                tokens=self.tokens - carried,
            )
        )
        self.overlap_page = None
        self.units, self.tokens = carry, carried
        if carry:
            self.start = carry[0].start
        elif nxt is not None and not section_change and nxt.kind != "heading" and nxt.path == units[-1].path:
            tail = self._tail(units[-1], self.start)
            if tail is not None and tail[1] + nxt.tokens <= self.budget:
                self.start, self.tokens, self.overlap_page = tail[0], tail[1], units[-1].page

    def _tail(self, unit: _Unit, chunk_start: int) -> tuple[int, int] | None:
        """Start and token count of the overlap taken from the end of ``unit``."""
        if self.overlap <= 0 or unit.kind == "heading":
            return None
        lo = max(unit.start, chunk_start + 1)
        if unit.kind == "table_row":
            return (unit.start, unit.tokens) if unit.start >= lo and unit.tokens <= self.overlap else None
        lo = max(lo, unit.end - self.overlap * _CHARS_PER_TOKEN)
        best: tuple[int, int] | None = None
        starts = _boundaries(self.doc, lo, unit.end, _SENTENCE)
        if unit.start >= lo:
            starts.insert(0, unit.start)
        for start in reversed(starts):  # latest sentence first; stop when one no longer fits
            tokens = self.count(self.doc[start : unit.end])
            if tokens > self.overlap:
                break
            best = (start, tokens)
        if best is not None:
            return best
        words = _boundaries(self.doc, lo, unit.end, _WORD)
        measured: dict[int, int] = {}

        def fits(i: int) -> bool:
            measured[i] = self.count(self.doc[words[-1 - i] : unit.end])
            return measured[i] <= self.overlap

        index = _last_fitting(list(range(len(words))), fits)
        return (words[-1 - index], measured[index]) if index is not None else None
