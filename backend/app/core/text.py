"""Names people give things (display names, titles, key names, file names) are shown to other people:
no control characters, no bidirectional overrides (U+202E makes "exe.pdf" read as "fdp.exe"), no
invisible format characters, no lone surrogates (they cannot be stored as UTF-8)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator

# Zero-width (non-)joiners are format characters too, but Persian, Indic scripts and emoji need them.
_KEEP_FORMAT = frozenset({"\u200c", "\u200d"})
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})


def clean_display_text(value: str) -> str:
    """NFC, control and format characters removed, whitespace runs made one space, trimmed."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", value):
        category = unicodedata.category(ch)
        if ch in _KEEP_FORMAT:
            out.append(ch)
        elif category in _SPACE_CATEGORIES or ch in "\t\n\r\v\f":
            out.append(" ")
        elif category not in _DROP_CATEGORIES:
            out.append(ch)
    return " ".join("".join(out).split())


def _clean(value: Any) -> Any:
    return clean_display_text(value) if isinstance(value, str) else value


# Cleaned before the length checks, so a name made only of invisible characters is an empty name.
DisplayText = Annotated[str, BeforeValidator(_clean)]
