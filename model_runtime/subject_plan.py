"""Subject plans: where the camera looks and where the subject is, frame by frame, as a layout model
predicts them from the prompt (a plan has the fields of the toy world's ground-truth track,
`toyworld.subject_track`, and is trained against it).

Text alone is a weak teacher of "where": a pixel loss barely changes when a subject is drawn still
instead of moving, so a small model learns colours long before it learns motion words (see
benchmarks/probe_conditioning.py). Following layout-guided video diffusion (LVD, Lian et al. 2024;
Boximator, Wang et al. 2024; CameraCtrl, He et al. 2024), the work is split in two learned parts:

- a planner reads the prompt's words and predicts the per-frame plan (camera centre and zoom,
  subject centre and box), trained against the tracks annotated on the training clips;
- the U-ViT sees that plan drawn as extra input channels (the world coordinate of every pixel, the
  subject's box), patchified into the same tokens as the video, so it only has to follow it.

At training time the U-ViT is fed the annotated track; at sampling time the planner's plan. An empty
prompt (the unconditional branch of classifier-free guidance) has no plan: all its channels are 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from model_runtime.text import PAD

PLAN_DIM = 7  # toyworld.TRACK_FIELDS
CHANNELS = 4  # present, world x, world y, subject box


def frame_to_world(plan: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions across the frame (offsets from its centre, in frame heights; shape K) seen through
    each frame's camera -> world x (B×T×K) and world y (B×T×K), in frame heights about the centre."""
    zoom = plan[..., 2].exp()[..., None]  # B×T×1
    return plan[..., 0:1] + offsets / zoom, plan[..., 1:2] + offsets / zoom


def frame_offsets(height: int, width: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel centres of a height×width frame as offsets from its centre in frame heights: columns (W)
    and rows (H). The one rule for every grid (pixels or latents, any aspect), as the renderer's."""
    gx = (torch.arange(width, device=device, dtype=torch.float64) + 0.5 - width / 2) / height
    gy = (torch.arange(height, device=device, dtype=torch.float64) + 0.5 - height / 2) / height
    return gx, gy


def plan_maps(plan: torch.Tensor, height: int, width: int | None = None) -> torch.Tensor:
    """B×T×7 plans (or annotated tracks) -> B×4×T×height×width maps (width defaults to height: square
    frames). A row whose subject height is 0 has no plan (all 0)."""
    width = height if width is None else width
    b, t, _ = plan.shape
    lay = plan.float()
    present = (lay[..., 5] > 0).float()  # B×T
    gx, gy = (g.float() for g in frame_offsets(height, width, plan.device))
    wx, _ = frame_to_world(lay, gx)
    _, wy = frame_to_world(lay, gy)
    wx, wy = wx[:, :, None, :], wy[:, :, :, None]  # B×T×1×W and B×T×H×1, world units about the centre
    pix = (1.0 / (height * lay[..., 2].exp()[..., None]))[..., None]  # one pixel in world units
    dx = (wx - lay[..., 3, None, None]).abs() - lay[..., 6, None, None]
    dy = (wy - lay[..., 4, None, None]).abs() - lay[..., 5, None, None] / 2
    box = (0.5 - torch.maximum(dx, dy) / pix).clamp(0.0, 1.0)  # antialiased, like the renderer's edges
    p = present[..., None, None]
    full = (b, t, height, width)
    maps = torch.stack([p.expand(full), 2 * wx.expand(full) * p, 2 * wy.expand(full) * p, box * p], dim=1)
    return maps.to(plan.dtype)


def spread_plan(plan: torch.Tensor, take_frames: int) -> torch.Tensor:
    """The plan of a whole take of `take_frames` frames from the plan of one clip (B×T×7): as
    TOYWORLD.md has motion and camera "over the whole clip", a long take spreads the planned path
    over all its frames (a pan travels its 0.5 H over the take, not per clip). B×max(T, take)×7."""
    t = plan.shape[1]
    if take_frames <= t:
        return plan
    lay = plan.float()
    pos = torch.arange(take_frames, dtype=torch.float32, device=lay.device) * (t - 1) / (take_frames - 1)
    i0 = pos.floor().long().clamp(max=max(t - 2, 0))
    frac = (pos - i0)[None, :, None]
    return (lay[:, i0] * (1 - frac) + lay[:, (i0 + 1).clamp(max=t - 1)] * frac).to(plan.dtype)


def window(take: torch.Tensor, first: int, frames: int) -> torch.Tensor:
    """Frames first .. first+frames-1 of a take's per-frame tensor (dim 1); past its end the last
    frame repeats (a chain's last part may run past the take and is cut)."""
    idx = (torch.arange(frames, device=take.device) + first).clamp(max=take.shape[1] - 1)
    return take[:, idx]


def recentre(plan: torch.Tensor) -> torch.Tensor:
    """A plan as training plans are centred (mean camera centre at the world's centre, mean log zoom
    0): the world shifted and scaled, camera and subject together, which shows the same frames. Rows
    without a plan stay without one."""
    out = plan.float()
    m = out[..., 2].mean(dim=1, keepdim=True)
    s = m.exp()
    cx, cy = out[..., 0].mean(dim=1, keepdim=True), out[..., 1].mean(dim=1, keepdim=True)
    cols = [(out[..., 0] - cx) * s, (out[..., 1] - cy) * s, out[..., 2] - m, (out[..., 3] - cx) * s,
            (out[..., 4] - cy) * s, out[..., 5] * s, out[..., 6] * s]
    out = torch.stack(cols, dim=-1)
    present = (plan[..., 5] > 0).all(dim=1)[:, None, None]
    return torch.where(present, out, torch.zeros_like(out)).to(plan.dtype)


@dataclass(frozen=True)
class PlanWindow:
    """Which frames of a take a clip is, and what the take's opening frame shows: what a layout
    model's plan must agree with. The default is a clip of its own."""

    first: int = 0  # the clip's first frame in its take
    length: int = 0  # the take's length in frames (≤ one clip: a clip of its own)
    # the subject in the frame the take opens on (a reference image, or the clip it extends): centre
    # x, y from the frame's centre and height, in frame heights; and that frame's index in the take
    anchor: tuple[float, float, float] | None = None
    anchor_at: int = 0


def anchor_subject(plan: torch.Tensor, u: float, v: float, h: float, at: int = 0) -> torch.Tensor:
    """Moves the planned subject path (B×L×7) so that frame `at` shows the subject where an image has
    it (centre u, v from the frame centre, in frame heights), and eases its size from the image's height
    h there to the planned one by the last frame: a continued shot goes on from the frame it was given
    instead of jumping to the plan's start."""
    lay = plan.float().clone()
    n = lay.shape[1]
    z = lay[:, at, 2].exp()
    lay[..., 3] += (lay[:, at, 0] + u / z - lay[:, at, 3])[:, None]
    lay[..., 4] += (lay[:, at, 1] + v / z - lay[:, at, 4])[:, None]
    ratio = (h / z) / lay[:, at, 5].clamp_min(1e-3)
    ease = ((n - 1 - torch.arange(n, device=lay.device)) / max(n - 1 - at, 1)).clamp(0, 1)[None, :]
    lay[..., 5:7] *= (1 + (ratio[:, None] - 1) * ease)[..., None]
    present = (plan[..., 5] > 0).all(dim=1)[:, None, None]
    return torch.where(present, lay, plan.float()).to(plan.dtype)


def take_plan(plan: torch.Tensor, w: PlanWindow) -> torch.Tensor:
    """The plan of a whole take (B×max(T, length)×7) from one clip's: spread over the take
    (spread_plan) and anchored to the frame it opens on."""
    whole = spread_plan(plan, w.length)
    return whole if w.anchor is None else anchor_subject(whole, *w.anchor, at=w.anchor_at)


def plan_window(plan: torch.Tensor, w: PlanWindow) -> torch.Tensor:
    """The plan (B×T×7) a clip follows: its window of the take's plan, re-centred like a training
    clip (a clip of its own keeps its plan's place)."""
    t = plan.shape[1]
    whole = take_plan(plan, w)
    if w.length <= t and w.first == 0:
        return whole
    return recentre(window(whole, w.first, t))


class Planner(nn.Module):
    """Prompt token ids (B×L) -> per-frame plan (B×T×7): a bag of its own word embeddings, then an MLP.
    Its own words, not the shared text encoder's output: that is tuned for the U-ViT, and an MLP on its
    mean learned the plan about 4× more slowly in a side test (mean |error| 0.04 against 0.009 after 400
    steps). A bag (sum over the words present) keeps the prompt's word order and omissions harmless."""

    def __init__(self, vocab_size: int, frames: int, width: int = 128, hidden: int = 256):
        super().__init__()
        self.frames = frames
        self.embed = nn.Embedding(vocab_size, width)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, frames * PLAN_DIM))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        words = (self.embed(ids) * (ids != PAD)[..., None]).sum(dim=1)
        out = self.mlp(words).view(-1, self.frames, PLAN_DIM)
        # sizes are positive: a planned subject always has a box (height 0 means "no plan")
        return torch.cat([out[..., :5], nn.functional.softplus(out[..., 5:]) + 1e-3], dim=-1)


def plan_error(planned: torch.Tensor, track: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the planner against the annotated tracks, over the rows that have one
    (0 when none has)."""
    has = (track[..., 5] > 0).all(dim=1).float()[:, None, None]
    sq = (planned.float() - track.float()) ** 2 * has
    return sq.sum() / (has.sum() * track.shape[1] * track.shape[2]).clamp_min(1.0)
