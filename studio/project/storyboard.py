"""Storyboard import (no Qt): a JSON or CSV list of shots becomes a ProjectData.

JSON: `{"title", "fps", "width", "height", "shots": [{...}]}`; CSV: one shot per row with the same
per-shot columns (no title/fps/size: the file name and the defaults are used). Per shot: `prompt`
(required), `duration`, `seed`, `transition` (the cut *into* that shot: cut | crossfade |
fade_black), `transition_duration`, `continue_from_previous`, and overrides of what the prompt says:
`camera`, `shot_size`, `motion`, `mode`, `steps`, `guidance`, `sampler`, `negative_prompt`,
`strength`, plus `notes`. Anything else, or a value that cannot be, is a StudioError naming the
shot and the field. Durations are in seconds in the file and become exact frames at the project's
frame rate (the storyboard's `fps`, or the project's it is imported into).
"""

from __future__ import annotations

import csv
import io
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from studio.errors import StudioError
from studio.project.schema import (
    DEFAULT_FPS,
    Camera,
    FrameTime,
    GenParams,
    Mode,
    Motion,
    ProjectData,
    ProjectSettings,
    Shot,
    ShotSize,
    Transition,
    TransitionKind,
)

KIND = "storyboard"
DEFAULT_TRANSITION_S = 0.5
SHOT_FIELDS = (
    "prompt", "duration", "seed", "transition", "transition_duration", "continue_from_previous",
    "camera", "shot_size", "motion", "mode", "steps", "guidance", "sampler", "negative_prompt",
    "strength", "notes",
)
TOP_FIELDS = ("title", "fps", "width", "height", "shots")
_ENUMS: dict[str, type[StrEnum]] = {
    "camera": Camera, "shot_size": ShotSize, "motion": Motion, "mode": Mode, "transition": TransitionKind,
}
_MODE_ALIASES = {"text-to-video": "t2v", "image-to-video": "i2v", "video-to-video": "v2v"}


class _Bad(Exception):
    """A field problem inside one shot; turned into a StudioError naming the shot."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _norm(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())


def _enum(field: str, value: Any) -> StrEnum:
    cls = _ENUMS[field]
    if not isinstance(value, str):
        raise _Bad(field, f"{field} must be text, not {value!r}")
    key = _norm(_MODE_ALIASES.get(value.strip().lower(), value))
    for member in cls:
        if key in (_norm(member.value), _norm(member.name)):
            return member
    names = ", ".join(m.value for m in cls)
    raise _Bad(field, f"unknown {field} {value!r} (use one of: {names})")


def _number(field: str, value: Any, integer: bool = False) -> float | int:
    if isinstance(value, bool):
        raise _Bad(field, f"{field} must be a number, not {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Bad(field, f"{field} must be a number, not {value!r}") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad(field, f"{field} must be a number, not {value!r}")
    if integer:
        if value != int(value):
            raise _Bad(field, f"{field} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def _bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "y"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "n"):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _Bad(field, f"{field} must be true or false, not {value!r}")


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(field, f"{field} must be text, not {value!r}")
    return value.strip()


def _seconds(field: str, value: Any, fps: float) -> FrameTime:
    """A time in seconds from the file as frames at the project's fps."""
    return FrameTime.from_seconds(_number(field, value), fps)


def _shot(fields: dict[str, Any], first: bool, defaults: GenParams | None = None,
          fps: float = DEFAULT_FPS) -> Shot:
    """One storyboard entry (absent/empty values already dropped) -> Shot. Fields the entry does
    not set come from `defaults` (e.g. the user's default steps/guidance/sampler). Times become
    frames at `fps`."""
    unknown = [k for k in fields if k not in SHOT_FIELDS]
    if unknown:
        raise _Bad(unknown[0], f"unknown field {unknown[0]!r} (known: {', '.join(SHOT_FIELDS)})")
    if "prompt" not in fields or not _text("prompt", fields["prompt"]):
        raise _Bad("prompt", "prompt is missing")
    p: dict[str, Any] = {"prompt": _text("prompt", fields["prompt"])}
    if "duration" in fields:
        if _number("duration", fields["duration"]) <= 0:
            raise _Bad("duration", f"duration must be more than 0 seconds (got {fields['duration']!r})")
        p["duration"] = _seconds("duration", fields["duration"], fps)
    else:  # the default length, at this project's rate
        p["duration"] = FrameTime.from_seconds((defaults or GenParams()).duration.seconds, fps)
    for name in ("seed", "steps"):
        if name in fields:
            p[name] = _number(name, fields[name], integer=True)
    if "seed" in fields:
        p["seed_locked"] = True  # a storyboard that names a seed wants that seed
    for name in ("guidance", "strength"):
        if name in fields:
            p[name] = _number(name, fields[name])
    for name in ("camera", "shot_size", "motion", "mode"):
        if name in fields:
            p[name] = _enum(name, fields[name])
    if "sampler" in fields:
        p["sampler"] = _text("sampler", fields["sampler"]).lower()
    if "negative_prompt" in fields:
        p["negative_prompt"] = _text("negative_prompt", fields["negative_prompt"])
    if "continue_from_previous" in fields:
        p["continue_from_previous"] = _bool("continue_from_previous", fields["continue_from_previous"])
        if p["continue_from_previous"] and first:
            raise _Bad("continue_from_previous", "continue_from_previous needs a previous shot")
    base = defaults.model_dump() if defaults is not None else {}
    try:
        params = GenParams(**{**base, **p})
    except ValidationError as e:
        err = e.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else "value"
        raise _Bad(field, f"{field}: {err['msg'].removeprefix('Value error, ')}") from None

    kind = _enum("transition", fields["transition"]) if "transition" in fields else TransitionKind.CUT
    if "transition_duration" in fields:
        tdur = _number("transition_duration", fields["transition_duration"])
        if tdur < 0:
            raise _Bad("transition_duration", f"transition_duration must not be negative (got {tdur:g})")
    else:
        tdur = 0.0 if kind == TransitionKind.CUT else DEFAULT_TRANSITION_S
    if kind == TransitionKind.CUT:
        tdur = 0.0  # a cut has no length, whatever the file says
    try:
        transition = Transition(kind=kind, duration=FrameTime.from_seconds(tdur, fps))
    except ValidationError as e:
        raise _Bad("transition_duration", f"transition_duration: {e.errors()[0]['msg']}") from None
    notes = _text("notes", fields["notes"]) if "notes" in fields else ""
    return Shot(params=params, transition=transition, notes=notes)


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop absent values: JSON null and empty CSV cells mean "use the default"."""
    return {k: v for k, v in fields.items() if v is not None and not (isinstance(v, str) and not v.strip())}


def parse_json(text: str, name: str = "storyboard.json", defaults: GenParams | None = None,
               fps: float | None = None) -> ProjectData:
    """`fps`: the rate times are made at (None: the storyboard's own, else the default)."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise StudioError(KIND, f"{name} is not valid JSON (line {e.lineno}: {e.msg})") from None
    except RecursionError:
        raise StudioError(KIND, f"{name} is nested too deeply to be a storyboard") from None
    if not isinstance(d, dict):
        raise StudioError(KIND, f"{name} must hold a JSON object with a \"shots\" list")
    unknown = [k for k in d if k not in TOP_FIELDS]
    if unknown:
        raise StudioError(KIND, f"{name}: unknown field {unknown[0]!r} (known: {', '.join(TOP_FIELDS)})")
    shots_in = d.get("shots")
    if not isinstance(shots_in, list) or not shots_in:
        raise StudioError(KIND, f"{name}: \"shots\" must be a non-empty list")
    title = d.get("title")
    if title is not None and not isinstance(title, str):
        raise StudioError(KIND, f"{name}: title must be text")
    settings = {k: d[k] for k in ("fps", "width", "height") if d.get(k) is not None}
    for k, v in settings.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise StudioError(KIND, f"{name}: {k} must be a number, not {v!r}")
    try:
        ps = ProjectSettings(**settings)
    except ValidationError as e:
        err = e.errors()[0]
        raise StudioError(KIND, f"{name}: {err['loc'][0]}: {err['msg']}") from None
    shots = []
    for i, entry in enumerate(shots_in):
        if not isinstance(entry, dict):
            raise StudioError(KIND, f"{name}: shot {i + 1} must be an object, not {type(entry).__name__}")
        try:
            shots.append(_shot(_present(entry), first=i == 0, defaults=defaults, fps=fps or ps.fps))
        except _Bad as e:
            raise StudioError(KIND, f"{name}: shot {i + 1}: {e.message}") from None
    return ProjectData(title=(title or "").strip() or Path(name).stem, settings=ps, shots=shots)


def parse_csv(text: str, name: str = "storyboard.csv", defaults: GenParams | None = None,
              fps: float | None = None) -> ProjectData:
    """`fps`: the rate times are made at (None: the default project's)."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
        if not header:
            raise StudioError(KIND, f"{name} is empty (expected a header row with a prompt column)")
        cols = [h.strip() for h in header]
        reader.fieldnames = cols
        for c in cols:
            if c not in SHOT_FIELDS:
                raise StudioError(KIND, f"{name}: unknown column {c!r} (known: {', '.join(SHOT_FIELDS)})")
        dup = next((c for c in cols if cols.count(c) > 1), None)
        if dup:
            raise StudioError(KIND, f"{name}: column {dup!r} appears twice")
        if "prompt" not in cols:
            raise StudioError(KIND, f"{name}: there is no prompt column")
        shots = []
        for row in reader:
            line = reader.line_num
            if None in row:
                raise StudioError(KIND, f"{name}: line {line} has more cells than the header")
            fields = _present(row)
            if not fields:
                continue  # a blank line
            try:
                shots.append(_shot(fields, first=not shots, defaults=defaults, fps=fps or DEFAULT_FPS))
            except _Bad as e:
                raise StudioError(KIND, f"{name}: line {line} (shot {len(shots) + 1}): {e.message}") from None
    except csv.Error as e:
        raise StudioError(KIND, f"{name} is not valid CSV (line {reader.line_num}: {e})") from None
    if not shots:
        raise StudioError(KIND, f"{name} has no shots")
    return ProjectData(title=Path(name).stem, shots=shots)


def load_storyboard(path: str | Path, defaults: GenParams | None = None, fps: float | None = None) -> ProjectData:
    """Read a .json or .csv storyboard. Raises StudioError("storyboard", one line) on bad input.
    `defaults` fills what a shot leaves out (prompt, continuity and paths never come from it).
    `fps`: the frame rate of the project the shots go into (None: the storyboard's own)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise StudioError(KIND, f"{p.name}: unknown storyboard format {p.suffix or '(none)'!r} (use .json or .csv)")
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise StudioError(KIND, f"storyboard not found: {p}") from None
    except OSError as e:
        raise StudioError(KIND, f"cannot read storyboard {p}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise StudioError(KIND, f"{p.name} is not UTF-8 text (byte {e.start})") from None
    if defaults is not None:
        defaults = defaults.model_copy(update={"prompt": "",
                                               "continue_from_previous": False, "reference_image": None,
                                               "source_video": None})
    parse = parse_json if suffix == ".json" else parse_csv
    return parse(text, p.name, defaults, fps)
