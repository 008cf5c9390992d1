"""VP noise schedules (linear-beta, cosine) and the noise-prediction training loss.

Time is the DDPM index scale: t in 0..n-1, where x_t = sqrt(ab(t)) x0 + sqrt(1 - ab(t)) eps.
Float times are allowed (samplers place steps between integers): log ab is interpolated
piecewise-linearly, which is exact at the integers and keeps ab strictly decreasing.  t = -1 is
the clean data (ab = 1, sigma = 0), the conventional "alpha_bar_prev" of the first DDPM step.
All schedule arithmetic is float64; callers cast the scalars they need.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["Schedule", "noise_prediction_loss", "randn"]


class Schedule:
    """A discrete VP schedule of n steps with continuous-time helpers."""

    def __init__(self, betas: torch.Tensor):
        betas = torch.as_tensor(betas, dtype=torch.float64).cpu()
        if betas.ndim != 1 or len(betas) < 2:
            raise ValueError("betas must be a 1-D tensor of length >= 2")
        if not bool(((betas > 0) & (betas < 1)).all()):
            raise ValueError("betas must lie in (0, 1)")
        self.n = len(betas)
        self.betas = betas
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        # log ab on the grid t = -1, 0, ..., n-1 (t = -1 is clean data, log ab = 0).
        self._log_ab = torch.cat([torch.zeros(1, dtype=torch.float64), torch.log(self.alphas_cumprod)])
        self._log_ab_np = self._log_ab.numpy()
        self._grid_np = np.arange(-1, self.n, dtype=np.float64)  # the t of each _log_ab entry
        self._tables: dict[torch.device, torch.Tensor] = {}

    # ---- constructors -------------------------------------------------------------------------
    @classmethod
    def linear(cls, n: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
        """DDPM's linear betas (Ho et al. 2020)."""
        return cls(torch.linspace(beta_start, beta_end, n, dtype=torch.float64))

    @classmethod
    def cosine(cls, n: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> Schedule:
        """Improved-DDPM cosine schedule (Nichol & Dhariwal 2021), same discretisation as diffusers'
        "squaredcos_cap_v2": ab[i] = f((i+1)/n) / f(0), betas capped at max_beta."""

        def f(u: np.ndarray) -> np.ndarray:
            return np.cos((u + s) / (1 + s) * math.pi / 2) ** 2

        i = np.arange(n, dtype=np.float64)
        betas = np.minimum(1.0 - f((i + 1) / n) / f(i / n), max_beta)
        return cls(torch.from_numpy(betas))

    def to(self, device) -> Schedule:
        """Schedules live on the CPU in float64 (tiny tables); tensor helpers follow their input's
        device.  Kept so that callers may write `schedule.to(device)` uniformly."""
        return self

    # ---- continuous-time helpers --------------------------------------------------------------
    def alpha_bar(self, t):
        """ab(t) for float or tensor t in [-1, n-1] (clamped); float64 (a tensor on t's device,
        float32 on MPS which lacks float64)."""
        return self.log_alpha_bar(t).exp() if torch.is_tensor(t) else math.exp(self.log_alpha_bar(t))

    def log_alpha_bar(self, t):
        """Piecewise-linear interpolation of log ab; stays on t's device (no host sync in training)."""
        if torch.is_tensor(t):
            table = self._table(t.device)
            tt = (t.to(table.dtype) + 1.0).clamp(0.0, float(self.n))
            i0 = tt.floor().clamp(max=self.n - 1).long()
            frac = tt - i0
            return table[i0] + frac * (table[i0 + 1] - table[i0])
        t = min(max(float(t), -1.0), self.n - 1.0)
        return float(np.interp(t, self._grid_np, self._log_ab_np))

    def alpha(self, t):
        """sqrt(ab(t)): the signal scale."""
        return self.alpha_bar(t) ** 0.5

    def sigma(self, t):
        """sqrt(1 - ab(t)): the noise scale (expm1 keeps it accurate near t = -1)."""
        la = self.log_alpha_bar(t)
        return (
            (-torch.expm1(la)).clamp_min(0.0).sqrt()
            if torch.is_tensor(la)
            else math.sqrt(max(0.0, -math.expm1(la)))
        )

    def _table(self, device) -> torch.Tensor:
        device = torch.device(device)
        cached = self._tables.get(device)
        if cached is None:
            # MPS has no float64; float32 there is still far finer than the training noise.
            dtype = torch.float32 if device.type == "mps" else torch.float64
            cached = self._tables[device] = self._log_ab.to(device, dtype)
        return cached

    def lambda_(self, t: float) -> float:
        """Half log-SNR, log(alpha/sigma) (DPM-Solver's lambda); +inf at t = -1."""
        la = self.log_alpha_bar(t)
        if la >= 0.0:
            return math.inf
        return 0.5 * (la - math.log(-math.expm1(la)))

    def t_of_lambda(self, lam: float) -> float:
        """Inverse of lambda_ (for placing steps uniformly in log-SNR)."""
        # ab = sigmoid(2 lam)  =>  log ab = -softplus(-2 lam); then invert the piecewise-linear table.
        x = -2.0 * lam
        la = -(max(x, 0.0) + math.log1p(math.exp(-abs(x))))
        # _log_ab decreases with t: interpolate on the reversed (increasing) table.
        return float(np.interp(la, self._log_ab_np[::-1], self._grid_np[::-1]))

    def scales(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, sigma) at per-sample times t (B,), shaped to broadcast against `like` (B×...)."""
        t = torch.as_tensor(t, device=like.device)
        if t.ndim == 0:
            t = t.expand(like.shape[0])
        shape = (-1,) + (1,) * (like.ndim - 1)
        return self.alpha(t).to(like.dtype).view(shape), self.sigma(t).to(like.dtype).view(shape)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Forward diffusion x_t = sqrt(ab) x0 + sqrt(1-ab) noise; t (B,) integer or float."""
        a, s = self.scales(t, x0)
        return a * x0 + s * noise

    def __repr__(self) -> str:
        return (
            f"Schedule(n={self.n}, ab[0]={self.alphas_cumprod[0]:.6g}, ab[-1]={self.alphas_cumprod[-1]:.3g})"
        )


def randn(shape, generator: torch.Generator | None, device, dtype=None) -> torch.Tensor:
    """Normal draws on the generator's device (so a CPU generator drives a GPU batch), then moved:
    the same seed gives the same numbers whatever device the work runs on."""
    return _rand("randn", shape, generator, device, dtype)


def _rand(kind: str, shape, generator: torch.Generator | None, device, dtype=None) -> torch.Tensor:
    gdev = generator.device if generator is not None else device
    if kind == "randn":
        out = torch.randn(shape, generator=generator, device=gdev, dtype=dtype)
    else:
        out = torch.rand(shape, generator=generator, device=gdev, dtype=dtype)
    return out.to(device)


def noise_prediction_loss(
    model,
    x0: torch.Tensor,
    cond: torch.Tensor,
    null_cond: torch.Tensor,
    schedule: Schedule,
    p_uncond: float = 0.1,
    loss_mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    x_known: torch.Tensor | None = None,
    known_mask: torch.Tensor | None = None,
    prediction: str = "eps",
    p_high_noise: float = 0.0,
    high_noise_from: float = 0.7,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Epsilon-prediction MSE with classifier-free-guidance condition dropout.

    Draws integer t ~ U[0, n), noise and x_t; replaces `cond` by `null_cond` on a random p_uncond
    fraction of the rows; elements in `known_mask` are fed clean (from `x_known`, default x0) and left
    out of the loss, as are elements where `loss_mask` is false.  Calls model(x_t, t.float(), cond).
    prediction="v" trains the model to predict v = alpha eps - sigma x0 instead of the noise.
    p_high_noise: that share of the rows draw t from the top of the schedule instead (t >= high_noise_from
    * n), where x_t is nearly pure noise and only the prompt can say where things are and how they move:
    layout and motion are learned there, and a uniform draw visits it too rarely for them.
    noise: the noise to train on (e.g. anchored_noise's), drawn i.i.d. here when not given.
    Deterministic given `generator` (draw order: t, [high-noise t and choice], [noise], dropout).
    """
    if not 0.0 <= p_uncond <= 1.0:
        raise ValueError(f"p_uncond must be in [0, 1], got {p_uncond}")
    if not 0.0 <= p_high_noise <= 1.0 or not 0.0 <= high_noise_from < 1.0:
        raise ValueError(f"p_high_noise must be in [0, 1] and high_noise_from in [0, 1), got {p_high_noise}, {high_noise_from}")
    b, device = x0.shape[0], x0.device
    t = _rand_int(schedule.n, b, generator, device)
    if p_high_noise > 0.0:
        lo = int(high_noise_from * schedule.n)
        high = lo + _rand_int(schedule.n - lo, b, generator, device)
        t = torch.where(_rand("rand", (b,), generator, device) < p_high_noise, high, t)
    if noise is None:
        noise = _rand("randn", x0.shape, generator, device, x0.dtype)
    elif noise.shape != x0.shape:
        raise ValueError(f"noise shape {tuple(noise.shape)} differs from the data's {tuple(x0.shape)}")
    noise = noise.to(device, x0.dtype)
    x_t = schedule.q_sample(x0, t, noise)

    drop = _rand("rand", (b,), generator, device) < p_uncond
    if p_uncond > 0.0:
        drop_b = drop.view((b,) + (1,) * (cond.ndim - 1))
        cond = torch.where(drop_b, null_cond.to(cond.device, cond.dtype), cond)

    weight = torch.ones_like(x0, dtype=torch.bool)
    if loss_mask is not None:
        weight = weight & loss_mask.to(device, torch.bool)
    if known_mask is not None:
        known = known_mask.to(device, torch.bool)
        clean = x0 if x_known is None else x_known.to(x0.dtype)
        x_t = torch.where(known, clean, x_t)
        weight = weight & ~known
    elif x_known is not None:
        raise ValueError("x_known needs a known_mask")

    pred = model(x_t, t.float(), cond)
    target = noise
    if prediction == "v":
        # v = alpha eps - sigma x0 (Salimans & Ho 2022): the model answers with data at high noise and
        # with noise at low noise, so neither end divides a small error by a tiny scale.
        a, s = schedule.scales(t, x0)
        target = a * noise - s * x0
    elif prediction != "eps":
        raise ValueError(f"prediction must be 'eps' or 'v', got {prediction!r}")
    sq = (pred.float() - target.float()) ** 2
    w = weight.expand_as(sq).to(sq.dtype)
    # max(count, 1): a batch with nothing to learn gives 0, not NaN.
    return (sq * w).sum() / w.sum().clamp_min(1.0)


def _rand_int(high: int, b: int, generator: torch.Generator | None, device) -> torch.Tensor:
    gdev = generator.device if generator is not None else device
    return torch.randint(0, high, (b,), generator=generator, device=gdev).to(device)
