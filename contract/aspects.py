"""Frame aspects (../shared/TOYWORLD.md, "Canvas"): width = ratio × height, rounded to whole pixels."""

from __future__ import annotations

from contract.errors import ToyworldError

# The frame aspects a model may make, as width / height; the first is the film's own.
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}


def frame_width(height: int, aspect: str = "1:1") -> int:
    """Width in pixels of a frame `height` px tall at `aspect` (16:9, 9:16 or 1:1)."""
    if aspect not in ASPECTS:
        raise ToyworldError("bad_aspect", f"unknown aspect {aspect!r} (choose {', '.join(ASPECTS)})")
    return max(1, round(height * ASPECTS[aspect]))
