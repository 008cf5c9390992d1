"""Schema migrations (no Qt): `MIGRATIONS[n](d, folder)` turns a schema-n project dict into a
schema-(n+1) one. `folder` is the project folder when the file was read from one (a migration may
read media metadata there), else None.

Migrations work on the raw JSON dict before validation, so they leave anything they do not
understand as it is: validation then names the bad field in one line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.project.schema import DEFAULT_FPS, check_relative_path

# The frame rate of the only model that wrote schema-2 takes. Used here alone, for a schema-2 take
# whose fps is missing and whose metadata file cannot tell: nothing else assumes a model's rate.
LEGACY_TAKE_FPS = 8.0


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# --- 1 -> 2 -------------------------------------------------------------------------------------------
def _v1_to_v2(d: dict, folder: Path | None = None) -> dict:
    """Schema 2 keeps each shot's planned transition on the shot (`Shot.transition`); in schema 1
    it lived only on timeline clips."""
    by_shot = {c["shot_id"]: c["transition"] for c in _dicts(_dict(d.get("timeline")).get("clips"))
               if isinstance(c.get("shot_id"), str) and "transition" in c}
    for s in _dicts(d.get("shots")):
        if "transition" not in s and s.get("id") in by_shot:
            s["transition"] = by_shot[s["id"]]
    d["schema_version"] = 2
    return d


# --- 2 -> 3 -------------------------------------------------------------------------------------------
def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _frames(seconds: Any, fps: float, positive: bool = False) -> Any:
    """Float seconds -> a FrameTime dict at `fps` (the nearest frame; a positive length keeps at
    least one). Anything else is left for validation to report."""
    if not _is_number(seconds):
        return seconds
    value = round(seconds * fps)
    if positive and seconds > 0:
        value = max(1, value)
    return {"value": value, "rate": fps}


def _params(p: Any, fps: float) -> None:
    if isinstance(p, dict) and "duration" in p:
        p["duration"] = _frames(p["duration"], fps, positive=True)


def _metadata_fps(take: dict, folder: Path | None) -> float | None:
    """The fps in the metadata JSON the worker wrote beside the take's clip, if it can be read."""
    clip = take.get("clip")
    if folder is None or not isinstance(clip, str) or not clip:
        return None
    try:
        rel = check_relative_path(clip)
        meta = json.loads((folder / Path(rel).with_suffix(".json")).read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError):  # unsafe path, unreadable, not JSON
        return None
    fps = meta.get("fps") if isinstance(meta, dict) else None
    return float(fps) if _is_number(fps) and fps > 0 else None


def _v2_to_v3(d: dict, folder: Path | None = None) -> dict:
    """Schema 3 stores times as exact frames (`FrameTime`): float seconds become frames at the
    project's fps (the nearest frame). A transition lives on the shot only: a timeline clip's
    (the last one the editor set) becomes its shot's. A take's fps is required: one without comes
    from the metadata beside its clip, else the legacy model's 8 fps."""
    settings = _dict(d.get("settings"))
    fps = float(settings["fps"]) if _is_number(settings.get("fps")) and settings["fps"] > 0 else DEFAULT_FPS
    shots = _dicts(d.get("shots"))
    by_id = {s.get("id"): s for s in shots if isinstance(s.get("id"), str)}
    for clip in _dicts(_dict(d.get("timeline")).get("clips")):
        transition = clip.pop("transition", None)
        shot = by_id.get(clip.get("shot_id"))
        if transition is not None and shot is not None:
            shot["transition"] = transition
        if "in_s" in clip:
            clip["in_point"] = _frames(clip.pop("in_s"), fps)
        if "out_s" in clip:
            out = clip.pop("out_s")
            clip["out_point"] = None if out is None else _frames(out, fps, positive=True)
        start, end = clip.get("in_point"), clip.get("out_point")
        if isinstance(start, dict) and isinstance(end, dict) and end["value"] <= start["value"]:
            end["value"] = start["value"] + 1  # rounding must not leave a trim with nothing in it
    for shot in shots:
        _params(shot.get("params"), fps)
        transition = shot.get("transition")
        if isinstance(transition, dict) and "duration" in transition:
            transition["duration"] = _frames(transition["duration"], fps)
        for take in _dicts(shot.get("takes")):
            _params(take.get("params"), fps)
            fps_in = take.get("fps")
            if fps_in is None or (_is_number(fps_in) and fps_in <= 0):  # absent, or v2's "unknown"
                take["fps"] = _metadata_fps(take, folder) or LEGACY_TAKE_FPS
    for job in _dicts(d.get("queue")):
        _params(job.get("params"), fps)
    d["schema_version"] = 3
    return d


def _v3_to_v4(d: dict, folder: Path | None = None) -> dict:
    """ProjectSettings.model: a version-3 project used the studio's default model."""
    _dict(d.setdefault("settings", {})).setdefault("model", "")
    d["schema_version"] = 4
    return d


MIGRATIONS: dict[int, Callable[[dict, Path | None], dict]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


def migrate(d: dict, version: int, target: int, folder: Path | None = None) -> dict:
    """Run the migrations from `version` up to `target`."""
    for v in range(version, target):
        d = MIGRATIONS[v](d, folder)
    return d
