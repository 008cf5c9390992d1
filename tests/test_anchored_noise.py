"""Anchored noise: every frame is standard Gaussian noise, and the noise moves as the layout says."""

import numpy as np
import pytest
import torch

from model_runtime import toyworld as tw
from model_runtime.anchored_noise import anchored_noise
from model_runtime.subject_plan import plan_maps

SIZE = 32


def _layout(camera: int, motion: int = 0, size: int = 0) -> torch.Tensor:
    return torch.from_numpy(tw.subject_track(tw.Scene(subject=0, color=0, background=0, size=size, motion=motion, camera=camera), seed=1))  # a ball in the sky


def _noise(*layouts, seed=0):
    return anchored_noise(torch.stack(layouts), 3, SIZE, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("camera", range(7))
def test_every_frame_is_standard_gaussian_with_a_cell_per_pixel(camera):
    n = _noise(*[_layout(camera, motion=m) for m in range(6)])
    assert n.shape == (6, 3, 16, SIZE, SIZE)
    # no pixel shares a cell with its neighbour, even zoomed in 1.6x (a shared cell repeats the value)
    assert not bool((n[..., 1:] == n[..., :-1]).any()) and not bool((n[..., 1:, :] == n[..., :-1, :]).any())
    assert abs(float(n.mean())) < 0.02 and float(n.std()) == pytest.approx(1.0, abs=0.02)


def test_background_noise_moves_with_the_camera():
    lay = _layout(camera=2)  # pans right: the world slides left by 0.5 H = 16 px over the clip
    n = _noise(lay)[0]
    box = plan_maps(lay[None], SIZE)[0, 3] > 0  # T×H×W, the subject's box
    around = torch.nn.functional.max_pool2d(box.float(), 9, stride=1, padding=4) > 0  # and its margin
    first, last = n[:, 0, :, 16:], n[:, -1, :, :16]  # the same stretch of world
    clear = ~(around[0, :, 16:] | around[-1, :, :16])
    assert clear.float().mean() > 0.5
    torch.testing.assert_close(first[:, clear], last[:, clear], atol=1e-4, rtol=0)
    assert not torch.equal(n[:, 0], n[:, -1])


def test_subject_noise_travels_with_the_subject():
    lay = _layout(camera=0, motion=2, size=2)  # close-up, moving right 16 px, static camera
    n = _noise(lay)[0]
    box = plan_maps(lay[None], SIZE)[0, 3] > 0.99
    # the subject's first-frame box, 16 px to the right in the last frame
    core = box[0, :, :16] & box[-1, :, 16:]
    assert core.sum() > 20
    torch.testing.assert_close(n[:, 0, :, :16][:, core], n[:, -1, :, 16:][:, core], atol=1e-4, rtol=0)
    # the background, static, keeps its noise where the subject is in neither frame
    bg = ~(plan_maps(lay[None], SIZE)[0, 3] > 0).any(dim=0)
    bg &= ~torch.nn.functional.max_pool2d((~bg).float()[None], 9, stride=1, padding=4)[0].bool()
    assert bg.sum() > 100
    torch.testing.assert_close(n[:, 0][:, bg], n[:, -1][:, bg], atol=1e-4, rtol=0)


def test_static_shot_repeats_its_noise_and_no_layout_is_iid():
    still = _layout(camera=0)
    n = _noise(still, torch.zeros_like(still))
    assert all(torch.equal(n[0, :, 0], n[0, :, k]) for k in range(16))
    c = np.corrcoef(n[1, :, 0].flatten().numpy(), n[1, :, 1].flatten().numpy())[0, 1]
    assert abs(c) < 0.1  # the row without a layout: fresh noise every frame
    assert torch.equal(n, _noise(still, torch.zeros_like(still)))
    assert not torch.equal(n, _noise(still, torch.zeros_like(still), seed=1))


def test_anchored_noise_needs_a_layout_model():
    from model_runtime.uvit import UViTConfig

    with pytest.raises(ValueError, match="needs layout"):
        UViTConfig(anchored_noise=True)
    assert UViTConfig.from_dict(UViTConfig(layout=True, anchored_noise=True).to_dict()).anchored_noise


@pytest.mark.parametrize("camera", [5, 6])
def test_a_zoom_keeps_the_coarse_pattern_of_the_noise(camera):
    """The same stretch of world carries the same total noise in the first and the last frame of a zoom
    (pixels integrate the field over their footprints; reading one cell per pixel would scramble it)."""
    lay = _layout(camera=camera)  # zooms in (5) or out (6) by 1.6 about the centre: 20 px <-> 32 px
    n = anchored_noise(lay[None].repeat(300, 1, 1), 1, SIZE, torch.Generator().manual_seed(0))[:, 0]
    wide, close = (0, -1) if camera == 5 else (-1, 0)
    a = n[:, wide, 6:26, 6:26].sum(dim=(1, 2)) / 20  # the central 20×20 px ...
    b = n[:, close].sum(dim=(1, 2)) / 32  # ... fill the whole 32×32 frame at the other end
    mask = (plan_maps(lay[None], SIZE)[0, 3] == 0).all(dim=0)  # nowhere near the subject: no such pixels
    assert not bool(mask[6:26, 6:26].all())  # (the subject sits in the centre; its field zooms the same way)
    assert float(torch.corrcoef(torch.stack([a, b]))[0, 1]) > 0.9
