"""The renderer: a scene and a seed -> the clip (uint8 T×H×W×3), at any height and frame aspect
(../shared/TOYWORLD.md, "Canvas": sizes are fractions of H, so a wider frame shows more world)."""

from __future__ import annotations

import numpy as np

from contract.aspects import frame_width
from contract.errors import ToyworldError
from contract.vocabulary import Scene
from model_runtime.toyworld.appearance import BACKGROUND_RGB, COLOR_RGB, SIZE_FRACTION
from model_runtime.toyworld.backgrounds import background_dev
from model_runtime.toyworld.motion import camera_path, seed_paths
from model_runtime.toyworld.scenes import check_scene
from model_runtime.toyworld.shapes import SUBJECT_HALF_WIDTH, subject_layers


def _frame_offsets(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres as offsets from the frame's centre in frame heights: columns (W), rows (H)."""
    gx = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / height
    gy = (np.arange(height, dtype=np.float32) + 0.5 - height / 2) / height
    return gx, gy



def render(scene: Scene, seed: int, size: int = 32, frames: int = 16, aspect: str = "1:1") -> np.ndarray:
    """The clip of `scene`: uint8 array T×H×W×3 with H = size and W = frame_width(size, aspect).
    Same scene, seed and frame count → same clip at any size and aspect (sizes are fractions of H)."""
    check_scene(scene)
    if size < 16:
        raise ToyworldError("bad_size", f"size must be at least 16 pixels, got {size}")
    if frames < 1:
        raise ToyworldError("bad_frames", f"frames must be at least 1, got {frames}")
    width = frame_width(size, aspect)
    phase, (cx, cy, z), (sx, sy) = seed_paths(scene, seed, frames)

    gx, gy = _frame_offsets(size, width)
    zc = z[:, None, None].astype(np.float32)
    wx = cx[:, None, None].astype(np.float32) + gx[None, None, :] / zc   # T×1×W
    wy = cy[:, None, None].astype(np.float32) + gy[None, :, None] / zc   # T×H×1
    img = background_dev(scene.background, wx, wy, wx + phase[0], wy + phase[1])
    img += np.asarray(BACKGROUND_RGB[scene.background], np.float32)

    # Subject: only the rows and columns its bounding box can touch (culling keeps wide shots cheap).
    h = SIZE_FRACTION[scene.size]
    hw = SUBJECT_HALF_WIDTH[scene.subject] * h
    lx = (wx - sx[:, None, None]) / h
    ly = (wy - sy[:, None, None]) / h
    pix = 1.0 / (size * zc * h)  # one pixel in local units
    cols = np.nonzero((np.abs(wx - sx[:, None, None]) < hw + 2.0 / (size * zc)).any(axis=(0, 1)))[0]
    rows = np.nonzero((np.abs(wy - sy[:, None, None]) < h / 2 + 2.0 / (size * zc)).any(axis=(0, 2)))[0]
    if len(cols) and len(rows):
        c0, c1, r0, r1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
        x = np.broadcast_to(lx[:, :, c0:c1], (frames, r1 - r0, c1 - c0))
        y = np.broadcast_to(ly[:, r0:r1, :], (frames, r1 - r0, c1 - c0))
        region = img[:, r0:r1, c0:c1]
        for sdf, rgb in subject_layers(scene.subject, COLOR_RGB[scene.color], x, y):
            a = np.clip(0.5 - sdf / pix, 0.0, 1.0)[..., None].astype(np.float32)
            region += a * (np.asarray(rgb, np.float32) - region)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def empty_frames(background: int, camera: int, seed: int, size: int = 32, frames: int = 16,
                 aspect: str = "1:1") -> np.ndarray:
    """The background alone (for tests of the background contract)."""
    phase = np.random.default_rng(seed).uniform(0, 8, size=2)  # seed_paths' first draw: render's texture
    cx, cy, z = camera_path(camera, frames)
    gx, gy = _frame_offsets(size, frame_width(size, aspect))
    wx = (cx[:, None, None] + gx[None, None, :] / z[:, None, None]).astype(np.float32)
    wy = (cy[:, None, None] + gy[None, :, None] / z[:, None, None]).astype(np.float32)
    img = background_dev(background, wx, wy, wx + phase[0], wy + phase[1]) + np.asarray(
        BACKGROUND_RGB[background], np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)

