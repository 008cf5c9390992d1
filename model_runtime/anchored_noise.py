"""Diffusion noise anchored to the scene: the camera's motion and the subject's, written into the noise.

I.i.d. noise gives a video model nothing that moves with the camera, so a small model draws flat,
texture-free backgrounds and a pan or zoom cannot be seen. Following noise warping (Chang et al.,
"How I Warped Your Noise", ICLR 2024; Burgert et al., "Go-with-the-Flow", CVPR 2025), each frame's
noise is read from Gaussian fields fixed in the world: the background's from a world field through
the frame's camera, the subject's (inside its box) from a field that travels with the subject. The
model is trained on noise anchored by the clip's annotated layout and sampled with noise anchored by
the planner's layout, so whatever it draws out of the noise moves as the layout says.

Every frame is still i.i.d. N(0, 1) over its pixels: the fields have FINE cells per pixel at zoom 1,
so even a 2× zoom-in gives each pixel a cell of its own. Frames are correlated through the world,
as the video is.
"""

from __future__ import annotations

import torch

FINE = 2  # field cells per pixel at zoom 1
SUBJECT_MARGIN = 1.2  # the subject's noise covers its box and this much around it (blur, antialiasing)


def anchored_noise(layout: torch.Tensor, channels: int, size: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """B×T×7 layouts (model_runtime.layout) -> B×channels×T×size×size noise. A row without a layout
    (subject height 0 in some frame) gets i.i.d. noise. Draw order: world fields, subject fields,
    i.i.d. noise, so the result is a pure function of (layout, generator state)."""
    b, t, _ = layout.shape
    lay = layout.detach().float().cpu()
    n = 5 * size * FINE // 2  # ±1.25 frame heights about the centre; wrapped beyond
    world = torch.randn((b, channels, n * n), generator=generator)
    subject = torch.randn((b, channels, n * n), generator=generator)
    iid = torch.randn((b, channels, t, size, size), generator=generator)

    g = (torch.arange(size, dtype=torch.float32) + 0.5) / size - 0.5
    zoom = lay[..., 2].exp()[..., None]  # B×T×1
    wx = lay[..., 0:1] + g / zoom  # B×T×W world units (frame heights) about the centre
    wy = lay[..., 1:2] + g / zoom  # B×T×H
    cell = 1.0 / (size * FINE)

    def index(x, y):  # B×T×W, B×T×H -> flat field index B×T×H×W (nearest cell)
        # pixel centres fall on cell corners at zoom 1: +0.5 keeps the rounding away from them
        ix = (torch.floor(x / cell + 0.5).long() + n // 2) % n
        iy = (torch.floor(y / cell + 0.5).long() + n // 2) % n
        return iy[..., :, None] * n + ix[..., None, :]

    rx, ry = wx - lay[..., 3:4], wy - lay[..., 4:5]  # relative to the subject's centre
    inside = (rx.abs() <= lay[..., 6:7] * SUBJECT_MARGIN)[..., None, :] \
        & (ry.abs() <= lay[..., 5:6] / 2 * SUBJECT_MARGIN)[..., :, None]  # B×T×H×W
    flat = (b, 1, t * size * size)
    on_world = world.gather(2, index(wx, wy).reshape(flat).expand(b, channels, -1))
    on_subject = subject.gather(2, index(rx, ry).reshape(flat).expand(b, channels, -1))
    out = torch.where(inside.reshape(flat), on_subject, on_world).view(b, channels, t, size, size)
    has = (lay[..., 5] > 0).all(dim=1).view(b, 1, 1, 1, 1)
    return torch.where(has, out, iid).to(layout.device)
