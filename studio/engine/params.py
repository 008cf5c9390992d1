"""Generation parameters on the studio side: GenParams -> the worker's request dict, and checking a
request before it is sent, so a user mistake is a one-line StudioError and never reaches the worker.

The request dict mirrors model_runtime.pipeline.GenerationRequest (docs/CONTRACTS.md); `image` and
`video` are file paths instead of arrays (the worker loads them).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.project.schema import Camera, GenParams, Mode, Motion, ShotSize

SAMPLERS = ("ddpm", "ddim", "dpmpp_2m")
MODES = ("t2v", "i2v", "extend", "v2v")
REQUEST_FIELDS = (
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "sampler",
    "guidance",
    "frames",
    "mode",
    "image",
    "video",
    "strength",
    "extend_frames",
    "aspect",
)
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}  # frame aspects a model may make (TOYWORLD.md)
MAX_STEPS = 1000
MAX_GUIDANCE = 30.0


def _bad(message: str, kind: str = "bad_params") -> StudioError:
    return StudioError(kind, message)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, int | float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_request(req: dict[str, Any], native_frames: int | None = None,
                     aspects: list[str] | None = None) -> None:
    """Raise StudioError (one line) for anything the worker would reject or choke on. `aspects`: the
    frame aspects the model makes (None: not known yet, any of ASPECTS)."""
    unknown = sorted(set(req) - set(REQUEST_FIELDS))
    if unknown:
        raise _bad(f"unknown generation parameter(s): {', '.join(unknown)}")
    prompt = req.get("prompt")
    if not isinstance(prompt, str):
        raise _bad("the prompt must be text")
    if not isinstance(req.get("negative_prompt", ""), str):
        raise _bad("the negative prompt must be text")
    seed = req.get("seed", 0)
    if not _is_int(seed) or not 0 <= seed < 2**63:
        raise _bad(f"seed must be a non-negative whole number, got {seed!r}")
    steps = req.get("steps", 20)
    if not _is_int(steps) or not 1 <= steps <= MAX_STEPS:
        raise _bad(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    sampler = req.get("sampler", "dpmpp_2m")
    if sampler not in SAMPLERS:
        raise _bad(f"unknown sampler {sampler!r} (choose {', '.join(SAMPLERS)})")
    guidance = req.get("guidance", 3.0)
    if not _is_num(guidance) or not 0 <= guidance <= MAX_GUIDANCE:
        raise _bad(f"guidance must be a number from 0 to {MAX_GUIDANCE:g}, got {guidance!r}")
    frames = req.get("frames")
    if frames is not None and (not _is_int(frames) or frames < 1):
        raise _bad(f"frames must be a positive whole number, got {frames!r}")
    mode = req.get("mode", "t2v")
    if mode not in MODES:
        raise _bad(f"unknown mode {mode!r} (choose {', '.join(MODES)})")
    strength = req.get("strength", 0.6)
    if not _is_num(strength) or not 0 < strength <= 1:
        raise _bad(f"strength must be in (0, 1], got {strength!r}")
    k = req.get("extend_frames", 4)
    if not _is_int(k) or k < 1 or (native_frames is not None and k >= native_frames):
        upper = f" and below {native_frames}" if native_frames else ""
        raise _bad(f"extend_frames must be a whole number of at least 1{upper}, got {k!r}")
    aspect = req.get("aspect")
    allowed = list(aspects) if aspects else list(ASPECTS)
    if aspect is not None and aspect not in allowed:
        raise _bad(f"this model makes no {aspect!r} frames (choose {', '.join(allowed)})")
    if mode == "i2v":
        _check_file(req.get("image"), "image-to-video needs a reference image", "reference image")
    if mode in ("extend", "v2v"):
        what = "extend needs the take to continue" if mode == "extend" else "video-to-video needs a source video"
        _check_file(req.get("video"), what, "source video")


def _check_file(path: Any, missing: str, what: str) -> None:
    if path is None or path == "":
        raise StudioError("missing_reference", missing)
    if not isinstance(path, str):
        raise _bad(f"the {what} must be given as a file path")
    if not Path(path).is_file():
        raise StudioError("missing_reference", f"{what} not found: {path}")


def compose_prompt(p: GenParams) -> str:
    """The prompt text with the shot's explicit fields in front: the toy-world parser keeps the first
    value it reads for a slot, so a field set in the inspector overrides the prompt's own word."""
    parts = []
    if p.shot_size != ShotSize.AUTO:
        parts.append(f"{p.shot_size.value} shot")
    if p.motion != Motion.AUTO:
        parts.append(p.motion.value)
    if p.camera != Camera.AUTO:
        parts.append(f"camera {p.camera.value}")
    parts.append(p.prompt.strip())
    return ", ".join(x for x in parts if x)


def nearest_aspect(width: int, height: int, aspects: list[str] | dict | None) -> str | None:
    """The model's frame aspect closest to a width × height frame (by log ratio): what a film of that
    size asks the model for, so it is filled rather than pillarboxed. None when the model has no
    choice of aspect."""
    names = [a for a in (aspects or []) if a in ASPECTS]
    if not names or width <= 0 or height <= 0:
        return None
    want = math.log(width / height)
    return min(names, key=lambda a: abs(math.log(ASPECTS[a]) - want))


def request_from_params(p: GenParams, project_dir: str | Path | None, fps: float,
                        aspect: str | None = None) -> dict[str, Any]:
    """A shot's GenParams -> the worker's request dict. `fps` is the model's native frame rate: the
    duration becomes a frame count there (the studio conforms to the project rate on assembly).
    `aspect`: the model's frame aspect to ask for (nearest_aspect), or None for its default."""

    def resolve(rel: str | None) -> str | None:
        if not rel:
            return None
        path = Path(rel)
        if not path.is_absolute() and project_dir is not None:
            path = Path(project_dir) / path
        return str(path)

    req: dict[str, Any] = {
        "prompt": compose_prompt(p),
        "negative_prompt": p.negative_prompt,
        "seed": int(p.seed),
        "steps": int(p.steps),
        "sampler": p.sampler,
        "guidance": float(p.guidance),
        "frames": max(1, round(p.duration * fps)),
        "mode": p.mode.value,
    }
    if aspect is not None:
        req["aspect"] = aspect
    if p.mode == Mode.IMAGE_TO_VIDEO:
        req["image"] = resolve(p.reference_image)
    elif p.mode in (Mode.EXTEND, Mode.VIDEO_TO_VIDEO):
        req["video"] = resolve(p.source_video)
    if p.mode == Mode.VIDEO_TO_VIDEO:
        req["strength"] = float(p.strength)
    return req
