"""EPUB: XHTML chapters in spine order, page = chapter index (1-based)."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from urllib.parse import unquote

from app.ingestion.parsers._odf import parse_xml
from app.ingestion.parsers._text import BlockBuilder, decode_bytes, squash
from app.ingestion.parsers._zip import check_zip, refuse_xml_entities
from app.ingestion.parsers.html import html_encoding, html_to_blocks
from app.ingestion.types import DAMAGED, ExtractedDocument, ExtractionError, ExtractionLimits

_CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF_NS = "{http://www.idpf.org/2007/opf}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


def _spine(zf: zipfile.ZipFile) -> tuple[list[str], str | None]:
    """Member names of the spine documents, in reading order, and the book title."""
    refuse_xml_entities(zf, ["META-INF/container.xml"])
    container = parse_xml(zf.read("META-INF/container.xml"))
    rootfile = container.find(f".//{_CONTAINER_NS}rootfile")
    opf_path = rootfile.get("full-path") if rootfile is not None else None
    if not opf_path:
        raise ExtractionError(DAMAGED)
    refuse_xml_entities(zf, [opf_path])
    opf = parse_xml(zf.read(opf_path))
    base = posixpath.dirname(opf_path)
    manifest = {item.get("id"): item.get("href") for item in opf.iter(f"{_OPF_NS}item")}
    names: list[str] = []
    for ref in opf.iter(f"{_OPF_NS}itemref"):
        href = manifest.get(ref.get("idref"))
        if href:
            names.append(posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0]))))
    title_el = opf.find(f".//{_DC_TITLE}")
    title = squash(title_el.text or "") if title_el is not None and title_el.text else None
    # Spines may list the same file several times with #fragments: read each file once.
    return list(dict.fromkeys(names)), title or None


def parse(path: Path, limits: ExtractionLimits) -> ExtractedDocument:
    check_zip(path, limits)
    try:
        with zipfile.ZipFile(path) as zf:
            names, title = _spine(zf)
            if len(names) > limits.max_pages:
                raise ExtractionError(
                    f"This book has {len(names)} chapters, more than the limit of {limits.max_pages}."
                )
            out = BlockBuilder()
            for page, name in enumerate(names, start=1):
                try:
                    data = zf.read(name)
                except KeyError:
                    continue  # a spine entry without a file: skip that chapter, keep the rest
                out.reset_headings()
                html_to_blocks(decode_bytes(data, html_encoding(data)), out, page)
    except KeyError as exc:
        raise ExtractionError(DAMAGED) from exc
    return ExtractedDocument(out.blocks, max(1, len(names)), title)
