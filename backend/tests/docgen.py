"""Test documents, built at test time: no file outside the repository is needed.

Each builder writes one file with the library that writes that format (fpdf2, python-docx,
python-pptx, openpyxl, Pillow, the standard library's email and zipfile) or, for the Office 97-2003
binary formats that no maintained library writes, the smallest file their published layouts allow
([MS-CFB] container, [MS-DOC], [MS-PPT], BIFF8, Outlook .msg property streams), which the readers
we depend on (olefile, xlrd) must accept. Builders take a path and return it; content is
deterministic, so a file's bytes (and so its hash) are the same on every run.

``build_corpus(folder)`` writes one file per supported format plus the awkward cases the real
evaluation corpus covers (encrypted, damaged, empty, mislabelled, non-UTF-8). ``python -m
tests.docgen e2e FOLDER`` writes the files the Playwright specs upload.
"""

from __future__ import annotations

import email.policy
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)

# ---- text ---------------------------------------------------------------------------------------

_ADJECTIVES = ("quiet", "northern", "careful", "bright", "narrow", "patient", "early", "hollow",
               "distant", "steady", "curious", "ancient", "gentle", "rapid", "silver", "modest")
_NOUNS = ("river", "archive", "lantern", "orchard", "bridge", "ledger", "harbour", "meadow",
          "engine", "valley", "library", "compass", "garden", "signal", "workshop", "tower")
_VERBS = ("follows", "records", "crosses", "protects", "measures", "describes", "shelters",
          "outlines", "connects", "reflects", "supports", "surveys")


def prose(seed: int, sentences: int) -> str:
    """Deterministic, varied English-like sentences (same seed, same text)."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        a, b = rng.choice(_ADJECTIVES), rng.choice(_ADJECTIVES)
        n1, n2, n3 = rng.choice(_NOUNS), rng.choice(_NOUNS), rng.choice(_NOUNS)
        out.append(f"The {a} {n1} {rng.choice(_VERBS)} the {b} {n2} near the {n3} "
                   f"in season {rng.randint(1, 400)}.")
    return " ".join(out)


def paragraphs(seed: int, count: int, sentences: int = 6) -> list[str]:
    return [prose(seed * 1000 + i, sentences) for i in range(count)]


# ---- PDF (fpdf2) ------------------------------------------------------------------------------


def pdf(path: Path, pages: Sequence[str], *, title: str | None = None,
        outline: Sequence[tuple[int, str]] = (), user_password: str | None = None,
        owner_password: str | None = None, rc4: bool = False, pad_to: int = 0) -> Path:
    """A text PDF, one string per page (blank lines separate paragraphs), Helvetica (Latin-1).

    ``outline``: (1-based page, title) bookmarks in outline order, several per page if need be.
    ``user_password``: encrypted, it cannot be opened without it; ``owner_password`` alone:
    encrypted with an empty user password and no permissions (opens, copying is forbidden);
    AES-128, or RC4-128 with ``rc4``. ``pad_to``: grow the file to that many bytes with an
    incompressible embedded attachment (no extra text).
    """
    from fpdf import FPDF
    from fpdf.enums import AccessPermission, EncryptionMethod

    def build(padding: bytes) -> bytes:
        doc = FPDF(format="A4")
        doc.set_creation_date(_FIXED_DATE)
        doc.set_auto_page_break(True, margin=15)
        if title:
            doc.set_title(title)
        marks: dict[int, list[str]] = {}
        for page, mark in outline:
            marks.setdefault(page, []).append(mark)
        for number, text in enumerate(pages, start=1):
            doc.add_page()
            doc.set_font("Helvetica", size=11)
            for mark in marks.get(number, ()):
                doc.start_section(mark)
            for para in text.split("\n\n"):
                doc.multi_cell(0, 5.5, para, new_x="LMARGIN", new_y="NEXT")
                doc.ln(2)
            if doc.page != number:
                raise ValueError(f"page {number} of {path.name} does not fit on one page")
        if padding:
            doc.embed_file(bytes=padding, basename="padding.bin", compress=False)
        if user_password or owner_password:
            method = EncryptionMethod.RC4 if rc4 else EncryptionMethod.AES_128
            doc.set_encryption(owner_password=owner_password or "owner-secret",
                               user_password=user_password or "", encryption_method=method,
                               permissions=AccessPermission.none())
        return bytes(doc.output())

    data = build(b"")
    if pad_to > len(data):
        filler = random.Random(pad_to).randbytes(pad_to - len(data))
        data = build(filler)
        data = build(filler[: len(filler) - (len(data) - pad_to)])
    path.write_bytes(data)
    return path


def heavy_pdf(path: Path, operations: int = 300_000) -> Path:
    """One page drawing ``operations`` tiny text runs: a few KB on disk (the content stream is
    compressed) but slow and memory-hungry to lay out — a file that is costly to read."""
    run = b"BT /F1 2 Tf 10 10 Td (costly) Tj ET\n"
    content = zlib.compress(run * operations, 9)
    return _raw_pdf(path, [content])


def exploding_pdf(path: Path, pages: int = 200, lines: int = 600) -> Path:
    """``pages`` pages that all draw ONE content stream of ``lines`` lines of 1-pt text: a few KB
    on disk, tens of millions of characters (hundreds of thousands of chunks) when extracted."""
    line = " ".join(prose(7, 2).split()[:9]).encode()
    body = b"".join(b"BT /F1 1 Tf 10 %d Td (%s %d) Tj ET\n" % (10 + i, line, i) for i in range(lines))
    return _raw_pdf(path, [zlib.compress(body, 9)], pages=pages)


def _raw_pdf(path: Path, compressed_pages: Sequence[bytes], *, pages: int | None = None) -> Path:
    """A minimal PDF 1.4 writer: one Helvetica font, Flate-compressed page content streams.
    With ``pages``, that many pages all draw the one stream in ``compressed_pages``."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the page objects are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids: list[int] = []
    for content in compressed_pages:
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
                       + content + b"\nendstream")
        stream = len(objects)
        for _ in range(pages if pages is not None else 1):
            objects.append(b"<< /Type /Page /Parent 2 0 R /Contents %d 0 R >>" % stream)
            kids.append(len(objects))
    # Pages inherit their size and font from the page tree (a few bytes per page).
    objects[1] = (b"<< /Type /Pages /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                  b"/Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def damaged_pdf(path: Path) -> Path:
    """Starts like a PDF, but no reader can find a document in it."""
    path.write_bytes(b"%PDF-1.7\n" + b"\x00garbage that is not a PDF body\n" * 200)
    return path


def scanned_pdf(path: Path, pages: Sequence[str]) -> Path:
    """An image-only PDF (no text layer), as a scanner makes: each page is a picture of text."""
    images = [text_image(text) for text in pages]
    images[0].save(path, "PDF", resolution=100.0, save_all=True, append_images=images[1:])
    return path


def text_image(text: str, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    y = 60
    for line in _wrap(text, 48):
        draw.text((60, y), line, fill=0, font=font)
        y += 40
    return image


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
    return lines


def tiff(path: Path, text: str) -> Path:
    text_image(text).save(path, "TIFF", compression="tiff_deflate")
    return path


# ---- Office Open XML (python-docx, python-pptx, openpyxl) ---------------------------------------


def docx(path: Path, heading: str, paras: Sequence[str], *, table: Sequence[Sequence[str]] = (),
         bullets: Sequence[str] = ()) -> Path:
    import docx as python_docx

    document = python_docx.Document()
    document.core_properties.created = _FIXED_DATE.replace(tzinfo=None)
    document.add_heading(heading, level=1)
    for text in paras:
        document.add_paragraph(text)
    for text in bullets:
        document.add_paragraph(text, style="List Bullet")
    if table:
        grid = document.add_table(rows=0, cols=max(len(r) for r in table))
        for row in table:
            cells = grid.add_row().cells
            for cell, value in zip(cells, row, strict=False):
                cell.text = value
    document.save(str(path))
    return path


def pptx(path: Path, slides: Sequence[tuple[str, Sequence[str]]]) -> Path:
    from pptx import Presentation

    deck = Presentation()
    deck.core_properties.created = _FIXED_DATE.replace(tzinfo=None)
    layout = deck.slide_layouts[1]  # title and content
    for title, points in slides:
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = points[0] if points else ""
        for point in points[1:]:
            body.add_paragraph().text = point
    deck.save(str(path))
    return path


def xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.properties.created = _FIXED_DATE.replace(tzinfo=None)
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    book.save(str(path))
    return path


# ---- OpenDocument and EPUB (zip + XML, as the specifications lay them out) ------------------

_ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')


def _zip(path: Path, members: Sequence[tuple[str, str | bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _odf(path: Path, mime: str, body: str, title: str) -> Path:
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS} '
               f'office:version="1.3"><office:body>{body}</office:body></office:document-content>')
    meta = ('<?xml version="1.0" encoding="UTF-8"?><office:document-meta '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta>'
            f"<dc:title>{_esc(title)}</dc:title></office:meta></office:document-meta>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                f'manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
                f'manifest:media-type="{mime}"/><manifest:file-entry manifest:full-path="content.xml" '
                'manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" '
                'manifest:media-type="text/xml"/></manifest:manifest>')
    return _zip(path, [("mimetype", mime), ("content.xml", content), ("meta.xml", meta),
                       ("META-INF/manifest.xml", manifest)])


def odt(path: Path, heading: str, paras: Sequence[str]) -> Path:
    body = f'<text:h text:outline-level="1">{_esc(heading)}</text:h>'
    body += "".join(f"<text:p>{_esc(p)}</text:p>" for p in paras)
    return _odf(path, "application/vnd.oasis.opendocument.text",
                f"<office:text>{body}</office:text>", heading)


def ods(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    tables = []
    for name, rows in sheets.items():
        xml_rows = []
        for row in rows:
            cells = []
            for value in row:
                if isinstance(value, int | float):
                    cells.append(f'<table:table-cell office:value-type="float" office:value="{value}">'
                                 f"<text:p>{value}</text:p></table:table-cell>")
                else:
                    cells.append(f'<table:table-cell office:value-type="string">'
                                 f"<text:p>{_esc(str(value))}</text:p></table:table-cell>")
            xml_rows.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
        tables.append(f'<table:table table:name="{_esc(name)}">{"".join(xml_rows)}</table:table>')
    return _odf(path, "application/vnd.oasis.opendocument.spreadsheet",
                f"<office:spreadsheet>{''.join(tables)}</office:spreadsheet>", next(iter(sheets)))


def epub(path: Path, title: str, chapters: Sequence[tuple[str, Sequence[str]]]) -> Path:
    container = ('<?xml version="1.0"?><container version="1.0" '
                 'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                 '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                 "</rootfiles></container>")
    items = "".join(f'<item id="c{i}" href="chapter{i}.xhtml" media-type="application/xhtml+xml"/>'
                    for i in range(len(chapters)))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = ('<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" '
           'version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
           f'<dc:identifier id="id">urn:uuid:00000000-0000-4000-8000-000000000000</dc:identifier>'
           f"<dc:title>{_esc(title)}</dc:title><dc:language>en</dc:language></metadata>"
           f"<manifest>{items}</manifest><spine>{spine}</spine></package>")
    members: list[tuple[str, str | bytes]] = [
        ("mimetype", "application/epub+zip"), ("META-INF/container.xml", container),
        ("OEBPS/content.opf", opf)]
    for i, (heading, paras) in enumerate(chapters):
        body = f"<h1>{_esc(heading)}</h1>" + "".join(f"<p>{_esc(p)}</p>" for p in paras)
        members.append((f"OEBPS/chapter{i}.xhtml",
                        '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                        f"<head><title>{_esc(heading)}</title></head><body>{body}</body></html>"))
    return _zip(path, members)


# ---- text formats -------------------------------------------------------------------------------


def text_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def rtf(path: Path, paras: Sequence[str]) -> Path:
    def escape(text: str) -> str:
        out = []
        for ch in text:
            if ch in "\\{}":
                out.append("\\" + ch)
            elif ord(ch) > 127:
                out.append(f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?")
            else:
                out.append(ch)
        return "".join(out)

    body = "".join(f"{{\\pard {escape(p)}\\par}}\n" for p in paras)
    return text_file(path, "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Helvetica;}}\n" + body + "}\n", "ascii")


def eml(path: Path, subject: str, body: str, attachment: tuple[str, bytes] | None = None) -> Path:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Ada Example <ada@example.com>"
    msg["To"] = "Grace Example <grace@example.com>"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 01 Jan 2024 09:00:00 +0000"
    msg["Message-ID"] = "<fixture-1@example.com>"
    msg.set_content(body)
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    path.write_bytes(msg.as_bytes())
    return path


# ---- Office 97-2003 binary formats --------------------------------------------------------------

_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole_file(path: Path, streams: dict[str, bytes]) -> Path:
    """A Compound File ([MS-CFB] version 3, 512-byte sectors) holding ``streams`` in its root
    storage; streams under 4096 bytes live in the mini stream, as the format requires."""
    sector, mini, cutoff = 512, 64, 4096
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's sort order
    ministream, minifat, starts = bytearray(), [], {}
    for name in names:
        data = streams[name]
        if len(data) >= cutoff or not data:
            continue
        count = -(-len(data) // mini)
        starts[name] = len(minifat)
        minifat += [*range(len(minifat) + 1, len(minifat) + count), _ENDOFCHAIN]
        ministream += data.ljust(count * mini, b"\0")

    def sectors(size: int) -> int:
        return -(-size // sector)

    plan = [("dir", sectors(128 * (len(names) + 1))), ("minifat", sectors(4 * len(minifat))),
            ("ministream", sectors(len(ministream)))]
    plan += [(name, sectors(len(streams[name]))) for name in names if len(streams[name]) >= cutoff]
    data_sectors = sum(count for _, count in plan)
    n_fat = 1
    while n_fat * 128 < n_fat + data_sectors:
        n_fat += 1
    assert n_fat <= 109, "too big for a header-only DIFAT"
    fat = [_FATSECT] * n_fat
    first: dict[str, int] = {}
    for name, count in plan:
        first[name] = len(fat) if count else _ENDOFCHAIN
        fat += [*range(len(fat) + 1, len(fat) + count), _ENDOFCHAIN] if count else []
    fat += [_FREESECT] * (n_fat * 128 - len(fat))

    def entry(name: str, kind: int, start: int, size: int, left: int = _NOSTREAM,
              right: int = _NOSTREAM, child: int = _NOSTREAM) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", left, right, child) + bytes(16 + 4 + 16)
                + struct.pack("<IQ", start, size))

    def tree(lo: int, hi: int) -> int:  # a balanced binary search tree of directory ids
        return _NOSTREAM if lo > hi else (lo + hi) // 2 + 1

    entries = [entry("Root Entry", 5, first["ministream"], len(ministream), child=tree(0, len(names) - 1))]

    def siblings(lo: int, hi: int) -> None:
        if lo > hi:
            return
        mid = (lo + hi) // 2
        name = names[mid]
        size = len(streams[name])
        start = first[name] if size >= cutoff else starts.get(name, _ENDOFCHAIN)
        entries[mid + 1] = entry(name, 2, start, size, tree(lo, mid - 1), tree(mid + 1, hi))
        siblings(lo, mid - 1)
        siblings(mid + 1, hi)

    entries += [b""] * len(names)
    siblings(0, len(names) - 1)
    directory = b"".join(entries)
    directory += entry("", 0, 0, 0) * ((-len(directory) // 128) % 4)

    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x003E, 0x0003, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, n_fat, first["dir"], 0, cutoff,
                     first["minifat"], sectors(4 * len(minifat)), _ENDOFCHAIN, 0)
    difat = list(range(n_fat)) + [_FREESECT] * (109 - n_fat)
    struct.pack_into("<109I", header, 76, *difat)

    body = bytearray(struct.pack(f"<{len(fat)}I", *fat))
    parts = {"dir": directory, "minifat": struct.pack(f"<{len(minifat)}I", *minifat),
             "ministream": bytes(ministream)}
    for name, count in plan:
        data = parts[name] if name in parts else streams[name]
        body += data.ljust(count * sector, b"\0")
    path.write_bytes(bytes(header) + bytes(body))
    return path


def doc(path: Path, paras: Sequence[str]) -> Path:
    """Word 97-2003: a FIB ([MS-DOC] 2.5.1) whose piece table maps the whole main text, stored
    as 8-bit (cp1252) characters after it, paragraphs ended by CR."""
    text = "".join(p + "\r" for p in paras)
    data = text.encode("cp1252")
    text_at = 0x800
    fib = bytearray(text_at)
    struct.pack_into("<HH", fib, 0x00, 0xA5EC, 0x00C1)  # wIdent, nFib (Word 97)
    struct.pack_into("<H", fib, 0x0A, 0x0200)  # fWhichTblStm: the table stream is 1Table
    struct.pack_into("<H", fib, 0x20, 14)  # csw
    struct.pack_into("<H", fib, 0x3E, 22)  # cslw
    struct.pack_into("<I", fib, 0x40, text_at + len(data))  # cbMac
    struct.pack_into("<I", fib, 0x4C, len(text))  # ccpText
    struct.pack_into("<H", fib, 0x98, 0x5D)  # cbRgFcLcb
    plc = struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, (text_at * 2) | 0x40000000, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", fib, 0x1A2, 0, len(clx))  # fcClx, lcbClx
    return ole_file(path, {"WordDocument": bytes(fib) + data, "1Table": clx})


def _ppt_record(rtype: int, body: bytes, *, container: bool = False, instance: int = 0) -> bytes:
    return struct.pack("<HHI", (0xF if container else 0) | (instance << 4), rtype, len(body)) + body


def ppt(path: Path, slides: Sequence[tuple[str, Sequence[str]]]) -> Path:
    """PowerPoint 97-2003: a DocumentContainer whose SlideListWithText holds, per slide, a
    SlidePersistAtom and the title and body text atoms ([MS-PPT] 2.4.14.3)."""
    records = []
    for number, (title, points) in enumerate(slides, start=1):
        records.append(_ppt_record(0x03F3, struct.pack("<IIIII", number, 0, 2, 255 + number, 0)))
        for kind, text in ((0, title), (1, "\r".join(points))):
            records.append(_ppt_record(0x0F9F, struct.pack("<I", kind)))
            records.append(_ppt_record(0x0FA0, text.encode("utf-16-le")))
    slide_list = _ppt_record(0x0FF0, b"".join(records), container=True)
    document = _ppt_record(0x03E8, _ppt_record(0x03E9, bytes(40)) + slide_list, container=True)
    return ole_file(path, {"PowerPoint Document": document, "Current User": bytes(32)})


def msg(path: Path, subject: str, sender: str, sender_email: str, to: str, body: str) -> Path:
    """Outlook .msg: the message's string properties as UTF-16 (PT_UNICODE) property streams."""
    props = {"0037": subject, "0C1A": sender, "0C1F": sender_email, "0E04": to, "1000": body}
    streams = {f"__substg1.0_{tag}001F": value.encode("utf-16-le") for tag, value in props.items()}
    streams["__properties_version1.0"] = bytes(32)
    return ole_file(path, streams)


def xls(path: Path, sheets: dict[str, Sequence[Sequence[str | float]]]) -> Path:
    """Excel 97-2003 (BIFF8) with shared strings and numbers ([MS-XLS])."""

    def rec(rtype: int, body: bytes = b"") -> bytes:
        return struct.pack("<HH", rtype, len(body)) + body

    def bof(kind: int) -> bytes:
        return rec(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0x41, 0x06))

    strings: list[str] = []
    for rows in sheets.values():
        strings += [v for row in rows for v in row if isinstance(v, str) and v not in strings]
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings)
    assert len(sst) <= 8224, "keep the shared strings within one record"
    font = rec(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0)
               + struct.pack("<BB", 5, 1) + "Arial".encode("utf-16-le"))
    xf = rec(0x00E0, struct.pack("<HHHBBBBIIH", 0, 0, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0))
    cell_xf = rec(0x00E0, struct.pack("<HHHBBBBIIH", 0, 0, 0x0000, 0x20, 0, 0, 0, 0, 0, 0x20C0))
    head = bof(0x0005) + rec(0x0042, struct.pack("<H", 1200)) + font * 5 + xf * 15 + cell_xf

    sheet_streams = []
    for rows in sheets.values():
        cells = []
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    cells.append(rec(0x00FD, struct.pack("<HHHI", r, c, 15, strings.index(value))))
                else:
                    cells.append(rec(0x0203, struct.pack("<HHHd", r, c, 15, float(value))))
        ncols = max((len(r) for r in rows), default=0)
        sheet_streams.append(bof(0x0010) + rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, ncols, 0))
                             + b"".join(cells) + rec(0x000A))

    def boundsheets(offsets: Sequence[int]) -> bytes:
        return b"".join(rec(0x0085, struct.pack("<IBB", off, 0, 0) + struct.pack("<BB", len(name), 1)
                            + name.encode("utf-16-le")) for name, off in zip(sheets, offsets, strict=True))

    globals_size = len(head) + len(boundsheets([0] * len(sheets))) + len(rec(0x00FC, sst)) + len(rec(0x000A))
    offsets, pos = [], globals_size
    for stream in sheet_streams:
        offsets.append(pos)
        pos += len(stream)
    workbook = head + boundsheets(offsets) + rec(0x00FC, sst) + rec(0x000A) + b"".join(sheet_streams)
    return ole_file(path, {"Workbook": workbook})


# ---- sets of documents --------------------------------------------------------------------------

LAYOUT_PAGES = [
    "LayoutParser: a toolkit for document image analysis\n\n"
    "LayoutParser is an open-source Python library that helps researchers and archivists detect "
    "the layout of scanned pages: where the titles, paragraphs, tables and figures are. "
    "It offers ready-made deep learning models for layout detection, a small set of data "
    "structures for regions on a page, and tools to draw and export the results.\n\n"
    "Document image analysis often suffers from models that are hard to reuse, from missing "
    "training data for historical documents, and from pipelines that are difficult to share. "
    "LayoutParser addresses these problems with a shared model catalogue, simple interfaces for "
    "training on new collections, and a community platform for sharing complete pipelines.",
    "Related work\n\n"
    "For scene text detection, LayoutParser cites the EAST detector by Zhou and colleagues, "
    "which finds words in natural photographs before a recogniser reads them. "
    "Layout detection itself builds on object detection networks such as Faster R-CNN and "
    "Mask R-CNN, trained on large collections of annotated pages.\n\n"
    "Optical character recognition is delegated to existing engines; LayoutParser organises "
    "their output by region so that reading order and table structure survive extraction.",
]


# Natural, mostly ASCII French, as real Latin-1 files are: text this short and this dense in
# accents is ambiguous between the Windows code pages even to a careful detector.
FRENCH = """MANUEL DE CONSTRUCTION
======================

1. À PROPOS DE CE MANUEL

Ce manuel explique comment construire un petit serveur de fichiers pour une association.
Il a pour but de vous aider à installer le serveur, puis à le maintenir en bon état.
Toutefois, les utilisateurs trouveront aussi des informations utiles dans les sections
sur la sauvegarde et la restauration des données.

Certaines commandes doivent être lancées avec les privilèges de l'administrateur.
Notez que le symbole placé devant chaque commande ne fait pas partie de la commande.

1.1 POUR LES IMPATIENTS

Même si tout dans ce manuel est utile, nous savons que vous voulez commencer vite.
Lisez donc ce chapitre, puis passez directement aux exemples du chapitre suivant.
"""
JAPANESE = (
    "Pythonの開発は世界中の協力者によって続けられています。"
    "このプログラミング言語は読みやすさを重視して設計されており、初心者にも学びやすいと言われています。"
    "標準ライブラリには、文字列の処理やファイルの操作、ネットワーク通信のための機能が数多く含まれています。"
    "新しい版が出るたびに、速度と使いやすさが少しずつ改善されてきました。\n"
)


def layout_paper(path: Path) -> Path:
    """A two-page paper about LayoutParser: 'LayoutParser' on page 1, 'scene text detection' on
    page 2 only (the questions the chat and end-to-end tests ask)."""
    return pdf(path, LAYOUT_PAGES, title="LayoutParser overview")


def table_docx(path: Path) -> Path:
    return docx(path, "Example of DOCX table", ["Planting dates for the allotment, by crop."],
                table=[["Crop", "Sown", "Harvested"], ["Beans", "April", "July"],
                       ["Leeks", "March", ""], ["Squash", "May", "September"]])


def notes_docx(path: Path) -> Path:
    return docx(path, "Committee notes", [
        "The committee met on Tuesday to discuss the new greenhouse.",
        "Volunteers will repaint the tool shed before the spring open day."],
        bullets=["Order compost", "Fix the gate latch", "Plan the seed swap"])


def markdown_table(path: Path) -> Path:
    return text_file(path, "# Fruit stand\n\n| Fruit | Price |\n| --- | --- |\n"
                           "| Juicy Apples | 1.99 |\n| Bananas | 0.49 |\n")


def simple_rtf(path: Path) -> Path:
    return rtf(path, ["My first paragraph is about the harbour lights.",
                      "My second paragraph describes the lighthouse keeper."])


def simple_odt(path: Path) -> Path:
    return odt(path, "Harbour guide", ["Boats moor on the north quay between April and October.",
                                        "The harbour master keeps the tide tables."])


def build_corpus(folder: Path) -> dict[str, Path]:
    """One document per supported format and the awkward cases; name → path. Documents are small
    so that the whole set goes through the real pipeline (with embedding) in reasonable time."""
    folder.mkdir(parents=True, exist_ok=True)
    f = folder
    p = paragraphs
    made = [
        # one per format
        pdf(f / "outline.pdf", ["\n\n".join(p(i, 2)) for i in range(1, 5)],
            title="Four pages", outline=[(1, "Opening"), (3, "Middle"), (4, "Closing")]),
        notes_docx(f / "notes.docx"),
        doc(f / "minutes.doc", ["Minutes of the garden committee", *p(5, 2),
                                "My favorite things are tomatoes and beans."]),
        pptx(f / "deck.pptx", [("Allotment plans", ["Dig the beds", "Sow the beans"]),
                               ("Budget", ["Seeds: 40 pounds", "Tools: 25 pounds"]),
                               ("Timeline", ["March: compost", "May: planting"])]),
        ppt(f / "slides.ppt", [("Adding a Bullet Slide", ["First point", "Second point"]),
                               ("Second slide", ["More text about the harbour"])]),
        xlsx(f / "cups.xlsx", {"Winners": [["Year", "Team"], [2019, "Blues"], [2020, "Lightning"]]}),
        xls(f / "quiz.xls", {"Quiz": [["Question", "Answer"], ["What is 2+2?", 4.0],
                                      ["Capital of France", "Paris"]]}),
        ods(f / "wine.ods", {"Wine": [["Alcohol", "Malic acid"], [14.23, 1.71], [13.2, 1.78]]}),
        text_file(f / "semicolon.csv", "name;comment\nfirst;\"Lorem, ipsum: consectetur\"\n"
                                       "second;plain text\n"),
        text_file(f / "page.html", "<!doctype html><html><head><title>News</title>"
                                   "<script>var tracking = 'never indexed';</script></head><body>"
                                   "<h1>Harbour news</h1><p>" + prose(11, 4) + "</p>"
                                   "<style>p { color: red }</style></body></html>"),
        text_file(f / "code.md", "# Build notes\n\nRun the build like this:\n\n```bash\nmake test\n```\n\n"
                                 + prose(12, 3) + "\n"),
        text_file(f / "guide.rst", "Guide\n=====\n\nA namespace maps names to objects.\n\n"
                                   "Details\n-------\n\n" + prose(13, 3) + "\n"),
        text_file(f / "manual.txt", "\n\n".join(p(14, 4)) + "\n"),
        epub(f / "book.epub", "Winter sports", [("Skiing", ["Switzerland has many ski resorts."]),
                                                ("Skating", p(15, 1))]),
        simple_odt(f / "guide.odt"),
        simple_rtf(f / "letter.rtf"),
        eml(f / "mail.eml", "Fake email with attachment", "Hello,\n\nThe minutes are attached.\n",
            ("minutes.txt", b"Minutes.\n")),
        msg(f / "outlook.msg", "Test Email", "Ada Example", "ada@example.com", "Grace Example",
            "This is a test email sent from Outlook.\r\nRegards, Ada"),
        scanned_pdf(f / "scanned.pdf", ["Lorem ipsum dolor sit amet", "Second scanned page"]),
        # awkward cases
        pdf(f / "password.pdf", ["Secret page"], user_password="openpassword",
            owner_password="permissionpassword"),
        pdf(f / "password-rc4.pdf", ["Secret page"], user_password="openpassword", rc4=True),
        pdf(f / "copy-protected.pdf", LAYOUT_PAGES, owner_password="permissionpassword"),
        damaged_pdf(f / "damaged.pdf"),
        xlsx(f / "empty.xlsx", {"Sheet1": []}),
        text_file(f / "latin1.txt", FRENCH, "latin-1"),
        text_file(f / "euc_jp.txt", JAPANESE, "euc_jp"),
        text_file(f / "euc_kr.txt", "파이썬은 배우기 쉬운 프로그래밍 언어입니다. 많은 사람들이 파이썬으로 "
                                    "데이터를 분석하고 웹 서비스를 만듭니다.\n", "euc_kr"),
        text_file(f / "gb2312.txt", "这是一种编程语言。\n", "gb2312"),
        text_file(f / "utf16.html", "<html><body><h1>SteelJIS datasheet</h1><p>Tensile strength "
                                    "400 MPa.</p></body></html>", "utf-16"),
        text_file(f / "html_named_as.txt", "<!doctype html><html><body><h1>functools</h1>"
                                           "<p>The lru_cache decorator caches results.</p></body></html>"),
        text_file(f / "umlauts.md", "# Umlaute\n\nSie können äöüß schreiben.\n", "cp1252"),
    ]
    return {path.name: path for path in made}


def empty_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / "zero_bytes.pdf", folder / "zero_bytes.docx"]
    for path in out:
        path.write_bytes(b"")
    return out


HANDBOOK_FACT_PAGE = 47
HANDBOOK_FACT = "The quartermaster's spare key is kept in the blue tin behind the tide clock."


def long_handbook(path: Path, pages: int = 60) -> Path:
    """A handbook of ``pages`` pages of prose, some 140 KB of text: more than a pipe's buffer
    holds, as real manuals are. Page ``HANDBOOK_FACT_PAGE`` alone says where the quartermaster's
    spare key is kept."""
    texts = ["\n\n".join(paragraphs(7000 + n, 5)) for n in range(1, pages + 1)]
    texts[HANDBOOK_FACT_PAGE - 1] = "\n\n".join(
        [HANDBOOK_FACT + " Nobody else keeps a copy of it.", *paragraphs(7000 + HANDBOOK_FACT_PAGE, 4)])
    return pdf(path, texts, title="Harbour handbook")


def e2e_documents(folder: Path) -> list[Path]:
    """What the Playwright specs upload."""
    folder.mkdir(parents=True, exist_ok=True)
    return [layout_paper(folder / "layoutparser-overview.pdf"), notes_docx(folder / "committee-notes.docx"),
            long_handbook(folder / "harbour-handbook.pdf"),
            scanned_pdf(folder / "scanned-memo.pdf", [
                "Memo to the harbour office. The lighthouse keeper reports that the foghorn was "
                "repaired on Thursday and tested at dawn."])]


def main(argv: Sequence[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("e2e", "corpus"):
        print("usage: python -m tests.docgen {e2e|corpus} FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[2])
    made = e2e_documents(folder) if argv[1] == "e2e" else list(build_corpus(folder).values())
    for path in made:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
