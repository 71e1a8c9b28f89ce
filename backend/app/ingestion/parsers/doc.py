"""Legacy Word 97-2003 (.doc): main-document text from the piece table (OLE via olefile).

Layout per [MS-DOC]: the FIB at the start of the WordDocument stream gives ccpText (length of
the main story, 0x4C) and the Clx position in the table stream (fcClx 0x1A2, lcbClx 0x1A6);
the Clx's PlcPcd maps character positions to byte offsets, each piece either cp1252
("compressed") or UTF-16LE.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import olefile

from app.ingestion.parsers._text import BlockBuilder, clean_text
from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits

UNSUPPORTED = "Legacy Word 97-2003 (.doc) files are not supported; save as .docx and upload again."
_FIELD = re.compile(r"\x13[^\x13\x14\x15]*\x14?|\x15")  # field codes: keep the result, drop the code


def _pieces(clx: bytes) -> list[tuple[int, int, int, bool]]:
    """(cp_start, cp_end, byte offset, compressed) per piece."""
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # skip Prc (property modifiers)
        (size,) = struct.unpack_from("<H", clx, pos + 1)
        pos += 3 + size
    if pos >= len(clx) or clx[pos] != 0x02:
        raise ValueError("no piece table")
    (length,) = struct.unpack_from("<I", clx, pos + 1)
    plc = clx[pos + 5 : pos + 5 + length]
    count = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    out = []
    for i in range(count):
        (fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)
        compressed = bool(fc & 0x40000000)
        offset = (fc & 0x3FFFFFFF) // 2 if compressed else fc & 0x3FFFFFFF
        out.append((cps[i], cps[i + 1], offset, compressed))
    return out


def read_text(path: Path, max_bytes: int) -> str:
    with olefile.OleFileIO(str(path)) as ole:
        word = ole.openstream("WordDocument").read()
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        table_name = "1Table" if flags & 0x0200 else "0Table"
        if flags & 0x0100:
            raise ExtractionError("This Word document is encrypted; remove the password and upload it again.")
        ccp_text = struct.unpack_from("<I", word, 0x4C)[0]
        fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x1A2)
        table = ole.openstream(table_name).read()
    parts: list[str] = []
    total = 0
    for cp_start, cp_end, offset, compressed in _pieces(table[fc_clx : fc_clx + lcb_clx]):
        if cp_start >= ccp_text:
            break
        n = min(cp_end, ccp_text) - cp_start
        if compressed:
            parts.append(word[offset : offset + n].decode("cp1252", "replace"))
        else:
            parts.append(word[offset : offset + 2 * n].decode("utf-16-le", "replace"))
        total += n
        if total > max_bytes:
            break
    return "".join(parts)


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    try:
        raw = read_text(path, limits.max_uncompressed_bytes)
    except ExtractionError:
        raise
    except (OSError, ValueError, struct.error, IndexError) as exc:
        raise ExtractionError(UNSUPPORTED) from exc
    raw = _FIELD.sub("", raw)
    out = BlockBuilder()
    for para in clean_text(raw.replace("\x07", " | ").replace("\x0b", "\n")).split("\n"):
        out.add(para.replace("\x0c", " "))
    return ExtractedDocument(out.blocks, 1)
