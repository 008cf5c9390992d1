"""Wall-clock playback scheduling, free of Qt so it can be tested exactly.

Frames are due at anchor_time + k / fps. Each tick shows the frame that is due *now*; ticks that came
too late to show their frame count as dropped frames, so playback keeps real time instead of slowing
down when a frame is slow to draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class PlaybackClock:
    fps: float
    speed: float = 1.0  # frames of media per display frame; negative plays backwards (J)
    anchor_time: float = 0.0
    anchor_frame: int = 0
    last_tick: int = 0  # display tick index shown last
    dropped: int = 0
    shown: int = 0

    def start(self, frame: int, now: float, speed: float | None = None) -> None:
        if speed is not None:
            self.speed = speed
        self.anchor_time = now
        self.anchor_frame = frame
        self.last_tick = 0

    def reset_counters(self) -> None:
        self.dropped = 0
        self.shown = 0

    def tick(self, now: float) -> int | None:
        """The media frame to show at `now`, counting display ticks missed since the last one; None
        when the timer woke before the next tick was due (nothing new to show)."""
        due = self._tick_index(now)
        if due <= self.last_tick:
            return None
        if due > self.last_tick + 1:
            self.dropped += due - self.last_tick - 1
        self.last_tick = due
        self.shown += 1
        return self.frame_at_tick(self.last_tick)

    def frame_at_tick(self, tick: int) -> int:
        return self.anchor_frame + math.floor(tick * self.speed + 1e-9) if self.speed >= 0 else (
            self.anchor_frame - math.floor(tick * -self.speed + 1e-9)
        )

    def seconds_to_next(self, now: float) -> float:
        """Delay until the next display tick is due (never negative)."""
        next_tick = self.last_tick + 1
        return max(0.0, self.anchor_time + next_tick / self.fps - now)

    def _tick_index(self, now: float) -> int:
        return max(0, math.floor((now - self.anchor_time) * self.fps + 1e-6))
