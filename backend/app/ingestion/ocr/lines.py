"""Reading order for recognised text boxes: boxes on one line joined by spaces, lines by newlines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Box:
    left: float
    top: float
    bottom: float
    text: str

    @classmethod
    def of(cls, points: Sequence[Sequence[Any]], text: str) -> Box:
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        return cls(min(xs), min(ys), max(ys), text.strip())


def join_lines(boxes: Sequence[Box]) -> str:
    """Boxes whose vertical middles overlap the current line's extent go on that line, left to right."""
    lines: list[list[Box]] = []
    for box in sorted((b for b in boxes if b.text), key=lambda b: (b.top, b.left)):
        middle = (box.top + box.bottom) / 2
        current = lines[-1] if lines else None
        if current is not None and min(b.top for b in current) <= middle <= max(b.bottom for b in current):
            current.append(box)
        else:
            lines.append([box])
    return "\n".join(" ".join(b.text for b in sorted(line, key=lambda b: b.left)) for line in lines)
