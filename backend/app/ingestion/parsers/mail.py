"""E-mail: .eml (RFC 822 / MIME) and Outlook .msg (OLE). Headers, text body, attachment names."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import olefile

from app.ingestion.parsers._text import BlockBuilder, decode_bytes, squash
from app.ingestion.parsers.html import html_encoding, html_to_blocks
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADERS = ("Subject", "From", "To", "Cc", "Date")


def _add_body(out: BlockBuilder, text: str) -> None:
    for para in text.replace("\r\n", "\n").split("\n\n"):
        out.add(para)


def _html_body(out: BlockBuilder, html: str) -> None:
    # A mail body's headings are not the document's structure; keep them as plain text.
    before = len(out.blocks)
    html_to_blocks(html, out)
    out.blocks[before:] = [
        b if b.kind != "heading" else type(b)(b.text, b.page, (), "paragraph") for b in out.blocks[before:]
    ]


def _parse_eml(data: bytes) -> ExtractedDocument:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):
        raise ExtractionError(DAMAGED)
    out = BlockBuilder()
    subject = squash(str(msg.get("Subject", "") or ""))
    for name in _HEADERS:
        value = squash(str(msg.get(name, "") or ""))
        if value:
            out.add(f"{name}: {value}")
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError):
            payload = body.get_payload(decode=True)
            content = decode_bytes(payload) if isinstance(payload, bytes) else ""
        if body.get_content_subtype() == "html":
            _html_body(out, str(content))
        else:
            _add_body(out, str(content))
    names = [squash(fn) for part in msg.iter_attachments() if (fn := part.get_filename())]
    if names:
        out.add("Attachments: " + ", ".join(names))
    return ExtractedDocument(out.blocks, 1, subject or None)


def _msg_string(ole: olefile.OleFileIO, prop: str) -> str:
    """A string property of an Outlook message: UTF-16 (001F) or 8-bit (001E) stream."""
    for suffix, encoding in (("001F", "utf-16-le"), ("001E", "cp1252")):
        stream = f"__substg1.0_{prop}{suffix}"
        if ole.exists(stream):
            return ole.openstream(stream).read().decode(encoding, "replace").rstrip("\x00")
    return ""


def _parse_msg(path: Path) -> ExtractedDocument:
    try:
        ole = olefile.OleFileIO(str(path))
    except (OSError, ValueError) as exc:
        raise ExtractionError(DAMAGED) from exc
    with ole:
        out = BlockBuilder()
        subject = squash(_msg_string(ole, "0037"))
        sender = squash(_msg_string(ole, "0C1A") + " " + _msg_string(ole, "0C1F"))
        fields = (
            ("Subject", subject),
            ("From", sender),
            ("To", squash(_msg_string(ole, "0E04"))),
            ("Cc", squash(_msg_string(ole, "0E03"))),
        )
        for name, value in fields:
            if value:
                out.add(f"{name}: {value}")
        body = _msg_string(ole, "1000")
        if body.strip():
            _add_body(out, body)
        elif ole.exists("__substg1.0_10130102"):
            html = ole.openstream("__substg1.0_10130102").read()
            _html_body(out, decode_bytes(html, html_encoding(html)))
        names = []
        for entry in ole.listdir():
            if (
                entry[0].startswith("__attach_version1.0_")
                and len(entry) == 2
                and entry[1] in ("__substg1.0_3707001F", "__substg1.0_3704001F")
            ):
                names.append(squash(ole.openstream(entry).read().decode("utf-16-le", "replace")))
        if names:
            out.add("Attachments: " + ", ".join(dict.fromkeys(n for n in names if n)))
    return ExtractedDocument(out.blocks, 1, subject or None)


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        return _parse_msg(path)
    return _parse_eml(path.read_bytes()[: limits.max_uncompressed_bytes])
