"""A generation request: the one typed description of a clip to make, and its one `validate()`.

The studio builds it from a shot, checks it before sending (a user mistake is a one-line error in
the studio, never a failure in the worker), and sends `to_wire()`; the worker rebuilds it with
`from_wire()`, loads the files it names, and the pipeline validates again with the same rules.

`image` and `video` are file paths on the wire (PNG / NPY / MP4); inside the worker they are
replaced by the loaded uint8 arrays (H×W×3 and T×H×W×3), whose shapes the pipeline checks.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from contract.aspects import ASPECTS
from contract.capabilities import Capabilities
from contract.rules import (
    DEFAULT_SAMPLER,
    MAX_FRAMES,
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_SIDE,
    MAX_STEPS,
    MODE_NAMES,
    MODES,
    SAMPLERS,
    TIMESTEPS,
    plan_steps,
)


class RequestError(ValueError):
    """A request the model cannot run: `kind` ("bad_request" or "missing_reference") + one line."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _bad(message: str) -> RequestError:
    return RequestError("bad_request", message)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value)


@dataclass
class GenerationRequest:
    prompt: str
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 20
    sampler: str = DEFAULT_SAMPLER
    guidance: float = 3.0
    frames: int | None = None  # None: one native clip; longer: a chain of extend clips
    mode: str = "t2v"  # t2v | i2v | extend | v2v
    image: Any = field(default=None, repr=False)  # i2v: a path on the wire, an H×W×3 array in the worker
    video: Any = field(default=None, repr=False)  # extend / v2v: a path, or a T×H×W×3 array
    strength: float = 0.6  # v2v: how far down the schedule the source is noised (1 = all the way)
    extend_frames: int = 4  # frames of context each extend clip re-uses
    aspect: str | None = None  # one of the model's frame aspects; None: its default
    width: int | None = None  # a model of free size (Capabilities.free_size): the frame asked for;
    height: int | None = None  # None: its size for `aspect` (Capabilities.size_for)

    # ---- the wire ------------------------------------------------------------------------------
    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> GenerationRequest:
        """A request from its JSON fields; unknown fields and wrong types are RequestErrors."""
        if not isinstance(data, dict):
            raise _bad("a request must be a JSON object")
        unknown = sorted(set(data) - set(cls.fields()))
        if unknown:
            raise _bad(f"unknown generation parameter(s): {', '.join(map(str, unknown))}")
        if "prompt" not in data:
            raise _bad("the prompt must be text")
        req = cls(**data)
        req.check_types()
        return req

    def to_wire(self) -> dict[str, Any]:
        """JSON fields (image / video only as paths: arrays never travel)."""
        out = {}
        for name in self.fields():
            value = getattr(self, name)
            if name in ("image", "video") and not isinstance(value, str):
                continue
            if name in ("aspect", "width", "height") and value is None:
                continue
            out[name] = value
        return out

    # ---- checks --------------------------------------------------------------------------------
    def check_types(self) -> None:
        if not isinstance(self.prompt, str):
            raise _bad("the prompt must be text")
        if not isinstance(self.negative_prompt, str):
            raise _bad("the negative prompt must be text")
        for name in ("image", "video"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str) and not hasattr(value, "shape"):
                raise _bad(f"the {'reference image' if name == 'image' else 'source video'} must be given "
                           f"as a file path")

    def validate(self, native_frames: int | None = None, aspects: list[str] | dict | None = None) -> None:
        """Raise RequestError (one line) for anything the model would reject or choke on.
        `native_frames`: the model's clip length, `aspects`: the frame aspects it makes (None: not
        known yet, any aspect the contract names)."""
        self.check_types()
        seed, steps, guidance, frames = self.seed, self.steps, self.guidance, self.frames
        if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
            raise _bad(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
        if not _is_int(steps) or not 1 <= steps <= MAX_STEPS:
            raise _bad(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
        if self.sampler not in SAMPLERS:
            raise _bad(f"unknown sampler {self.sampler!r} (choose {', '.join(SAMPLERS)})")
        if not _is_num(guidance) or not 0 <= guidance <= MAX_GUIDANCE:
            raise _bad(f"guidance must be a number from 0 to {MAX_GUIDANCE:g}, got {guidance!r}")
        if frames is not None and (not _is_int(frames) or not 1 <= frames <= MAX_FRAMES):
            raise _bad(f"frames must be a whole number from 1 to {MAX_FRAMES}, got {frames!r}")
        if self.mode not in MODES:
            raise _bad(f"unknown mode {self.mode!r} (choose {', '.join(MODES)})")
        if not _is_num(self.strength) or not 0 < self.strength <= 1:
            raise _bad(f"strength must be in (0, 1], got {self.strength!r}")
        k = self.extend_frames
        if not _is_int(k) or k < 1 or (native_frames is not None and k >= native_frames):
            upper = f" and below {native_frames}" if native_frames else ""
            raise _bad(f"extend_frames must be a whole number of at least 1{upper}, got {k!r}")
        for name in ("width", "height"):
            side = getattr(self, name)
            if side is not None and (not _is_int(side) or not 16 <= side <= MAX_SIDE):
                raise _bad(f"{name} must be a whole number of pixels from 16 to {MAX_SIDE}, got {side!r}")
        if (self.width is None) != (self.height is None):
            raise _bad("give both width and height, or neither")
        allowed = list(aspects) if aspects else list(ASPECTS)
        if self.aspect is not None and self.aspect not in allowed:
            raise _bad(f"this model makes no {self.aspect!r} frames (choose {', '.join(allowed)})")
        if self.mode == "i2v" and _missing(self.image):
            raise RequestError("missing_reference", "image-to-video needs a reference image")
        if self.mode in ("extend", "v2v") and _missing(self.video):
            raise RequestError("missing_reference", "extend needs the take to continue" if self.mode == "extend"
                               else "video-to-video needs a source video")

    def validate_for(self, caps: Capabilities) -> None:
        """validate(), then what this model can do (its Capabilities, from the worker)."""
        self.validate(caps.frames if caps.chain else None, list(caps.aspects) or None)
        if self.mode not in caps.modes:
            raise _bad(f"this model cannot do {MODE_NAMES.get(self.mode, self.mode)} "
                       f"(it does {', '.join(MODE_NAMES.get(m, m) for m in caps.modes)})")
        lo, hi, _ = caps.steps
        if not lo <= self.steps <= hi:
            raise _bad(f"this model takes {lo} to {hi} steps, got {self.steps}")
        glo, ghi, _ = caps.guidance
        if not glo <= self.guidance <= ghi:
            raise _bad(f"this model takes guidance from {glo:g} to {ghi:g}, got {self.guidance:g}")
        if caps.samplers and self.sampler not in caps.samplers:
            raise _bad(f"this model has no sampler {self.sampler!r} (choose {', '.join(caps.samplers)})")
        n = self.frames or caps.frames
        if not caps.chain and not caps.frames_ok(n):
            raise _bad(f"this model makes {caps.frame_step}k+{caps.frame_offset} frames from {caps.min_frames} "
                       f"to {caps.max_frames}: ask {caps.legal_frames(n)}, not {n}")
        if self.width is not None and not caps.size_ok(self.width, self.height):
            sizes = ("multiples of " + str(caps.size_multiple) + f" from {caps.min_side} to {caps.max_side}"
                     if caps.free_size else ", ".join(f"{w}×{h}" for h, w in caps.aspects.values()))
            raise _bad(f"this model makes no {self.width}×{self.height} frames ({sizes})")

    # ---- what it will cost -----------------------------------------------------------------------
    def planned_steps(self, native_frames: int, timesteps: int = TIMESTEPS) -> list[int]:
        """Sampler steps of each native clip this request is chained from (contract.rules)."""
        return plan_steps(self.mode, self.frames or native_frames, self.steps, self.strength, native_frames,
                          self.extend_frames, timesteps)
