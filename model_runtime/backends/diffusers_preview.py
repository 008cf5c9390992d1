"""Cheap previews of a diffusers pipeline's sampling: a linear map of the latent channels to RGB,
applied to the current estimate of the clean latents, per latent frame, at latent size.

- The map: the family's published factors (diffusers_families.PREVIEW_FACTORS) when the latent
  channels match, else one fitted once at load: a few random latents are decoded by the model's own
  VAE and latent → RGB is least-squares fitted against the decoded frames averaged over each latent
  cell (`fit`). Both act on the normalised sampling latents and give RGB in [-1, 1].
- The estimate: for a flow-matching scheduler (Wan, LTX), x0 = x_t − σ_t · v from the arguments of
  its last `step` (`X0Recorder` wraps `scheduler.step` while a clip is made); other schedulers preview
  the current noisy latents.
- The layout: LTX keeps latents packed (B, tokens, C·p·p·pt) while sampling (`unpack`); some
  pipelines hold (B, F, C, H, W) rather than (B, C, F, H, W). Each latent frame stands for the clip
  frames its VAE compressed into it (`frame_index`), so a preview has the clip's frame count.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F


class Projection:
    """latent channels → RGB: weight C×3, bias 3; `source`: "published:<name>", "fitted" or "none"."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, source: str):
        self.weight = weight.float()
        self.bias = bias.float()
        self.source = source

    @property
    def channels(self) -> int:
        return int(self.weight.shape[0])

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """B×C×T×h×w → B×3×T×h×w (float, about [-1, 1])."""
        w, b = self.weight.to(z.device), self.bias.to(z.device)
        return torch.einsum("bcthw,cr->brthw", z.float(), w) + b.view(1, 3, 1, 1, 1)

    @classmethod
    def published(cls, name: str, factors: list[list[float]], bias: list[float]) -> Projection:
        return cls(torch.tensor(factors), torch.tensor(bias), f"published:{name}")

    @classmethod
    def none(cls, channels: int) -> Projection:
        """A flat grey preview, when nothing better can be had."""
        return cls(torch.zeros(channels, 3), torch.zeros(3), "none")


def frame_index(frames: int, latent_frames: int, step: int, offset: int) -> torch.Tensor:
    """For each clip frame, the latent frame that holds it: a causal video VAE (offset 1) keeps the
    first frame alone and packs `step` frames into each later latent frame."""
    f = torch.arange(frames)
    idx = torch.where(f == 0, 0, (f - 1) // step + 1) if offset == 1 else f // max(1, step)
    return idx.clamp(max=latent_frames - 1)


def unpack(latents: torch.Tensor, frames: int, height: int, width: int, patch: int = 1,
           patch_t: int = 1) -> torch.Tensor:
    """LTX's packed B×(F·H·W / patches)×(C·pt·p·p) tokens → B×C×F×H×W (the pipeline's _pack_latents,
    inverted); F, H, W: latent frames, height and width."""
    b = latents.shape[0]
    x = latents.reshape(b, frames // patch_t, height // patch, width // patch, -1, patch_t, patch, patch)
    return x.permute(0, 4, 1, 5, 2, 6, 3, 7).flatten(6, 7).flatten(4, 5).flatten(2, 3)


def to_5d(latents: torch.Tensor, channels: int, grid: tuple[int, int, int], patch: int = 1,
          patch_t: int = 1) -> torch.Tensor | None:
    """Sampling latents in whatever layout the pipeline keeps → B×C×F×H×W (None: unknown layout).
    `grid`: (latent frames, latent height, latent width)."""
    f, h, w = grid
    if latents.ndim == 3:
        try:
            return unpack(latents, f, h, w, patch, patch_t)
        except RuntimeError:
            return None
    if latents.ndim != 5:
        return None
    if latents.shape[1] == channels:
        return latents
    if latents.shape[2] == channels:  # B×F×C×H×W (CogVideoX)
        return latents.permute(0, 2, 1, 3, 4)
    return None


def to_uint8_frames(rgb: torch.Tensor, index: torch.Tensor) -> np.ndarray:
    """1×3×F×h×w in [-1, 1] → uint8 T×h×w×3, each clip frame from its latent frame."""
    x = rgb[0].index_select(1, index.to(rgb.device))
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 3, 0).cpu().numpy()


class X0Recorder:
    """While active, records the clean-latent estimate of each flow-matching scheduler step
    (x0 = sample − σ · model_output, σ the step's own sigma) by wrapping `scheduler.step` on the
    instance; removed on exit. Schedulers that are not flow matching are left alone (`x0` stays None)."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.x0: torch.Tensor | None = None
        self.active = is_flow(scheduler)

    def __enter__(self) -> X0Recorder:
        if not self.active:
            return self
        sched = self.scheduler
        original = type(sched).step

        def step(model_output, timestep, sample, *args, **kwargs):
            out = original(sched, model_output, timestep, sample, *args, **kwargs)
            try:  # the step index has moved on: the sigma of this step is the one before it
                sigma = float(sched.sigmas[sched.step_index - 1])
                self.x0 = sample.float() - sigma * model_output.float()
            except (AttributeError, TypeError, IndexError, RuntimeError):
                self.x0 = None
            return out

        sched.step = step
        return self

    def __exit__(self, *exc) -> None:
        if self.active and "step" in vars(self.scheduler):
            del self.scheduler.step


def is_flow(scheduler) -> bool:
    cfg = getattr(scheduler, "config", {}) or {}
    return (type(scheduler).__name__.startswith("FlowMatch") or cfg.get("prediction_type") == "flow_prediction"
            or bool(cfg.get("use_flow_sigmas"))) and hasattr(scheduler, "sigmas")


def estimate(latents: torch.Tensor, x0: torch.Tensor | None, channels: int, grid: tuple[int, int, int],
             patch: int = 1, patch_t: int = 1) -> torch.Tensor | None:
    """The best clean-latent estimate as B×C×F×H×W: the recorded x0 where there is one (LTX's
    image-to-video steps only the frames after its conditioning frame: those come from the latents),
    else the latents themselves."""
    z = to_5d(latents, channels, grid, patch, patch_t)
    if z is None or x0 is None:
        return z
    e = to_5d(x0, channels, grid, patch, patch_t) if x0.ndim == 3 else x0
    if e is None or e.ndim != 5 or e.shape[1] != z.shape[1] or e.shape[3:] != z.shape[3:]:
        return z
    if e.shape[2] < z.shape[2]:
        e = torch.cat([z[:, :, : z.shape[2] - e.shape[2]].float(), e.float()], dim=2)
    return e if e.shape == z.shape else z


def fit(decode: Callable[[torch.Tensor], torch.Tensor], channels: int, frame_step: int, frame_offset: int,
        device, dtype, seed: int = 0) -> Projection:
    """Least-squares latent → RGB map for this VAE: random sampling-space latents (1×C×2×4×4 each,
    enough of them for 4 rows per unknown) are decoded, the frames averaged over each latent cell,
    and RGB = z·W + b fitted with a little ridge. `decode`: B×C×F×h×w → B×3×T×H×W in [-1, 1]."""
    t, hw = 2, 4
    n = max(2, math.ceil(4 * (channels + 1) / (t * hw * hw)))
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, channels, t, hw, hw, generator=g)
    with torch.no_grad():
        video = decode(z.to(device=device, dtype=dtype)).float().cpu()  # n×3×T×H×W
    index = frame_index(video.shape[2], t, frame_step, frame_offset)
    per_latent = torch.stack([video[:, :, index == j].mean(dim=2) for j in range(t)], dim=2)  # n×3×t×H×W
    pooled = F.adaptive_avg_pool3d(per_latent, (t, hw, hw))
    x = z.permute(0, 2, 3, 4, 1).reshape(-1, channels).double()
    y = pooled.permute(0, 2, 3, 4, 1).reshape(-1, 3).double()
    x1 = torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], dim=1)
    ridge = 1e-3 * torch.eye(channels + 1, dtype=x.dtype)
    sol = torch.linalg.solve(x1.T @ x1 + ridge, x1.T @ y)  # (C+1)×3
    if not torch.isfinite(sol).all():
        return Projection.none(channels)
    return Projection(sol[:-1].float(), sol[-1].float(), "fitted")
