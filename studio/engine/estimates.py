"""Time and memory a job will take, from the worker's own calibration on this device.

The worker measures one guided sampler step of a native clip (WorkerReady.sec_per_step) and its
peak memory while doing so. A job costs that step time × its steps × the number of native clips
chained to cover its duration. Memory does not grow with the chain: the clips run one after another.
"""

from __future__ import annotations

import math

from studio.project.schema import GenParams, Mode
from studio.protocol import WorkerReady


def chain_parts(total_frames: int, native_frames: int, extend_frames: int) -> int:
    """Native clips needed for `total_frames`: the first clip, then extend clips that each re-use
    `extend_frames` frames of context (mirrors Generator.parts_for)."""
    if total_frames <= native_frames:
        return 1
    new_per_part = max(1, native_frames - extend_frames)
    return 1 + math.ceil((total_frames - native_frames) / new_per_part)


def sampler_steps(p: GenParams) -> int:
    """Steps one clip runs: video-to-video starts part-way down the schedule (SDEdit)."""
    if p.mode == Mode.VIDEO_TO_VIDEO:
        return max(1, round(p.steps * p.strength))
    return int(p.steps)


def total_steps(p: GenParams, ready: WorkerReady) -> int:
    """Sampler steps over the job's whole chain of clips."""
    frames = max(1, round(p.duration * ready.fps))
    return sampler_steps(p) * chain_parts(frames, ready.frames, ready.extend_frames)


def estimate(p: GenParams, ready: WorkerReady, sec_per_step: float | None = None) -> tuple[float, int]:
    """(seconds, bytes) for one job with these parameters on the worker that sent `ready`.
    `sec_per_step` overrides the calibration (the queue passes what finished jobs measured)."""
    per_step = ready.sec_per_step if sec_per_step is None else sec_per_step
    seconds = per_step * total_steps(p, ready)
    return float(seconds), int(ready.peak_memory_bytes)
