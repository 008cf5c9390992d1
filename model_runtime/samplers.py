"""Samplers for an epsilon-prediction VP model: ancestral DDPM, DDIM (eta=0), DPM-Solver++(2M).

A sampler is a pure function of a noise predictor `eps_fn(x, t)`, a `Schedule` and a step count.
Time is the schedule's 0..n-1 scale (floats allowed); the last step always lands on clean data
(sigma = 0) by taking the current x0-prediction ("denoise to zero", first order at the end).

DDIM is exactly first-order DPM-Solver++ (Lu et al. 2022, eq. 5), so both share one update:
    x_next = (sigma_next / sigma) x + alpha_next (1 - e^{-h}) D,   h = lambda_next - lambda
with D the x0-prediction (order 1) or its 2M multistep extrapolation (order 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from contract.rules import SAMPLERS

from .diffusion import Schedule, randn

__all__ = ["METHODS", "SPACINGS", "Cancelled", "guided_eps", "sample", "step_times"]

METHODS = tuple(SAMPLERS)  # the contract names them (and their labels); they are implemented here
SPACINGS = ("logsnr", "time", "quadratic")

EpsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Callback = Callable[[int, int, torch.Tensor], bool | None]


class Cancelled(Exception):
    """Raised by `sample` when the callback asks to stop."""


# Below this half log-SNR (noise std e^4 ~ 55x the signal) an x0-prediction barely moves for data of
# unit scale, so the logsnr grid starts here and the first step jumps across the pure-noise range.
# Measured: helps the linear schedule a little and the cosine one (lambda(n-1) ~ -9.9) a lot.
LAMBDA_FLOOR = -4.0


def step_times(
    schedule: Schedule, steps: int, spacing: str = "logsnr", t_start: float | None = None
) -> list[float]:
    """The `steps` times at which the model is evaluated, from t_start (default n-1) down to 0.

    logsnr (default): uniform in lambda = log(alpha/sigma) over [max(lambda(t_start), LAMBDA_FLOOR),
    lambda(0)], as the DPM-Solver paper recommends; measured best for dpmpp_2m on the analytic problem
    (benchmarks/bench_sampler_accuracy.py).  time / quadratic: uniform in t or in sqrt(t).
    """
    t_hi = float(schedule.n - 1 if t_start is None else t_start)
    if steps == 1:
        return [t_hi]
    u = np.linspace(0.0, 1.0, steps)
    if spacing == "time":
        ts = t_hi * (1.0 - u)
    elif spacing == "quadratic":
        ts = t_hi * (1.0 - u) ** 2
    elif spacing == "logsnr":
        lo, hi = max(schedule.lambda_(t_hi), LAMBDA_FLOOR), schedule.lambda_(0.0)
        ts = np.array([schedule.t_of_lambda(lo + (hi - lo) * v) for v in u])
    else:
        raise ValueError(f"unknown step spacing {spacing!r}; choose one of: {', '.join(SPACINGS)}")
    ts[0], ts[-1] = t_hi, 0.0  # exact ends (start at t_start even when the grid starts at the floor)
    return [float(t) for t in ts]


def _ddpm_times(schedule: Schedule, steps: int, t_start: float | None) -> list[float]:
    # Integer times (what the model was trained on); steps == n gives the classic n-1, ..., 0.
    t_hi = int(round(schedule.n - 1 if t_start is None else t_start))
    if steps > t_hi + 1:
        raise ValueError(f"ddpm needs steps <= {t_hi + 1} from t_start {t_hi}, got {steps}")
    return [float(t) for t in np.round(np.linspace(t_hi, 0, steps))]


def sample(
    eps_fn: EpsFn,
    x_T: torch.Tensor,
    schedule: Schedule,
    method: str,
    steps: int,
    callback: Callback | None = None,
    generator: torch.Generator | None = None,
    *,
    t_start: float | None = None,
    spacing: str = "logsnr",
    noise_fn: Callable[[torch.Generator | None], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Integrate from x_T (noise at time t_start, default n-1) to x0 in `steps` model calls.

    callback(step, total, x0_pred) runs after every step (step = 1..total); returning True stops at
    once with `Cancelled`.  `generator` drives ddpm's noise (same seed -> identical output);
    `noise_fn(generator)`, when given, draws that noise instead (e.g. anchored like x_T's).
    `t_start` < n-1 starts part-way (SDEdit / video-to-video: x_T = q_sample(video, t_start, noise)).
    `spacing` places the ddim / dpmpp_2m steps (see step_times); ddpm uses evenly strided integers.
    No grad handling here: callers run it under torch.inference_mode().
    """
    if method not in METHODS:
        raise ValueError(f"unknown sampler {method!r}; choose one of: {', '.join(METHODS)}")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if steps > schedule.n:
        raise ValueError(f"steps must be at most {schedule.n} (the schedule length), got {steps}")
    if t_start is not None and not 0.0 <= float(t_start) <= schedule.n - 1:
        raise ValueError(f"t_start must be in [0, {schedule.n - 1}], got {t_start}")
    steps = int(steps)

    if method == "ddpm":
        ts = _ddpm_times(schedule, steps, t_start)
    else:
        ts = step_times(schedule, steps, spacing, t_start)
    targets = ts[1:] + [-1.0]  # -1: clean data

    # All schedule arithmetic up front, in float64 on the host: the loop below is only tensor ops
    # (no device syncs, a handful of fused elementwise kernels per step).
    plan = [
        _plan_step(schedule, method, t, t_next, h_prev)
        for t, t_next, h_prev in _with_prev_h(schedule, ts, targets)
    ]

    x = x_T
    b, dtype, device = x.shape[0], x.dtype, x.device
    x0_prev: torch.Tensor | None = None
    for i, (t, step) in enumerate(zip(ts, plan, strict=True)):
        eps = eps_fn(x, torch.full((b,), t, dtype=dtype, device=device)).to(dtype)
        x0 = torch.add(x, eps, alpha=-step.sigma).mul_(1.0 / step.alpha)
        if step.final:
            x = x0  # sigma_next = 0: every method lands on its x0-prediction
        elif method == "ddpm":
            x = x.mul(step.cx).add_(x0, alpha=step.cd)
            z = noise_fn(generator) if noise_fn is not None else randn(x.shape, generator, device, dtype)
            x.add_(z.to(device, dtype), alpha=step.std)
        else:
            # 2M: D = (1 + k) x0 - k x0_prev with k = 1 / (2 r), folded into the update.
            x = x.mul(step.cx).add_(x0, alpha=step.cd * (1.0 + step.k))
            if step.k:
                x.sub_(x0_prev, alpha=step.cd * step.k)
        x0_prev = x0
        if callback is not None and callback(i + 1, steps, x0):
            raise Cancelled(f"cancelled at step {i + 1} of {steps}")
    return x


class _Step(NamedTuple):
    alpha: float  # alpha, sigma at the current time (for the x0-prediction)
    sigma: float
    final: bool  # next time is clean data
    cx: float  # x_next = cx * x + cd * D (+ std * z for ddpm)
    cd: float
    k: float = 0.0  # 2M extrapolation weight 1 / (2 r), r = h_prev / h; 0 = first order
    std: float = 0.0


def _with_prev_h(schedule: Schedule, ts: list[float], targets: list[float]):
    h_prev = None
    for t, t_next in zip(ts, targets, strict=True):
        yield t, t_next, h_prev
        h_prev = schedule.lambda_(t_next) - schedule.lambda_(t)


def _plan_step(schedule: Schedule, method: str, t: float, t_next: float, h_prev: float | None) -> _Step:
    la, la_next = schedule.log_alpha_bar(t), schedule.log_alpha_bar(t_next)
    a, s = math.exp(0.5 * la), math.sqrt(-math.expm1(la))
    if t_next < 0:
        return _Step(a, s, True, 0.0, 1.0)
    a_next, s_next = math.exp(0.5 * la_next), math.sqrt(-math.expm1(la_next))
    if method == "ddpm":
        # Ancestral step: sample the Gaussian posterior q(x_next | x_t, x0) (Ho et al. eq. 6-7)
        # generalised to strided steps, with beta = 1 - ab / ab_next the strided step's beta.
        beta = -math.expm1(la - la_next)
        cd = a_next * beta / s**2
        cx = math.exp(0.5 * (la - la_next)) * s_next**2 / s**2
        return _Step(a, s, False, cx, cd, std=math.sqrt(s_next**2 / s**2 * beta))
    # DPM-Solver++ (Lu et al. 2022, eq. 9 / Alg. 2), h = lambda_next - lambda:
    #   x_next = (sigma_next / sigma) x + alpha_next (1 - e^-h) D
    h = schedule.lambda_(t_next) - schedule.lambda_(t)
    k = 0.5 * h / h_prev if method == "dpmpp_2m" and h_prev is not None else 0.0
    return _Step(a, s, False, s_next / s, -a_next * math.expm1(-h), k=k)


def _expand_batch(c, b: int):
    """Broadcast a batch-1 condition to batch b (tensors, or tuples / lists / dicts of them)."""
    if torch.is_tensor(c):
        return c.expand(b, *c.shape[1:]) if c.shape[0] == 1 and b != 1 else c
    if isinstance(c, dict):
        return {k: _expand_batch(v, b) for k, v in c.items()}
    if isinstance(c, list | tuple):
        return type(c)(_expand_batch(v, b) for v in c)
    return c


def _cat(a, b):
    if torch.is_tensor(a):
        return torch.cat([a, b], dim=0)
    if isinstance(a, dict):
        return {k: _cat(a[k], b[k]) for k in a}
    if isinstance(a, list | tuple):
        return type(a)(_cat(u, v) for u, v in zip(a, b, strict=True))
    raise TypeError(f"cannot batch a condition of type {type(a).__name__}")


def guided_eps(model, cond, uncond, guidance: float) -> EpsFn:
    """Classifier-free guidance: eps_u + g (eps_c - eps_u), both passes in ONE batched forward of
    model(x, t, cond).  guidance == 1 is exactly the conditional pass (no unconditional half)."""
    guidance = float(guidance)

    def eps_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        c = _expand_batch(cond, b)
        if guidance == 1.0:
            return model(x, t, c)
        out = model(torch.cat([x, x]), torch.cat([t, t]), _cat(c, _expand_batch(uncond, b)))
        e_c, e_u = out[:b], out[b:]
        return e_u + guidance * (e_c - e_u)

    return eps_fn
