"""Conform one frame to the output raster: scale with a quality filter, then letterbox or crop.

The model's frames are 32 px, so delivery means 20-60x upscales. Compared side by side on toy
frames, one-pass bicubic and Lanczos at such factors leave a lattice of blocky interpolation steps
along edges (and Lanczos rings); a bicubic pass to 4x followed by a bilinear pass to the final size
reads as a soft, clean picture. That two-stage "smooth" filter is the default. Downscales
use INTER_AREA (proper pixel averaging, no aliasing).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FITS = ("letterbox", "crop")
SCALERS = ("smooth", "sharp", "pixel")
_STAGE1_FACTOR = 4  # the bicubic stage of a two-stage upscale goes this far, then bilinear


@dataclass(frozen=True)
class Placement:
    """Where a w×h source lands on the W×H canvas: scaled to (sw, sh), then its (cx, cy) corner
    cut out (crop) or drawn at (x, y) (letterbox)."""

    sw: int
    sh: int
    x: int  # paste offset on the canvas (letterbox), >= 0
    y: int
    cx: int  # crop offset in the scaled image (crop), >= 0
    cy: int


def placement(src_w: int, src_h: int, width: int, height: int, fit: str = "letterbox") -> Placement:
    """Scale to fit inside (letterbox: bars on two sides) or to cover (crop: centre cut), keeping the
    source aspect. Sizes are rounded to whole pixels and never exceed the canvas when letterboxing."""
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, not {fit!r}")
    sx, sy = width / src_w, height / src_h
    s = min(sx, sy) if fit == "letterbox" else max(sx, sy)
    sw = max(1, round(src_w * s))
    sh = max(1, round(src_h * s))
    if fit == "letterbox":
        sw, sh = min(sw, width), min(sh, height)
        return Placement(sw, sh, (width - sw) // 2, (height - sh) // 2, 0, 0)
    sw, sh = max(sw, width), max(sh, height)
    return Placement(sw, sh, 0, 0, (sw - width) // 2, (sh - height) // 2)


def scale(frame: np.ndarray, sw: int, sh: int, scaler: str = "smooth") -> np.ndarray:
    """Resize H×W×3 uint8 to sh×sw with the chosen quality filter."""
    h, w = frame.shape[:2]
    if (w, h) == (sw, sh):
        return frame
    if scaler not in SCALERS:
        raise ValueError(f"scaler must be one of {SCALERS}, not {scaler!r}")
    if scaler == "pixel":
        return cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_NEAREST)
    if sw <= w and sh <= h:
        return cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
    if scaler == "sharp":
        return cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_LANCZOS4)
    # smooth: bicubic to at most 4x, bilinear the rest of the way
    mw, mh = min(sw, w * _STAGE1_FACTOR), min(sh, h * _STAGE1_FACTOR)
    if (mw, mh) != (sw, sh) and mw > w and mh > h:
        frame = cv2.resize(frame, (mw, mh), interpolation=cv2.INTER_CUBIC)
        return cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_CUBIC)


def conform(
    frame: np.ndarray, width: int, height: int, fit: str = "letterbox", scaler: str = "smooth"
) -> np.ndarray:
    """One H×W×3 uint8 frame -> height×width×3 uint8 on the output raster (black bars or crop)."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    p = placement(w, h, width, height, fit)
    scaled = scale(frame, p.sw, p.sh, scaler)
    if fit == "crop":
        return np.ascontiguousarray(scaled[p.cy : p.cy + height, p.cx : p.cx + width])
    if (p.sw, p.sh) == (width, height):
        return scaled
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[p.y : p.y + p.sh, p.x : p.x + p.sw] = scaled
    return canvas
