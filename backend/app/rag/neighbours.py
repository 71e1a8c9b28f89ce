"""Sentences cut by a chunk boundary, completed from the neighbouring chunks of the same document.

A chunk may start or end mid-sentence ("function that returns a named tuple showing hits,
misses …" whose subject, "cache_info", ends the chunk before). The extractive answerer quotes
sentences, so it gets the missing beginning (end) of the first (last) sentence of each passage
from the previous (next) chunk: only the fragment up to the sentence boundary, never a whole
sentence of the neighbour, so every sentence it quotes still lies in the cited passage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.documents.models import Chunk
from app.rag.prompts import Source

MAX_FRAGMENT = 400  # characters: a longer "fragment" is not the rest of one sentence
# Where a sentence ends: punctuation before whitespace, or a blank line between blocks.
_END = re.compile(r"[.!?…:;][\"'”’)\]]*(?=\s)|\n\s*\n")
_OPEN_END = re.compile(r"[.!?…:;][\"'”’)\]]*\s*$")


def _neighbour_id(chunk_id: str, step: int) -> str | None:
    """Chunk ids are `{document_id}:{version}:{n}`."""
    head, _, n = chunk_id.rpartition(":")
    return f"{head}:{int(n) + step}" if head and n.isdigit() and int(n) + step >= 0 else None


def _starts_cut(text: str) -> bool:
    return text[:1].islower()


def _ends_cut(text: str) -> bool:
    return bool(text.strip()) and not _OPEN_END.search(text)


async def complete_cut_sentences(session: AsyncSession, sources: Sequence[Source]) -> list[Source]:
    """`sources` with `before`/`after` set where a passage starts/ends mid-sentence. The
    neighbours are chunks of the same document version as a passage the reader was given."""
    wanted: set[str] = set()
    for s in sources:
        if _starts_cut(s.text) or _ends_cut(s.text):
            wanted.add(s.chunk_id)
            for step in (-1, 1):
                nid = _neighbour_id(s.chunk_id, step)
                if nid:
                    wanted.add(nid)
    if not wanted:
        return list(sources)
    rows = {cid: (document_id, text, start, end) for cid, document_id, text, start, end in (
        await session.execute(select(Chunk.id, Chunk.document_id, Chunk.text, Chunk.char_start,
                                     Chunk.char_end).where(Chunk.id.in_(sorted(wanted))))).all()}
    completed = []
    for s in sources:
        own = rows.get(s.chunk_id)
        before = after = ""
        if own is not None:
            _, _, start, end = own
            prev = rows.get(_neighbour_id(s.chunk_id, -1) or "")
            if prev is not None and prev[0] == s.document_id and _starts_cut(s.text) \
                    and prev[2] < start <= prev[3]:
                before = _tail_fragment(prev[1][: start - prev[2]])
            nxt = rows.get(_neighbour_id(s.chunk_id, 1) or "")
            if nxt is not None and nxt[0] == s.document_id and _ends_cut(s.text) \
                    and nxt[2] <= end < nxt[3]:
                after = _head_fragment(nxt[1][end - nxt[2]:])
        completed.append(replace(s, before=before, after=after) if before or after else s)
    return completed


def _tail_fragment(head: str) -> str:
    """What follows the last sentence boundary of `head` (the text before a passage)."""
    ends = list(_END.finditer(head))
    fragment = head[ends[-1].end():] if ends else head
    return fragment if fragment.strip() and len(fragment.strip()) <= MAX_FRAGMENT else ""


def _head_fragment(tail: str) -> str:
    """`tail` (the text after a passage) up to and including its first sentence end."""
    match = _END.search(tail)
    fragment = tail[: match.end()] if match else tail
    return fragment if fragment.strip() and len(fragment.strip()) <= MAX_FRAGMENT else ""
