"""Where a passage sits in its document, as a citation shows it: "p. 12" where the format has
pages, "slide 3" and "sheet 2" where its parser counts those, and the section heading where it has
none (a web page, a Word or Markdown file is one long "page 1": "p. 1" on every citation said
nothing)."""

from __future__ import annotations

import re
from collections.abc import Sequence

# What a format's `page` counts (app/ingestion/parsers): only these formats have pages.
PAGE_UNITS = {
    "pdf": "p.", "image": "p.", "pptx": "slide", "ppt": "slide",
    "xlsx": "sheet", "xls": "sheet", "ods": "sheet", "epub": "ch.",
}
SECTION_CHARS = 60
# Paragraph numbers some exports print ("About this manual 「3」"), reStructuredText roles
# (":mod:`functools`" reads "functools").
_NOISE = re.compile(r"\s*「\d{1,5}」")
_ROLE = re.compile(r":\w+:`([^`]*)`")


def location(kind: str, page: int, heading_path: Sequence[str]) -> str | None:
    """"p. 12", "slide 3", "sheet 2" or "ch. 4" for a format with pages; else the innermost
    heading of the passage's section ("Basic Usage"); None when there is neither."""
    unit = PAGE_UNITS.get(kind)
    if unit is not None:
        return f"{unit} {page}"
    return section(heading_path)


def section(heading_path: Sequence[str]) -> str | None:
    """The innermost heading of a heading path, cleaned and shortened for a label."""
    for heading in reversed(heading_path):
        name = " ".join(_ROLE.sub(r"\1", _NOISE.sub("", heading)).split())
        if name:
            return name if len(name) <= SECTION_CHARS else name[: SECTION_CHARS - 1].rstrip() + "…"
    return None
