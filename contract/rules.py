"""What a generation request may ask for, and how the model will run it.

The limits, samplers and modes, and the per-mode rules for how many native clips (parts) a request
is chained from and how many sampler steps each part runs. The pipeline executes exactly these
rules and the studio plans time and progress with them, so an estimate can never disagree with
the run (tests/test_plan_rules.py runs the pipeline over every mode, sampler, length and strength).
"""

from __future__ import annotations

import math

# name -> (menu label, short label for a take card); the first is the default. A new sampler is added
# here (and implemented in model_runtime/samplers.py): the schema, preferences, inspector, take cards
# and CLIs all read this table.
SAMPLERS: dict[str, tuple[str, str]] = {
    "dpmpp_2m": ("DPM-Solver++ 2M", "DPM++\u00a02M"),
    "ddim": ("DDIM", "DDIM"),
    "ddpm": ("DDPM (ancestral)", "DDPM"),
}
DEFAULT_SAMPLER = next(iter(SAMPLERS))
MODES = ("t2v", "i2v", "extend", "v2v")
MODE_NAMES = {"t2v": "text-to-video", "i2v": "image-to-video", "extend": "extend", "v2v": "video-to-video"}

MAX_SEED = 2**31 - 1  # seeds are non-negative int32 everywhere (project file, wire, torch generator)
MAX_STEPS = 1000
MAX_GUIDANCE = 30.0
MAX_FRAMES = 100_000
MAX_SIDE = 8192  # pixels a requested frame side may have
TIMESTEPS = 1000  # the diffusion schedule's length (model_runtime.diffusion.Schedule.n)


def parts_for(frames: int, native_frames: int, extend_frames: int, mode: str = "t2v") -> int:
    """How many native clips make `frames` new frames: the first yields a whole clip (extend: only
    its new frames, after the source's last `extend_frames`), each later one native - extend_frames."""
    per = max(1, native_frames - extend_frames)
    if mode == "extend":
        return max(1, math.ceil(frames / per))
    if frames <= native_frames:
        return 1
    return 1 + math.ceil((frames - native_frames) / per)


def part_steps(mode: str, steps: int, strength: float, part: int, timesteps: int = TIMESTEPS) -> int:
    """Sampler steps part `part` runs. Video-to-video's first part starts part-way down the schedule
    (SDEdit from strength × the last timestep) and cannot take more steps than timesteps remain;
    every other part runs the full `steps`."""
    if mode == "v2v" and part == 0 and strength < 1.0:
        return max(1, min(steps, int(strength * (timesteps - 1)) + 1))
    return steps


def plan_steps(mode: str, frames: int, steps: int, strength: float, native_frames: int, extend_frames: int,
               timesteps: int = TIMESTEPS, chain: bool = True) -> list[int]:
    """Sampler steps of every part of a request, in order: len() is the number of parts, sum() the
    progress total. A model that does not chain (Capabilities.chain False: an open model through
    diffusers) makes the whole clip in one run of `steps`."""
    if not chain:
        return [steps]
    n = parts_for(frames, native_frames, extend_frames, mode)
    return [part_steps(mode, steps, strength, p, timesteps) for p in range(n)]
