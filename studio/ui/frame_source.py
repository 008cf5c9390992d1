"""Frame sources: what the player and the takes thumbnails read pixels from.

A source is random access (index → H×W×3 uint8 RGB), has a length and a frame rate. Takes are small
arrays held whole; the whole timeline is a stream (the media assembly generator) wrapped in a cache
so the player can scrub it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FrameSource(Protocol):
    fps: float

    def __len__(self) -> int: ...

    def frame(self, index: int) -> np.ndarray: ...


def _clamp(index: int, count: int) -> int:
    return min(max(int(index), 0), max(count - 1, 0))


class ArrayFrameSource:
    """Frames already in memory (a take's native T×H×W×3 clip)."""

    def __init__(self, frames: np.ndarray, fps: float):
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected uint8 T×H×W×3 frames, got {frames.dtype} {frames.shape}")
        self.frames = frames
        self.fps = float(fps)

    def __len__(self) -> int:
        return len(self.frames)

    def frame(self, index: int) -> np.ndarray:
        return self.frames[_clamp(index, len(self.frames))]


class BlankSource:
    """A single black frame: what the player shows with nothing loaded."""

    def __init__(self, width: int = 16, height: int = 9, fps: float = 24.0, count: int = 1):
        self._frame = np.zeros((height, width, 3), np.uint8)
        self.fps = float(fps)
        self._count = count

    def __len__(self) -> int:
        return self._count

    def frame(self, index: int) -> np.ndarray:
        return self._frame


class ConformedSource:
    """A source shown at another frame rate: frames are held or skipped by time (an 8 fps take in a
    24 fps project shows each frame three times), so the clip keeps its duration."""

    def __init__(self, source: FrameSource, fps: float):
        self.source = source
        self.fps = float(fps)
        self._count = max(1, round(len(source) * self.fps / source.fps))

    def __len__(self) -> int:
        return self._count

    def frame(self, index: int) -> np.ndarray:
        index = _clamp(index, self._count)
        # A hair of slack so that exact multiples do not fall to the previous frame.
        src = math.floor(index * self.source.fps / self.fps + 1e-6)
        return self.source.frame(min(src, len(self.source) - 1))


class SideBySideSource:
    """Two sources in sync, A left and B right (A/B comparison of takes). Heights are matched; the
    shorter one holds its last frame."""

    def __init__(self, a: FrameSource, b: FrameSource, gap: int = 2):
        if abs(a.fps - b.fps) > 1e-6:
            b = ConformedSource(b, a.fps)
        self.a, self.b, self.gap = a, b, gap
        self.fps = a.fps

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def frame(self, index: int) -> np.ndarray:
        fa = self.a.frame(min(index, len(self.a) - 1))
        fb = self.b.frame(min(index, len(self.b) - 1))
        h = max(fa.shape[0], fb.shape[0])
        fa, fb = _fit_height(fa, h), _fit_height(fb, h)
        gap = np.zeros((h, self.gap, 3), np.uint8)
        return np.concatenate([fa, gap, fb], axis=1)


def _fit_height(frame: np.ndarray, height: int) -> np.ndarray:
    """Nearest-neighbour rescale to a height (takes share a native size, so this is rarely used)."""
    h, w = frame.shape[:2]
    if h == height:
        return frame
    width = max(1, round(w * height / h))
    rows = (np.arange(height) * h // height).clip(0, h - 1)
    cols = (np.arange(width) * w // width).clip(0, w - 1)
    return frame[rows][:, cols]


class StreamFrameSource:
    """Random access over a frame stream, for the whole-timeline assembly generator.

    `open_stream(start)` returns an iterator of frames from index `start`. Reading forward (playback)
    pulls the open stream; a seek elsewhere opens a new one. The last `cache_frames` frames are kept so
    that scrubbing back and forth over a short range does not reassemble.
    """

    def __init__(
        self,
        open_stream: Callable[[int], Iterator[np.ndarray]],
        count: int,
        fps: float,
        cache_frames: int = 96,
    ):
        self._open = open_stream
        self._count = max(0, int(count))
        self.fps = float(fps)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_frames = cache_frames
        self._stream: Iterator[np.ndarray] | None = None
        self._next = 0  # index the open stream yields next
        self._last = 0  # the index asked for last (to tell reverse play from forward)
        self.opens = 0  # how many times a stream was (re)opened; seeks cost this

    def __len__(self) -> int:
        return self._count

    def frame(self, index: int) -> np.ndarray:
        index = _clamp(index, self._count)
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        # Reuse the open stream when the frame is a little ahead of it (playback, or dropped frames).
        if self._stream is None or not (self._next <= index < self._next + 48):
            # Going backwards (J, stepping back): read a block ending here, so the frames before
            # it come from the cache instead of one reopened stream per frame.
            backwards = index < self._last
            start = max(0, index - self._cache_frames // 2) if backwards else index
            self._stream = self._open(start)
            self._next = start
            self.opens += 1
        self._last = index
        frame = None
        while self._next <= index:
            try:
                frame = next(self._stream)
            except StopIteration:
                self._stream = None
                break
            self._remember(self._next, frame)
            self._next += 1
        if frame is None:  # the stream ended early: hold the last frame we know
            return self._cache[next(reversed(self._cache))] if self._cache else np.zeros((16, 16, 3), np.uint8)
        return frame

    def _remember(self, index: int, frame: np.ndarray) -> None:
        self._cache[index] = frame
        self._cache.move_to_end(index)
        while len(self._cache) > self._cache_frames:
            self._cache.popitem(last=False)
