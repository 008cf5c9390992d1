"""Picture-quality figures of a clip, beside prompt adherence (evaluate.py): how rough its backgrounds
are, how faithful a reconstruction is, and whether a chain of clips shows its seams.

- roughness: mean |Laplacian| of the luminance over background pixels (the subject and a margin
  around it masked out). Grain and a patch grid raise it; the renderer's smooth gradients and soft
  textures keep it low, so a generated clip's roughness over the renderer's at the same size says how
  clean its backgrounds are.
- step PSNR: the PSNR between consecutive frames. At a seam (where a chain's next clip starts, or
  a continued shot begins) it should be no lower than elsewhere in the shot: `seam_drop` is the
  shot's median step PSNR minus the seam's.
"""

from __future__ import annotations

import cv2
import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 arrays of one shape (inf when equal)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def luminance(clip: np.ndarray) -> np.ndarray:
    return np.asarray(clip, np.float32) @ _LUMA


def roughness(clip: np.ndarray, subject: np.ndarray | None = None, margin: int = 3) -> float:
    """Mean |Laplacian| of luminance (T×H×W×3 uint8) over the pixels away from the subject mask (T×H×W,
    grown by `margin` px) and the frame's 1-px border."""
    y = luminance(clip)
    lap = np.abs(np.stack([cv2.Laplacian(f, cv2.CV_32F, ksize=1) for f in y]))
    keep = np.ones(y.shape, bool)
    keep[:, [0, -1]] = False
    keep[:, :, [0, -1]] = False
    if subject is not None:
        k = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
        keep &= ~np.stack([cv2.dilate(m.astype(np.uint8), k) for m in subject]).astype(bool)
    return float(lap[keep].mean()) if keep.any() else float("nan")


def step_psnr(clip: np.ndarray) -> np.ndarray:
    """PSNR of each frame against the one before: T-1 values; entry i is the step into frame i+1."""
    c = np.asarray(clip, np.float64)
    mse = ((c[1:] - c[:-1]) ** 2).reshape(len(c) - 1, -1).mean(axis=1)
    return 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))


def seam_drop(clip: np.ndarray, seams: list[int]) -> list[float]:
    """For each seam frame index s (the first frame of a new part), the shot's median step PSNR
    minus the PSNR of the step into frame s. ≤ 2 dB: no visible seam."""
    steps = step_psnr(clip)
    med = float(np.median(steps))
    return [med - float(steps[s - 1]) for s in seams if 1 <= s < len(clip)]


def chain_seams(total: int, native: int, extend: int) -> list[int]:
    """Frame indices where the parts of a chained take (Generator.parts_for) begin: the first part
    gives `native` frames, every later one native - extend new frames."""
    seams, at = [], native
    while at < total:
        seams.append(at)
        at += native - extend
    return seams
