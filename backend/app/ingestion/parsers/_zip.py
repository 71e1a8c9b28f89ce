"""Zip inspection before any library opens the archive (zip bombs, entity bombs)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from app.ingestion.types import DAMAGED, ExtractionError, ExtractionLimits

_MIB = 1024 * 1024
# Small XML members legitimately compress very well (runs of spaces): judge the ratio above this.
_RATIO_MIN_SIZE = 1 * _MIB


def too_big(limits: ExtractionLimits) -> ExtractionError:
    mib = limits.max_uncompressed_bytes // _MIB
    return ExtractionError(
        f"This file expands to more than {mib} MB when unpacked and was refused as unsafe."
    )


def check_zip(path: Path, limits: ExtractionLimits) -> None:
    """Refuse a zip from its central directory alone: nothing is decompressed here.

    zipfile never inflates a member past its declared ``file_size`` (it truncates and then fails
    the CRC check), so bounding the declared sizes bounds the real work too.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ExtractionError(DAMAGED) from exc
    if len(infos) > limits.max_zip_members:
        raise ExtractionError(
            f"This file contains more than {limits.max_zip_members} parts and was refused as unsafe."
        )
    total = 0
    for info in infos:
        total += info.file_size
        if total > limits.max_uncompressed_bytes:
            raise too_big(limits)
        if info.file_size > _RATIO_MIN_SIZE and (
            info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise ExtractionError(
                "This file contains a part that is compressed more than "
                f"{limits.max_compression_ratio:g} times and was refused as unsafe."
            )


def refuse_xml_entities(zf: zipfile.ZipFile, names: list[str]) -> None:
    """Office/ODF XML never has a DOCTYPE; one there is an entity-expansion attack.

    Defence in depth: python-docx/python-pptx parse with resolve_entities=False and openpyxl uses
    defusedxml, but refusing early gives the user a clear message.
    """
    for name in names:
        try:
            with zf.open(name) as fh:
                prefix = fh.read(65536)
        except KeyError:
            continue
        if b"<!DOCTYPE" in prefix or b"<!ENTITY" in prefix:
            raise ExtractionError("This file contains unsafe XML (entity declarations) and was refused.")


def xml_members(zf: zipfile.ZipFile) -> list[str]:
    return [i.filename for i in zf.infolist() if i.filename.endswith((".xml", ".rels"))]
