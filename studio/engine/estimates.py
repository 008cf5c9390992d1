"""Time and memory a job will take, from the worker's own calibration on this device.

The worker measures one guided sampler step of a native clip (WorkerReady.sec_per_step) and its
peak memory while doing so. A job costs that step time × the sampler steps of every native clip it
is chained from, which the contract's rules give (contract.rules.plan_steps, the very rule the
pipeline runs). Memory does not grow with the chain: the clips run one after another.
"""

from __future__ import annotations

from contract.protocol import WorkerReady
from contract.rules import plan_steps
from studio.engine.params import capabilities_of, clip_frames
from studio.project.schema import GenParams


def planned_steps(p: GenParams, ready: WorkerReady) -> list[int]:
    """Sampler steps of each native clip of a job with these parameters on this worker's model."""
    caps = capabilities_of(ready)
    return plan_steps(p.mode.value, clip_frames(p, ready.fps), int(p.steps), float(p.strength), ready.frames,
                      ready.extend_frames, chain=caps.chain if caps is not None else True)


def total_steps(p: GenParams, ready: WorkerReady) -> int:
    """Sampler steps over the job's whole chain of clips: the progress total the worker will report."""
    return sum(planned_steps(p, ready))


def estimate(p: GenParams, ready: WorkerReady, sec_per_step: float | None = None) -> tuple[float, int]:
    """(seconds, bytes) for one job with these parameters on the worker that sent `ready`.
    `sec_per_step` overrides the calibration (the queue passes what finished jobs measured)."""
    per_step = ready.sec_per_step if sec_per_step is None else sec_per_step
    seconds = per_step * total_steps(p, ready)
    return float(seconds), int(ready.peak_memory_bytes)
