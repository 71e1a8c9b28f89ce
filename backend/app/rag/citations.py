"""Normalise the citation markers a model writes, and drop the ones that point at no source.

Models write `[1, 2]`, `[1][2]`, `[Source 1]`, `【1】` or `[1-3]`; the UI understands only `[1][2]`,
and every marker must name a source that was actually given to the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# One index inside a marker: "1", "#1", "Source 1", "src. 1". Three digits at most, so that a year
# in brackets ("[2020]") is never taken for a citation.
_ITEM = r"(?:(?:sources?|src|ref)\.?[ \t]*)?#?\d{1,3}"
_LIST = rf"{_ITEM}(?:[ \t]*(?:[,;&]|and|[-–])[ \t]*{_ITEM})*"
# `(?!\()` leaves markdown links such as "[1](https://…)" alone.
_MARKER = rf"(?:\[\^?[ \t]*{_LIST}[ \t]*\](?!\()|【[ \t]*{_LIST}[ \t]*】)"
_RUN = re.compile(
    rf"(?P<pre>[ \t]*)(?P<run>{_MARKER}(?:[ \t]*,?[ \t]*{_MARKER})*)(?P<post>[ \t]*)",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(_MARKER, re.IGNORECASE)
_PLAIN_MARKER = re.compile(r"\[(\d{1,3})\](?!\()")  # the only form left after repair_citations
_TOKEN = re.compile(r"\d+|[-–]")

# Code is never rewritten: fenced blocks run to their closing fence (or the end of the text), inline
# spans to their closing backtick (or the end of the line). Treating an unclosed span as code up to
# where it could still close keeps the result of a prefix a prefix of the result of the whole text,
# which the streaming filter relies on.
# A fenced code block, to its closing fence or the end of the text (also used by grounding).
FENCED_BLOCK = re.compile(r"(`{3,}|~{3,})[\s\S]*?(?:\1|\Z)")
_CODE = re.compile(FENCED_BLOCK.pattern + r"|`[^`\n]*(?:`|(?=\n)|\Z)")

# What may still change meaning when more text arrives: trailing whitespace, a trailing run of
# markers (another may join it), a bracket that may be the start of a marker, a partial fence.
_UNSETTLED_TAIL = re.compile(
    rf"(?:[ \t]*{_MARKER}(?:[ \t]*,?[ \t]*{_MARKER})*)?[ \t]*,?[ \t]*"
    r"(?:[\[【][^\[\]【】\n]{0,40})?[`~]*\Z",
    re.IGNORECASE,
)
_TAIL_WINDOW = 160
# Where the streaming filter may cut: after a line break, or at a word after one lone space.
_CHECKPOINT = re.compile(r"(?<=\n)|(?<=[^\s\[【] )(?=[^\W_])")
_MAX_RANGE = 20


@dataclass(frozen=True, slots=True)
class CitationResult:
    text: str
    cited: list[int]  # valid source indexes referenced, in order of first use


def _map_prose(text: str, prose: Callable[[int, int], str]) -> str:
    """`text` with every stretch outside code (start, end) replaced by `prose(start, end)`; code
    spans and blocks are kept as they are."""
    parts: list[str] = []
    pos = 0
    for code in _CODE.finditer(text):
        parts.append(prose(pos, code.start()))
        parts.append(code.group())
        pos = code.end()
    parts.append(prose(pos, len(text)))
    return "".join(parts)


def close_fences(text: str) -> str:
    """`text` with a code block left open at its end closed (a model cut off by its token limit
    in the middle of one), so that what is appended after it is prose again, its markers read."""
    blocks = list(FENCED_BLOCK.finditer(text))
    if blocks and blocks[-1].end() == len(text):
        fence, block = blocks[-1].group(1), blocks[-1].group()
        if len(block) < 2 * len(fence) or not block.endswith(fence):
            return text.rstrip() + "\n" + fence
    return text


def repair_citations(text: str, valid_indexes: set[int]) -> CitationResult:
    cited: list[int] = []
    repaired = _map_prose(
        text, lambda start, end: _repair_prose(text, start, end, valid_indexes, cited))
    return CitationResult(text=repaired, cited=cited)


def rewrite_markers(text: str, new: dict[int, int]) -> str:
    """The markers of a repaired text (only `[n]` forms remain there) mapped through `new`;
    code is left alone, as in `repair_citations`."""
    def renumber(match: re.Match[str]) -> str:
        return f"[{new.get(int(match.group(1)), match.group(1))}]"

    return _map_prose(text, lambda start, end: _PLAIN_MARKER.sub(renumber, text[start:end]))


def _repair_prose(text: str, start: int, end: int, valid: set[int], cited: list[int]) -> str:
    def replace(match: re.Match[str]) -> str:
        indexes: list[int] = []
        for marker in _MARKER_RE.finditer(match.group("run")):
            for index in _indexes(marker.group()):
                if index in valid and index not in indexes:
                    indexes.append(index)
        for index in indexes:
            if index not in cited:
                cited.append(index)
        if indexes:
            return match.group("pre") + "".join(f"[{i}]" for i in indexes) + match.group("post")
        # Nothing valid is left: drop the marker and the space before it, and at the start of a
        # line the space after it, so no gap remains.
        at_line_start = start + match.start() == 0 or text[start + match.start() - 1] == "\n"
        return "" if at_line_start else match.group("post")

    return _RUN.sub(replace, text[start:end])


def _indexes(marker: str) -> list[int]:
    tokens = _TOKEN.findall(marker)
    out: list[int] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        is_range = i + 2 < len(tokens) and tokens[i + 1] in "-–" and tokens[i + 2].isdigit()
        if token.isdigit() and is_range:
            low, high = int(token), int(tokens[i + 2])
            if low <= high <= low + _MAX_RANGE:
                out.extend(range(low, high + 1))
            else:
                out.extend((low, high))
            i += 3
            continue
        if token.isdigit():
            out.append(int(token))
        i += 1
    return out


class StreamingCitationFilter:
    """Repairs markers while tokens stream, holding back only what may still change.

    The emitted text, joined with `flush()`, equals `repair_citations(whole_text).text`.
    """

    def __init__(self, valid_indexes: set[int]) -> None:
        self._valid = set(valid_indexes)
        self._raw = ""
        # Text before `_checkpoint` is final (see _advance_checkpoint), so each feed re-repairs
        # only the few words after it.
        self._checkpoint = 0
        self._emitted = 0  # characters of repaired text after the checkpoint already handed out
        self._cited: list[int] = []

    def feed(self, delta: str) -> str:
        self._raw += delta
        # Nothing unsettled spans a line break, so the search starts at the last one.
        window_start = max(self._checkpoint, len(self._raw) - _TAIL_WINDOW,
                           self._raw.rfind("\n") + 1)
        tail = _UNSETTLED_TAIL.search(self._raw, window_start)
        settled = tail.start() if tail else len(self._raw)
        return self._emit(settled)

    def flush(self) -> str:
        return self._emit(len(self._raw))

    @property
    def cited(self) -> list[int]:
        cited = list(self._cited)
        for index in repair_citations(self._raw[self._checkpoint :], self._valid).cited:
            if index not in cited:
                cited.append(index)
        return cited

    def _emit(self, settled: int) -> str:
        segment = self._raw[self._checkpoint : settled]
        text = repair_citations(segment, self._valid).text
        out = text[self._emitted :] if len(text) > self._emitted else ""
        self._emitted = max(self._emitted, len(text))
        self._advance_checkpoint(segment)
        return out

    def _advance_checkpoint(self, segment: str) -> None:
        """Move the checkpoint to the last safe cut in `segment`: a line start, or a word start
        after a single space, outside code and outside brackets. No marker run, code span or
        line-start rule reaches across such a cut, so what precedes it is final."""
        regions = [(code.start(), code.end()) for code in _CODE.finditer(segment)]
        cuts = [m.start() for m in _CHECKPOINT.finditer(segment)]
        for cut in reversed(cuts):
            if cut == 0 or any(start < cut <= end for start, end in regions):
                continue
            if segment[cut - 1] != "\n" and _inside_brackets(segment, cut):
                continue
            break
        else:
            return
        done = repair_citations(segment[:cut], self._valid)
        for index in done.cited:
            if index not in self._cited:
                self._cited.append(index)
        self._checkpoint += cut
        self._emitted -= len(done.text)


def _inside_brackets(text: str, pos: int) -> bool:
    opened = max(text.rfind("[", 0, pos), text.rfind("【", 0, pos))
    closed = max(text.rfind("]", 0, pos), text.rfind("】", 0, pos))
    return opened > closed
