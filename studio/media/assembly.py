"""Assembly: the timeline's trimmed takes and transitions as one stream of output frames.

Timing, exactly (all in seconds; L_k = out_s - in_s of clip k; `transition` is the cut *into* a clip):

* cut: clip k starts where clip k-1 ends.
* crossfade of d: the last d of clip k-1 and the first d of clip k overlap and dissolve
  (weight of k = (t - start_k) / d), so the film is d shorter, as in NLEs.
* fade_black of d: clip k-1 fades to black over its last d/2, then clip k fades in from black over
  its first d/2; nothing overlaps, the duration is unchanged.
* into the first clip, as in an NLE: fade_black is a fade in from black over its first d/2 (the
  duration is unchanged); a crossfade has nothing to cross from and is ignored (a cut).
* a transition may use at most half of a clip that has transitions at both ends, or all of a clip
  with one; a longer one is shortened to fit (`layout` reports the effective durations).

Output frame j is the picture at time t = j / fps (its start), so the frame count is
round(duration * fps). A take's source position at time s is p = s * take_fps, between frames
floor(p) and floor(p) + 1 at fraction p - floor(p); `motion` (media.motion) decides the picture
there: "flow" (the default) interpolates along optical flow, "blend" mixes the two frames by the
fraction, "repeat" shows frame floor(p) (8 fps -> 24 fps shows each frame three times). A fraction of
0 (a film at the take's own rate, or an output time on a source frame) is the source frame itself
whatever the method; past the take's last frame it is held.

Frames are produced one at a time; a take is loaded when the film reaches it and dropped when the
film has passed it, so memory stays flat however long the film is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from studio.errors import StudioError
from studio.media.conform import conform
from studio.media.motion import DEFAULT_MOTION, MOTIONS, FlowInterpolator

TRANSITIONS = ("cut", "crossfade", "fade_black")
_EPS = 1e-6  # slack for float time -> frame index, so exact multiples do not fall one frame short

FrameSource = Callable[[], np.ndarray]  # () -> T×H×W×3 uint8, loaded on call


@dataclass
class Segment:
    frames: FrameSource
    fps: float
    in_s: float
    out_s: float
    transition: str = "cut"  # the cut into this clip
    transition_s: float = 0.0
    label: str = ""  # how errors name it ("shot 3")


class _Timed(Protocol):  # what the pure timing functions need; a Segment or anything shaped like it
    in_s: float
    out_s: float
    transition: str
    transition_s: float


@dataclass(frozen=True)
class Span:
    """Where a clip sits on the assembled timeline, with its effective (possibly shortened) transition."""

    start: float
    length: float
    transition: str
    transition_s: float

    @property
    def end(self) -> float:
        return self.start + self.length


def _kind(seg: _Timed) -> str:
    kind = str(getattr(seg.transition, "value", seg.transition))
    if kind not in TRANSITIONS:
        raise StudioError("timeline", f"unknown transition {kind!r}; use one of {', '.join(TRANSITIONS)}")
    return kind if seg.transition_s > 0 else "cut"


def layout(segments: Sequence[_Timed]) -> list[Span]:
    """Start times and effective transitions of every clip on the assembled timeline (pure)."""
    lengths = []
    for i, seg in enumerate(segments):
        length = float(seg.out_s) - float(seg.in_s)
        if seg.in_s < 0 or length <= 0:
            name = getattr(seg, "label", "") or f"clip {i + 1}"
            raise StudioError(
                "timeline",
                f"{name}: the out point ({seg.out_s:g}s) must be after the in point ({seg.in_s:g}s)",
            )
        lengths.append(length)
    kinds = [_kind(s) for s in segments]
    if kinds and kinds[0] == "crossfade":
        kinds[0] = "cut"  # nothing before the first clip to dissolve from
    n = len(segments)

    def budget(k: int) -> float:  # what one end of clip k may give to a transition
        both = kinds[k] != "cut" and k + 1 < n and kinds[k + 1] != "cut"
        return lengths[k] / 2 if both else lengths[k]

    spans: list[Span] = []
    t = 0.0
    for k, seg in enumerate(segments):
        kind, d = kinds[k], float(seg.transition_s) if kinds[k] != "cut" else 0.0
        if kind != "cut":
            # crossfade spends d of each side, fade_black d/2 of each; the first clip's fade in has one
            share = 1.0 if kind == "crossfade" else 0.5
            limit = budget(k) if k == 0 else min(budget(k), budget(k - 1))
            d = min(d, limit / share)
            if k > 0 and kind == "crossfade":
                t -= d
        spans.append(Span(t, lengths[k], kind, d))
        t += lengths[k]
    return spans


def assembled_duration(segments: Sequence[_Timed]) -> float:
    """Seconds of the assembled film (pure)."""
    spans = layout(segments)
    return spans[-1].end if spans else 0.0


def frames_for(duration: float, fps: float) -> int:
    """round(duration * fps), halves up."""
    return int(math.floor(duration * fps + 0.5 + 1e-9))


def frame_count(segments: Sequence[_Timed], fps: float) -> int:
    """Output frames of the assembled film at `fps` (pure)."""
    return frames_for(assembled_duration(segments), fps)


# ---------------------------------------------------------------------------------------------
# Rendering


class _Take:
    """One loaded take, the frame indices its trim allows, and its flow interpolator (its cached
    flows go when the take is dropped)."""

    def __init__(self, seg: Segment):
        frames = seg.frames()
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
            raise StudioError(
                "media",
                f"{seg.label or 'a clip'}: frames must be uint8 T×H×W×3, got {frames.dtype} {frames.shape}",
            )
        self.frames = frames
        self.fps = float(seg.fps)
        self.in_s = float(seg.in_s)
        self.first = min(len(frames) - 1, math.floor(seg.in_s * self.fps + _EPS))
        self.last = max(self.first, min(len(frames) - 1, math.ceil(seg.out_s * self.fps - _EPS) - 1))
        self._flow: FlowInterpolator | None = None

    def index(self, u: float, motion: str) -> tuple[int, int, float]:
        """(i0, i1, w) at `u` seconds into the clip: the picture w of the way from frame i0 to i1."""
        p = (self.in_s + u) * self.fps
        i0 = math.floor(p + _EPS)
        i0 = min(max(i0, self.first), self.last)
        if motion == "repeat":
            return i0, i0, 0.0
        w = min(max(p - i0, 0.0), 1.0)
        i1 = min(i0 + 1, self.last)
        if i1 == i0 or w < 1e-3:
            return i0, i0, 0.0
        return i0, i1, w

    def picture(self, i0: int, i1: int, w: float, motion: str) -> np.ndarray:
        f = self.frames
        if w == 0.0:
            return f[i0]
        if motion == "blend":
            return _mix(f[i0], f[i1], w)
        if self._flow is None:
            self._flow = FlowInterpolator()
        return self._flow.frame(f[i0], f[i1], w, key=(i0, i1))


def _mix(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """(1 - w) a + w b, rounded, uint8 (SIMD through OpenCV; no float copies of big frames)."""
    return cv2.addWeighted(a, 1.0 - w, b, w, 0.0)


def _gain(frame: np.ndarray, g: float) -> np.ndarray:
    return cv2.convertScaleAbs(frame, alpha=g) if g < 1.0 else frame


def assemble(
    segments: Sequence[Segment],
    out_fps: float,
    width: int,
    height: int,
    fit: str = "letterbox",
    *,
    scaler: str = "smooth",
    motion: str | None = None,
    blend: bool = False,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield the film's frames [start, stop) as read-only height×width×3 uint8 arrays.

    `motion`: "flow" | "blend" | "repeat" (None: "blend" if the older `blend` flag is set, else
    "flow"). A yielded array may be yielded again (a held frame), so consumers must not modify it.
    """
    if out_fps <= 0 or width <= 0 or height <= 0:
        raise StudioError("settings", f"bad output raster {width}x{height} at {out_fps} fps")
    motion = motion if motion is not None else ("blend" if blend else DEFAULT_MOTION)
    if motion not in MOTIONS:
        raise StudioError("settings", f"unknown motion {motion!r}; use one of {', '.join(MOTIONS)}")
    for seg in segments:
        if seg.fps <= 0:
            raise StudioError("media", f"{seg.label or 'a clip'} has no frame rate")
    spans = layout(segments)
    total = frames_for(spans[-1].end, out_fps) if spans else 0
    stop = total if stop is None else min(stop, total)
    return _render(list(segments), spans, out_fps, width, height, fit, scaler, motion, max(0, start), stop)


def _render(segments, spans, fps, width, height, fit, scaler, motion, start, stop) -> Iterator[np.ndarray]:
    loaded: dict[int, _Take] = {}
    last_key, last_out = None, None
    n = len(spans)
    k = 0  # the latest clip that has started
    for j in range(start, stop):
        t = j / fps
        while k + 1 < n and spans[k + 1].start <= t + _EPS:
            k += 1
        # what is on screen: [(clip, weight)], plus a gain towards black
        span = spans[k]
        u = t - span.start
        gain = 1.0
        layers = [(k, 1.0)]
        if span.transition == "crossfade" and u < span.transition_s:  # never the first clip (layout)
            a = max(u, 0.0) / span.transition_s
            layers = [(k - 1, 1.0 - a), (k, a)]
        elif span.transition == "fade_black" and u < span.transition_s / 2:
            gain = max(u, 0.0) / (span.transition_s / 2)
        if k + 1 < n and spans[k + 1].transition == "fade_black":
            half = spans[k + 1].transition_s / 2
            left = span.end - t
            if left < half:
                gain *= max(left, 0.0) / half
        # load what is needed, drop what the film has passed
        for i, _w in layers:
            if i not in loaded:
                loaded[i] = _Take(segments[i])
        for i in [i for i in loaded if i < layers[0][0]]:
            del loaded[i]
        picks = []
        for i, w in layers:
            i0, i1, bw = loaded[i].index(t - spans[i].start, motion)
            picks.append((i, i0, i1, bw, w))
        key = (tuple(p[:4] for p in picks), tuple(round(p[4], 6) for p in picks), round(gain, 6))
        if key == last_key:
            yield last_out
            continue
        out = _compose(loaded, picks, gain, width, height, fit, scaler, motion)
        out.setflags(write=False)
        last_key, last_out = key, out
        yield out


def _compose(loaded, picks, gain, width, height, fit, scaler, motion) -> np.ndarray:
    # frame-rate conversion at native size (cheap), before the one scale to the output raster
    frames = [loaded[i].picture(i0, i1, bw, motion) for i, i0, i1, bw, _w in picks]
    weights = [w for *_x, w in picks]
    if len({f.shape for f in frames}) == 1:
        # same native size: mix and fade at native size (cheap), then scale once; scaling is linear
        # and the bars are black, so this equals mixing the conformed frames (up to rounding)
        img = frames[0] if len(frames) == 1 else _mix(frames[0], frames[1], weights[1])
        img = _gain(np.ascontiguousarray(img), gain)
        return np.ascontiguousarray(conform(img, width, height, fit, scaler))
    conformed = [conform(np.ascontiguousarray(f), width, height, fit, scaler) for f in frames]
    img = _mix(conformed[0], conformed[1], weights[1])
    return np.ascontiguousarray(_gain(img, gain))
