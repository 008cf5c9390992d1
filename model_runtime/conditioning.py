"""The conditioning modes, in one place.

- t2v: pure noise, text only.
- i2v / continuity: the given first frame(s) are known; they are fed clean to the model and put
  back at every step (Open-Sora's mask strategy). The model was trained the same way.
- extend: the last k frames of a clip are the known first k frames of the next, so clips chain
  into long takes.
- v2v (SDEdit): start from the input video noised to strength s and denoise from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model_runtime.diffusion import Schedule


@dataclass
class Condition:
    known: torch.Tensor | None = None  # B×C×T×H×W clean values (model space), where mask is set
    mask: torch.Tensor | None = None  # bool, broadcastable to the clip (B×1×T×1×1)
    init: torch.Tensor | None = None  # v2v: the source video (model space)
    strength: float = 1.0


def known_frames(frames: torch.Tensor, total: int) -> Condition:
    """frames: B×C×k×H×W clean frames that open a clip of `total` frames."""
    b, c, k, h, w = frames.shape
    known = torch.zeros(b, c, total, h, w, dtype=frames.dtype, device=frames.device)
    known[:, :, :k] = frames
    mask = torch.zeros(1, 1, total, 1, 1, dtype=torch.bool, device=frames.device)
    mask[:, :, :k] = True
    return Condition(known=known, mask=mask)


def wrap_eps(eps_fn, cond: Condition, schedule: Schedule):
    """Feeds known frames clean and answers for them with the noise that is exactly consistent with
    the sampler's own state, so its x0-prediction there is the known frame and its trajectory stays
    on the known value's ODE path (no drift, a truthful live preview)."""
    if cond.mask is None:
        return eps_fn

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        known = cond.known.to(x.dtype)
        e = eps_fn(torch.where(cond.mask, known, x), t)
        a, s = schedule.scales(t, x)
        s = s.clamp_min(1e-4)
        return torch.where(cond.mask, (x - a * known) / s, e)

    return eps


def clip_data(eps_fn, schedule: Schedule, lo: float = -1.0, hi: float = 1.0):
    """Keeps every x0-prediction inside the data range (pixels live in [-1, 1]) by answering with the
    noise that is consistent with the clipped x0. At high noise a small error in the predicted noise
    is divided by a tiny alpha (x0 = (x - sigma eps) / alpha): unclipped, the first steps overshoot
    to saturated colors and the trajectory never recovers."""

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e = eps_fn(x, t)
        a, s = schedule.scales(t, x)
        s = s.clamp_min(1e-4)
        x0 = ((x - s * e) / a).clamp(lo, hi)
        return (x - a * x0) / s

    return eps


def impose(x0: torch.Tensor, cond: Condition) -> torch.Tensor:
    return x0 if cond.mask is None else torch.where(cond.mask, cond.known.to(x0.dtype), x0)


def start(noise: torch.Tensor, cond: Condition, schedule: Schedule) -> tuple[torch.Tensor, float | None]:
    """The sampler's starting point and time. For v2v: the source video noised to the strength's
    time step (SDEdit); otherwise pure noise at the schedule's end."""
    if cond.init is None or cond.strength >= 1.0:
        return noise, None
    t_start = cond.strength * (schedule.n - 1)
    t = torch.full((noise.shape[0],), t_start, device=noise.device)
    return schedule.q_sample(cond.init.to(noise.dtype), t, noise), t_start
