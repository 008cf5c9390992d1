"""Frame aspects (../shared/TOYWORLD.md, "Canvas"): width = ratio × height, rounded to whole pixels."""

from __future__ import annotations

import math

from contract.errors import ToyworldError

# The frame aspects a model may make, as width / height; the first is the film's own.
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}


def frame_width(height: int, aspect: str = "1:1") -> int:
    """Width in pixels of a frame `height` px tall at `aspect` (16:9, 9:16 or 1:1)."""
    if aspect not in ASPECTS:
        raise ToyworldError("bad_aspect", f"unknown aspect {aspect!r} (choose {', '.join(ASPECTS)})")
    return max(1, round(height * ASPECTS[aspect]))


def nearest_aspect(width: int, height: int, aspects: list[str] | dict | None) -> str | None:
    """The model's frame aspect closest to a width × height frame (by log ratio): what a film of that
    size asks the model for, so it is filled rather than pillarboxed. None when the model has no
    choice of aspect."""
    names = [a for a in (aspects or []) if a in ASPECTS]
    if not names or width <= 0 or height <= 0:
        return None
    want = math.log(width / height)
    return min(names, key=lambda a: abs(math.log(ASPECTS[a]) - want))
