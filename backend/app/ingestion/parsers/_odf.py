"""Reading OpenDocument XML safely (zip checked first, XML through defusedxml)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_et

from app.ingestion.parsers._zip import check_zip, refuse_xml_entities
from app.ingestion.types import DAMAGED, ExtractionError, ExtractionLimits

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}
UNSAFE_XML = "This file contains unsafe XML (entity declarations) and was refused."


def q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def parse_xml(data: bytes) -> Element:
    try:
        root: Element = safe_et.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        raise ExtractionError(UNSAFE_XML) from exc
    except ParseError as exc:
        raise ExtractionError(DAMAGED) from exc
    return root


def load_members(path: Path, limits: ExtractionLimits, *names: str) -> dict[str, Element]:
    """Parse the named XML members (missing optional ones are skipped)."""
    check_zip(path, limits)
    out: dict[str, Element] = {}
    with zipfile.ZipFile(path) as zf:
        present = [n for n in names if n in zf.namelist()]
        refuse_xml_entities(zf, present)
        for name in present:
            out[name] = parse_xml(zf.read(name))
    if names and names[0] not in out:
        raise ExtractionError(DAMAGED)
    return out


def odf_text(el: Element) -> str:
    """Text of an ODF element, honouring <text:s c=n/>, tabs and line breaks; skips notes."""
    parts: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag
        if tag == q("text", "s"):
            count = child.get(q("text", "c"), "1")
            parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif tag == q("text", "tab"):
            parts.append("\t")
        elif tag == q("text", "line-break"):
            parts.append("\n")
        elif tag not in (q("text", "note"), q("office", "annotation")):
            parts.append(odf_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def meta_title(meta: Element | None) -> str | None:
    if meta is None:
        return None
    el = meta.find(".//dc:title", NS)
    return " ".join((el.text or "").split()) or None if el is not None else None
