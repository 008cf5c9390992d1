"""The camera move of a clip, read from how its background moves (TOYWORLD.md: "the camera is the
dominant optical flow of the background"): a global zoom-and-shift model between consecutive frames,
fitted by Gauss-Newton on brightness constancy with the subject masked out, then accumulated over
the clip and classified. Part of the scorer (evaluate.py)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from model_runtime import toyworld as tw


def _blur(f: np.ndarray) -> np.ndarray:
    k = np.array([1, 2, 1], np.float32) / 4
    g = np.pad(f, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    g = k[0] * g[:, :-2] + k[1] * g[:, 1:-1] + k[2] * g[:, 2:]
    return k[0] * g[:, :, :-2] + k[1] * g[:, :, 1:-1] + k[2] * g[:, :, 2:]


def _warp(src: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Bilinear samples of each src[p] (H×W×C float32) at pixel coordinates (px[p], py[p])."""
    return np.stack([cv2.remap(src[p], px[p], py[p], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                     for p in range(len(src))])


def estimate_camera(f: np.ndarray, subject: np.ndarray, iters: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Global motion of the background between consecutive frames: content at x in frame t appears
    at c + s_t (x - c) + d_t in frame t+1 (c = frame centre). Gauss-Newton on the brightness
    constancy of the textured background (luminance), all frame pairs at once, with the subject
    masked out and robust weights. Returns s (P,), d (P×2) in pixels, P = T - 1."""
    T, H, W, _ = f.shape
    P = T - 1
    if P < 1:
        return np.ones(0), np.zeros((0, 2))
    g = _blur(f @ np.array([[0.3], [0.55], [0.15]], np.float32))
    gx = np.zeros_like(g)
    gy = np.zeros_like(g)
    gx[:, :, 1:-1] = (g[:, :, 2:] - g[:, :, :-2]) / 2
    gy[:, 1:-1] = (g[:, 2:] - g[:, :-2]) / 2
    src = np.ascontiguousarray(np.concatenate([g[:-1], gx[:-1], gy[:-1]], axis=-1))  # frame t, gradients
    dst = g[1:, ..., 0]
    # the subject, its blur and a frame's motion away: 3 px around it
    busy = np.stack([cv2.dilate(m, np.ones((7, 7), np.uint8)) for m in subject.astype(np.uint8)]).astype(bool)
    keep = ~(busy[:-1] | busy[1:])
    keep[:, :2] = keep[:, -2:] = False
    keep[:, :, :2] = keep[:, :, -2:] = False
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    cx, cy = (W - 1) / 2, (H - 1) / 2
    s = np.ones(P, np.float32)
    d = np.zeros((P, 2), np.float32)
    for _ in range(iters):
        inv = (1 / s)[:, None, None]
        px = cx + (xx[None] - cx - d[:, 0, None, None]) * inv
        py = cy + (yy[None] - cy - d[:, 1, None, None]) * inv
        smp = _warp(src, px.astype(np.float32), py.astype(np.float32))
        inside = (px > 1) & (px < W - 2) & (py > 1) & (py < H - 2) & keep
        e = smp[..., 0] - dst
        # robust weights: what the background model cannot explain (a missed part of the subject)
        # must not pull the estimate
        w = inside / np.maximum(1.0, np.abs(e) / 8.0)
        fx, fy = smp[..., 1] * inv * w, smp[..., 2] * inv * w
        J = np.stack([fx * (px - cx) + fy * (py - cy), fx, fy], axis=-1).reshape(P, -1, 3)
        JtJ = np.matmul(J.transpose(0, 2, 1), J) + 1e-2 * np.eye(3, dtype=np.float32)
        Jte = np.matmul(J.transpose(0, 2, 1), (e * w).reshape(P, -1, 1))
        step = np.linalg.solve(JtJ, Jte)[..., 0]  # J here is -dE/dp, hence no minus sign
        step = np.clip(step, [-0.05, -1.5, -1.5], [0.05, 1.5, 1.5])
        s = s + step[:, 0]
        d = d + step[:, 1:]
        if np.abs(step).max() < 2e-3:
            break
    return s, d


def _accumulate(s: np.ndarray, d: np.ndarray):
    """Cumulative transform from frame 0: x_t = c + S_t (x_0 - c) + D_t."""
    T = len(s) + 1
    S = np.ones(T)
    D = np.zeros((T, 2))
    for t in range(T - 1):
        S[t + 1] = s[t] * S[t]
        D[t + 1] = s[t] * D[t] + d[t]
    return S, D


def classify_camera(S: np.ndarray, D: np.ndarray, H: int) -> int:
    zoom = math.log(S[-1]) if len(S) else 0.0
    if abs(zoom) > 0.5 * math.log(tw.ZOOM):
        return 5 if zoom > 0 else 6
    dx, dy = D[-1] / H if len(D) else (0.0, 0.0)
    if max(abs(dx), abs(dy)) < 0.5 * tw.TRAVEL:
        return 0
    if abs(dx) >= abs(dy):
        return 1 if dx > 0 else 2   # content moving right: the camera pans left
    return 3 if dy > 0 else 4       # content moving down: the camera tilts up
