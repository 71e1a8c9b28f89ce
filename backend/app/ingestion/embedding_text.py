"""The text a chunk is embedded as: its heading path gives short chunks their context."""

from __future__ import annotations

from collections.abc import Sequence


def embedding_text(heading_path: Sequence[str], text: str) -> str:
    return (" > ".join(heading_path) + "\n" + text) if heading_path else text
