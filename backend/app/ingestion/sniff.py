"""File type detection from the bytes themselves.

The extension is trusted only to tell apart text formats (Markdown vs reStructuredText vs CSV vs
plain text), because users rename files and hostile uploads lie about their type.
Give ``sniff_type`` at least the first 64 KiB; ``sniff_file`` also reads a zip's central directory
or an OLE directory when the head alone is not conclusive.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import filetype
import olefile

from app.ingestion.parsers._text import decode_bytes, guess_encoding
from app.ingestion.types import EMPTY, ExtractionError

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DetectedType:
    mime: str
    kind: str
    extension: str


_TYPES: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", ".pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "xls": ("application/vnd.ms-excel", ".xls"),
    "csv": ("text/csv", ".csv"),
    "html": ("text/html", ".html"),
    "markdown": ("text/markdown", ".md"),
    "rst": ("text/x-rst", ".rst"),
    "text": ("text/plain", ".txt"),
    "epub": ("application/epub+zip", ".epub"),
    "odt": ("application/vnd.oasis.opendocument.text", ".odt"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", ".ods"),
    "rtf": ("application/rtf", ".rtf"),
    "email": ("message/rfc822", ".eml"),
    "doc": ("application/msword", ".doc"),
    "ppt": ("application/vnd.ms-powerpoint", ".ppt"),
}
_IMAGE_EXT = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/webp": ".webp",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF_MIMES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/epub+zip": "epub",
}
_OOXML_MARKERS = (
    ("wordprocessingml.document.main", "docx"),
    ("ms-word.document.macroEnabled", "docx"),
    ("wordprocessingml.template.main", "docx"),
    ("presentationml.presentation.main", "pptx"),
    ("presentationml.slideshow.main", "pptx"),
    ("ms-powerpoint.presentation.macroEnabled", "pptx"),
    ("spreadsheetml.sheet.main", "xlsx"),
    ("ms-excel.sheet.macroEnabled", "xlsx"),
    ("spreadsheetml.template.main", "xlsx"),
)
_OLE_STREAMS = (
    ("WordDocument", "doc"),
    ("PowerPoint Document", "ppt"),
    ("Workbook", "xls"),
    ("Book", "xls"),
    ("__substg1.0_", "email"),
)
_EMAIL_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "received",
    "message-id",
    "mime-version",
    "return-path",
    "delivered-to",
    "reply-to",
    "cc",
    "content-type",
    "x-mailer",
}
_HEADER_LINE = re.compile(r"^([!-9;-~]+):[ \t]")
_LOCAL_HEADER = re.compile(rb"PK\x03\x04.{22}(?=..)", re.DOTALL)
_HTML_START = re.compile(r"<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)


def detected(kind: str, mime: str | None = None, extension: str | None = None) -> DetectedType:
    base_mime, base_ext = _TYPES.get(kind, ("application/octet-stream", ""))
    return DetectedType(mime or base_mime, kind, extension or base_ext)


def unsupported(what: str) -> ExtractionError:
    return ExtractionError(f"Unsupported file type: {what}.")


def sniff_type(head: bytes, filename: str) -> DetectedType:
    """Detect the type from the first bytes of a file (see module docstring)."""
    if not head:
        raise ExtractionError(EMPTY)
    if b"%PDF-" in head[:1024]:
        return detected("pdf")
    if head.lstrip()[:5] == b"{\\rtf":
        return detected("rtf")
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind_from_head(head)
        if kind is None:
            raise unsupported("a ZIP archive that is not a supported document format")
        return detected(kind)
    if head.startswith(b"PK\x05\x06"):
        raise unsupported("an empty ZIP archive")
    if head.startswith(_OLE_MAGIC):
        return detected(_ole_kind_from_head(head, filename))
    guess = filetype.guess(head)
    if guess is not None and guess.mime in _IMAGE_EXT:
        return DetectedType(guess.mime, "image", _IMAGE_EXT[guess.mime])
    text = _as_text(head)
    if text is None:
        what = guess.mime if guess is not None else "binary data"
        raise unsupported(what)
    return _text_kind(text, filename)


def sniff_file(path: Path, filename: str | None = None) -> DetectedType:
    """Like ``sniff_type`` but may look at the zip central directory / OLE directory too."""
    name = filename or path.name
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    try:
        return sniff_type(head, name)
    except ExtractionError:
        kind = None
        if head.startswith(b"PK\x03\x04"):
            kind = _zip_kind_from_directory(path)
        elif head.startswith(_OLE_MAGIC):
            kind = _ole_kind_from_file(path)
        if kind:
            return detected(kind)
        raise


def _zip_kind_from_names(names: list[str]) -> str | None:
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return None


def _zip_kind_from_head(head: bytes) -> str | None:
    """Walk the local file headers present in ``head`` (they come first in a zip)."""
    names: list[str] = []
    pos = 0
    while pos + 30 <= len(head) and head[pos : pos + 4] == b"PK\x03\x04":
        _, flags, method, _, _, _, csize, _, nlen, xlen = struct.unpack(
            "<HHHHHIIIHH", head[pos + 4 : pos + 30]
        )
        name = head[pos + 30 : pos + 30 + nlen].decode("utf-8", "replace")
        data_start = pos + 30 + nlen + xlen
        data = head[data_start : data_start + csize] if csize else head[data_start : data_start + 4096]
        names.append(name)
        if name == "mimetype" and method == 0:
            for mime, kind in _ODF_MIMES.items():
                if data.startswith(mime):
                    return kind
        if name == "[Content_Types].xml":
            content = _inflate_prefix(data) if method == 8 else data
            for marker, kind in _OOXML_MARKERS:
                if marker.encode() in content:
                    return kind
        if flags & 0x08 or not csize:  # sizes live in a data descriptor: cannot skip ahead
            break
        pos = data_start + csize
    # Fall back to every local header signature in the head (works with data descriptors too).
    for match in _LOCAL_HEADER.finditer(head):
        nlen = struct.unpack_from("<H", head, match.start() + 26)[0]
        names.append(head[match.start() + 30 : match.start() + 30 + nlen].decode("utf-8", "replace"))
    return _zip_kind_from_names(names)


def _zip_kind_from_directory(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "mimetype" in names and zf.getinfo("mimetype").file_size < 200:
                mimetype = zf.read("mimetype").strip()
                if mimetype in _ODF_MIMES:
                    return _ODF_MIMES[mimetype]
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    return _zip_kind_from_names(names)


def _inflate_prefix(data: bytes) -> bytes:
    try:
        return zlib.decompressobj(-15).decompress(data, 1 << 20)
    except zlib.error:
        return b""


def _ole_kind_from_head(head: bytes, filename: str) -> str:
    for stream, kind in _OLE_STREAMS:
        if stream.encode("utf-16-le") in head:
            return kind
    try:
        ole = olefile.OleFileIO(head)
        # The stubs say bytes; olefile returns str path parts.
        entries = ["/".join(map(str, e)) for e in ole.listdir()]
        for stream, kind in _OLE_STREAMS:
            if any(e.startswith(stream) for e in entries):
                return kind
    except Exception:  # noqa: S110 - a truncated head is expected here; fall through
        pass
    # The directory sector was beyond the head: use the extension among the OLE formats only.
    ext = Path(filename).suffix.lower()
    legacy = {
        ".doc": "doc",
        ".dot": "doc",
        ".ppt": "ppt",
        ".pps": "ppt",
        ".xls": "xls",
        ".msg": "email",
    }
    if ext in legacy:
        return legacy[ext]
    raise unsupported("a Microsoft Office 97-2003 file of an unknown kind")


def _ole_kind_from_file(path: Path) -> str | None:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            entries = ["/".join(map(str, e)) for e in ole.listdir()]
    except (OSError, ValueError):
        return None
    for stream, kind in _OLE_STREAMS:
        if any(e.startswith(stream) for e in entries):
            return kind
    return None


def _as_text(head: bytes) -> str | None:
    """Decoded text, or None if the bytes look binary."""
    encoding = guess_encoding(head)
    if b"\x00" in head[:8192] and not encoding.startswith(("utf-16", "utf-32")):
        return None
    text = decode_bytes(head, encoding)
    if not text.strip():
        return text
    bad = text.count("\ufffd")
    return None if bad > max(8, len(text) // 50) else text


def _is_email(text: str) -> bool:
    lines = text.lstrip().split("\n", 200)
    if not lines:
        return False
    found: set[str] = set()
    first = True
    for line in lines:
        if not line.strip():
            break
        if line[:1] in " \t":  # folded header continuation
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            if first and line.startswith("From "):  # mbox separator line
                first = False
                continue
            return False
        first = False
        found.add(match.group(1).lower())
    return len(found & _EMAIL_HEADERS) >= 2 and bool(found & {"from", "received", "message-id"})


def _text_kind(text: str, filename: str) -> DetectedType:
    suffixes = [s.lower() for s in Path(filename).suffixes]
    ext = suffixes[-1] if suffixes else ""
    stripped = text.lstrip()[:4096]
    if _is_email(text):
        return detected("email")
    if (
        ext not in {".md", ".markdown", ".rst", ".csv", ".tsv"}
        and stripped.startswith("<")
        and (_HTML_START.search(stripped) or ext in {".html", ".htm", ".xhtml"})
    ):
        return detected("html")
    if ext in {".md", ".markdown", ".mdown", ".mkd"} or ".md" in suffixes:
        return detected("markdown")
    if ext == ".rst" or ".rst" in suffixes:
        return detected("rst")
    if ext in {".csv", ".tsv"}:
        return detected("csv", "text/tab-separated-values" if ext == ".tsv" else None, ext)
    return detected("text")
