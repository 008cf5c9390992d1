"""What a model can do, as its backend reports it (the bundled U-ViT, or an open model through
diffusers): the worker sends it in WorkerReady, the studio offers only what it says and checks a
request against it before sending, and the backend checks again with the same functions.

Frame counts follow a rule `count = step × k + offset` (the U-ViT: any count, chained from clips of
its native length; Wan: 4k + 1; LTX-Video: 8k + 1). Sizes are either a fixed set (one native size per
aspect: the U-ViT) or free within bounds, in multiples of `size_multiple` (Wan 16, LTX 32).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from contract.aspects import ASPECTS


@dataclass(frozen=True)
class Capabilities:
    family: str  # "uvit" | "wan" | "ltx" | "diffusers" (another pipeline through the same adapter)
    modes: tuple[str, ...]  # what it makes: a subset of contract.rules.MODES
    fps: float  # its native frame rate
    frames: int  # its default clip length
    frame_step: int = 1  # legal counts: frame_step × k + frame_offset
    frame_offset: int = 0
    min_frames: int = 1
    max_frames: int = 100_000
    chain: bool = False  # longer takes are chained from clips of `frames` (extend)
    # fixed sizes: {aspect: [height, width]} (the first is the default); free sizes: empty, and then
    # size_multiple / min_side / max_side / default_size bound what a request may ask
    aspects: dict[str, list[int]] = field(default_factory=dict)
    size_multiple: int = 8
    min_side: int = 64
    max_side: int = 2048
    default_size: tuple[int, int] = (480, 832)  # (height, width)
    steps: tuple[int, int, int] = (1, 1000, 20)  # min, max, default
    guidance: tuple[float, float, float] = (0.0, 30.0, 3.0)
    negative_prompt: bool = True
    samplers: tuple[str, ...] = ()  # empty: the pipeline's own scheduler, no choice

    # ---- frames ----------------------------------------------------------------------------------
    def legal_frames(self, n: int) -> int:
        """The nearest legal count at or above `n` (within the bounds): what a shot of n frames asks."""
        n = max(self.min_frames, min(int(n), self.max_frames))
        k = math.ceil(max(0, n - self.frame_offset) / self.frame_step)
        count = self.frame_step * k + self.frame_offset
        while count > self.max_frames and k > 0:
            k -= 1
            count = self.frame_step * k + self.frame_offset
        return max(count, self.min_frames)

    def frames_ok(self, n: int) -> bool:
        return self.min_frames <= n <= self.max_frames and (n - self.frame_offset) % self.frame_step == 0

    # ---- sizes -------------------------------------------------------------------------------------
    @property
    def free_size(self) -> bool:
        return not self.aspects

    def size_for(self, aspect: str | None = None, width: int | None = None,
                 height: int | None = None) -> tuple[int, int]:
        """(height, width) a request gets: a fixed model's size for the aspect; a free model's asked
        size, snapped to its multiple and bounds, or its default size turned to the aspect."""
        if not self.free_size:
            name = aspect if aspect in self.aspects else next(iter(self.aspects))
            h, w = self.aspects[name]
            return int(h), int(w)
        if width and height:
            h, w = float(height), float(width)
        else:
            h, w = self.default_size
            if aspect in ASPECTS:
                long_side, ratio = max(h, w), ASPECTS[aspect]
                w, h = (long_side, long_side / ratio) if ratio >= 1 else (long_side * ratio, long_side)
        shrink = min(1.0, self.max_side / max(h, w))  # too big for the model: smaller, same shape
        return self._snap(h * shrink), self._snap(w * shrink)

    def _snap(self, side: float) -> int:
        m = self.size_multiple
        return int(max(self.min_side, min(self.max_side, round(side / m) * m)))

    def size_ok(self, width: int, height: int) -> bool:
        if not self.free_size:
            return [height, width] in [list(v) for v in self.aspects.values()]
        return all(self.min_side <= s <= self.max_side and s % self.size_multiple == 0 for s in (width, height))

    # ---- the wire ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Capabilities:
        names = {f.name: f for f in dataclasses.fields(cls)}
        kw = {}
        for k, v in d.items():
            if k not in names:
                continue  # a newer worker's field: ignored, not fatal
            kw[k] = tuple(v) if isinstance(v, list) and k not in ("aspects",) else v
        return cls(**kw)
