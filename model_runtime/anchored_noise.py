"""Diffusion noise anchored to the scene: the camera's motion and the subject's, written into the noise.

I.i.d. noise gives a video model nothing that moves with the camera, so a small model draws flat,
texture-free backgrounds and a pan or zoom cannot be seen. Following noise warping (Chang et al.,
"How I Warped Your Noise", ICLR 2024; Burgert et al., "Go-with-the-Flow", CVPR 2025), each frame's
noise is read from Gaussian fields fixed in the world: the background's from a world field through
the frame's camera, the subject's (inside its box) from a field that travels with the subject. The
model is trained on noise anchored by the clip's annotated layout and sampled with noise anchored by
the planner's layout, so whatever it draws out of the noise moves as the layout says.

Each pixel's noise is the sum of the field cells its footprint covers over the square root of their
count (the integral noise of Chang et al.): every frame is still i.i.d. N(0, 1) over its pixels, and
a zoom keeps the noise's coarse pattern, which reading one cell per pixel would scramble. Frames are
correlated through the world, as the video is.
"""

from __future__ import annotations

import torch

from model_runtime.subject_plan import frame_offsets, frame_to_world

FINE = 4  # field cells per pixel side at zoom 1: a 1.6x zoom-in still covers 2-3 cells per pixel side
SUBJECT_MARGIN = 1.2  # the subject's noise covers its box and this much around it (blur, antialiasing)


def anchored_noise(layout: torch.Tensor, channels: int, size: int,
                   generator: torch.Generator | None = None, width: int | None = None) -> torch.Tensor:
    """B×T×7 layouts (a planned or an annotated track: model_runtime.subject_plan) -> B×channels×T×size×width
    noise (size is the frame's height; width defaults to it). A row without a layout
    (subject height 0 in some frame) gets i.i.d. noise, as does a pixel whose footprint falls off the
    world field (±1.25 frame heights about the centre; no layout the model was trained on goes there).
    Draw order: world field, subject field, i.i.d. noise; each field just covers what the batch's
    frames see, so the result is a pure function of (the batch's layouts, generator state)."""
    b, t, _ = layout.shape
    lay = layout.detach().double().cpu()
    width = size if width is None else width
    per_h = size * FINE  # cells per frame height
    cx, cy = frame_offsets(size, width)  # pixel centres, frame heights
    half = 0.5 / size  # pixel borders lie half a pixel either side
    ex_, ey_ = torch.cat([cx - half, cx[-1:] + half]), torch.cat([cy - half, cy[-1:] + half])
    sub_x, sub_y = lay[..., 3:4], lay[..., 4:5]
    wx, _ = frame_to_world(lay, cx)
    _, wy = frame_to_world(lay, cy)
    rx, ry = wx - sub_x, wy - sub_y  # pixel centres, from the subject
    inside = (rx.abs() <= lay[..., 6:7] * SUBJECT_MARGIN)[..., None, :] \
        & (ry.abs() <= lay[..., 5:6] / 2 * SUBJECT_MARGIN)[..., :, None]  # B×T×H×W
    # the subject's field only needs to reach a pixel past its margin: what lies further is the world's
    reach = (lay[..., 5:7].abs().amax() * SUBJECT_MARGIN + 2.0 / size).item() if b else 0.0
    ex, _ = frame_to_world(lay, ex_)
    _, ey = frame_to_world(lay, ey_)
    world = _cell_edges(ex, ey, per_h, 1.25)
    subject = _cell_edges(ex - sub_x, ey - sub_y, per_h, reach)
    world_noise = _integrate(world, channels, generator)
    subject_noise = _integrate(subject, channels, generator)
    iid = torch.randn((b, channels, t, size, width), generator=generator)
    out = torch.where(inside[:, None], subject_noise, world_noise)
    has = (lay[..., 5] > 0).all(dim=1).view(b, 1, 1, 1, 1)
    return torch.where(has & torch.isfinite(out), out, iid).to(layout.device)


def _cell_edges(x_edges: torch.Tensor, y_edges: torch.Tensor, per_h: int, limit: float):
    """Pixel borders (B×T×(W+1), B×T×(H+1), frame heights) -> the same as cell indices into a field
    that spans them (at most ±limit frame heights; borders beyond are clamped), and its shape."""
    # pixel borders at zoom 1 fall on cell borders: +0.5 keeps the rounding away from them
    xe = torch.floor(x_edges * per_h + 0.5).long()
    ye = torch.floor(y_edges * per_h + 0.5).long()
    cap = int(limit * per_h) + 1
    lo_x, hi_x = max(int(xe.min()), -cap), min(int(xe.max()), cap)
    lo_y, hi_y = max(int(ye.min()), -cap), min(int(ye.max()), cap)
    w, h = max(hi_x - lo_x, 1), max(hi_y - lo_y, 1)
    return (xe - lo_x).clamp(0, w), (ye - lo_y).clamp(0, h), (h, w)


def _integrate(cells, channels: int, generator: torch.Generator | None) -> torch.Tensor:
    """Draws a Gaussian field and gives each pixel the sum of the cells between its borders over the
    square root of their count -> B×C×T×H×W; NaN where a footprint is empty (clamped off the field)."""
    xe, ye, (h, w) = cells
    b = xe.shape[0]
    field = torch.randn((b, channels, h, w), generator=generator)
    table = torch.nn.functional.pad(field.cumsum(2).cumsum(3), (1, 0, 1, 0)).flatten(2)  # summed-area table
    x0, x1 = xe[..., None, :-1], xe[..., None, 1:]  # B×T×1×W
    y0, y1 = ye[..., :-1, None], ye[..., 1:, None]  # B×T×H×1

    def at(y, x):
        idx = (y * (w + 1) + x).flatten(1)  # B×(T·H·W)
        return table.gather(2, idx[:, None].expand(b, channels, -1))

    total = at(y1, x1) - at(y0, x1) - at(y1, x0) + at(y0, x0)
    count = ((y1 - y0) * (x1 - x0)).flatten(1)[:, None].float()
    out = total / count.sqrt()  # an empty footprint: 0/0 = NaN
    return out.view(b, channels, *torch.broadcast_shapes(x0.shape, y0.shape)[1:])
