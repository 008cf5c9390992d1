"""SMPTE-style timecode text (non-drop-frame), the way an editor reads positions."""

from __future__ import annotations


def timebase(fps: float) -> int:
    """Frames per timecode second: the nearest whole rate (23.976 counts in 24s, as NDF timecode does)."""
    return max(1, round(fps))


def format_timecode(frame: int, fps: float) -> str:
    """Frame index → "HH:MM:SS:FF"."""
    base = timebase(fps)
    sign = "-" if frame < 0 else ""
    frame = abs(int(frame))
    ff = frame % base
    total_s = frame // base
    return f"{sign}{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}:{ff:02d}"


def format_seconds(seconds: float, fps: float) -> str:
    """Seconds → timecode, rounding to the nearest frame."""
    return format_timecode(round(seconds * fps), fps)


def parse_timecode(text: str, fps: float) -> int:
    """"HH:MM:SS:FF" (fewer fields allowed, counted from the right) → frame index."""
    parts = [p for p in text.strip().replace(";", ":").split(":")]
    if not parts or len(parts) > 4 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a timecode: {text!r}")
    values = [0] * (4 - len(parts)) + [int(p) for p in parts]
    hh, mm, ss, ff = values
    base = timebase(fps)
    return ((hh * 60 + mm) * 60 + ss) * base + ff
