"""Legacy PowerPoint 97-2003 (.ppt): text atoms from the "PowerPoint Document" record stream.

Records ([MS-PPT]) have an 8-byte header: version/instance (2), type (2), length (4); version 0xF
marks a container. Slide text lives in SlideListWithText (type 0x0FF0, instance 0), where each
SlidePersistAtom (0x03F3) starts the next slide; decks saved by newer versions keep it in each
Slide container (0x03EE) instead, which is the fallback.
"""

from __future__ import annotations

import struct
from pathlib import Path

import olefile

from app.ingestion.parsers._text import BlockBuilder, clean_text
from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits

UNSUPPORTED = "Legacy PowerPoint 97-2003 (.ppt) files are not supported; save as .pptx and upload again."
_TEXT_CHARS, _TEXT_BYTES, _CSTRING = 0x0FA0, 0x0FA8, 0x0FBA
_SLIDE_LIST, _SLIDE_PERSIST, _SLIDE, _MAIN_MASTER, _NOTES = 0x0FF0, 0x03F3, 0x03EE, 0x03F8, 0x03F0
_MAX_DEPTH = 32


def _walk(
    data: bytes,
    start: int,
    end: int,
    depth: int,
    ctx: dict[str, int],
    found: dict[str, list[tuple[int, str]]],
) -> None:
    pos = start
    while pos + 8 <= end:
        ver_inst, rtype, length = struct.unpack_from("<HHI", data, pos)
        body, pos_next = pos + 8, min(pos + 8 + length, end)
        if (ver_inst & 0x0F) == 0x0F:
            if depth < _MAX_DEPTH and rtype not in (_MAIN_MASTER, _NOTES):
                inner = dict(ctx)
                if rtype == _SLIDE_LIST:
                    inner["list"] = 1 if (ver_inst >> 4) == 0 else 0
                if rtype == _SLIDE:
                    ctx["slide_container"] += 1
                    inner["in_slide"] = ctx["slide_container"]
                _walk(data, body, pos_next, depth + 1, inner, found)
                if rtype == _SLIDE_LIST:
                    ctx["persist"] = inner["persist"]
        elif rtype == _SLIDE_PERSIST and ctx.get("list"):
            ctx["persist"] += 1
        elif rtype in (_TEXT_CHARS, _TEXT_BYTES):
            raw = data[body:pos_next]
            text = raw.decode("utf-16-le" if rtype == _TEXT_CHARS else "cp1252", "replace")
            if ctx.get("list"):
                found["list"].append((max(ctx["persist"], 1), text))
            elif ctx.get("in_slide"):
                found["slides"].append((ctx["in_slide"], text))
        pos = pos_next


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            data = ole.openstream("PowerPoint Document").read()
    except (OSError, ValueError) as exc:
        raise ExtractionError(UNSUPPORTED) from exc
    found: dict[str, list[tuple[int, str]]] = {"list": [], "slides": []}
    ctx = {"persist": 0, "slide_container": 0, "list": 0, "in_slide": 0}
    try:
        _walk(data, 0, len(data), 0, ctx, found)
    except struct.error as exc:
        raise ExtractionError(UNSUPPORTED) from exc
    texts = found["list"] or found["slides"]
    out = BlockBuilder()
    for slide, text in texts:
        for para in clean_text(text.replace("\x0b", "\n")).split("\n"):
            out.add(para, page=slide)
    pages = max((s for s, _ in texts), default=1)
    if pages > limits.max_pages:
        raise ExtractionError(
            f"This presentation has {pages} slides, more than the limit of {limits.max_pages}."
        )
    return ExtractedDocument(out.blocks, pages)
