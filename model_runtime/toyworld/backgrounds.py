"""Backgrounds: each one's gradient and texture as functions of world coordinates (so they move only
with the camera), held within MAX_DEV of its contract RGB and calibrated so that the empty frame's
mean is that RGB (../shared/TOYWORLD.md, "Vocabulary")."""

from __future__ import annotations

import math

import numpy as np

from contract.errors import ToyworldError
from contract.vocabulary import BACKGROUNDS

MAX_DEV = 44.0          # background pixels stay within this of the triple (contract: 50)


def _sin_sum(u, v):
    """sin(u + v), from the sines and cosines of u and v: when u varies only along x and v only
    along y (any camera here keeps world x a function of the column, y of the row), the trig runs
    on a row and a column instead of every pixel."""
    return np.sin(u) * np.cos(v) + np.cos(u) * np.sin(v)


def _waves(x, y, specs):
    """Sum of sinusoids: specs = [(wavelength, angle_deg, phase)], normalised to about [-1, 1]."""
    acc = 0.0
    for lam, ang, ph in specs:
        a, k = math.radians(ang), 2 * math.pi / lam
        acc = acc + _sin_sum(x * (math.cos(a) * k) + ph, y * (math.sin(a) * k))
    return acc / len(specs)


def _cells(x, y, cell, salt):
    """Per-cell hashed uniforms (u1, u2, u3) and the position inside the cell, for sparse dots."""
    i = np.floor(x / cell).astype(np.int64)
    j = np.floor(y / cell).astype(np.int64)
    h = (i * 73856093) ^ (j * 19349663) ^ salt
    h = (h ^ (h >> 13)) * 1274126177
    h = h ^ (h >> 16)
    u = [((h >> s) & 1023) / 1023.0 for s in (0, 10, 20)]
    fx = x / cell - i
    fy = y / cell - j
    return u, fx, fy


def _dots(x, y, cell, radius, density, salt):
    """Soft round dots scattered one per cell (stars, snowflakes), values in [0, 1]."""
    (u1, u2, u3), fx, fy = _cells(x, y, cell, salt)
    dx = (fx - (0.3 + 0.4 * u1)) * cell
    dy = (fy - (0.3 + 0.4 * u2)) * cell
    on = u3 < density
    return np.where(on, np.exp(-(dx * dx + dy * dy) / (2 * radius * radius)), 0.0) * (0.6 + 0.4 * u3 / density)


_NOISE = [(0.23, 17, 0.3), (0.31, 81, 1.7), (0.19, 139, 4.1), (0.41, 205, 2.2)]


def _background_fields(b: int, x, y, tx, ty):
    """[(scalar field, RGB direction)] making up background b's deviation from its mean color.
    x, y: world coordinates (gradients); tx, ty: the same shifted by the seed's texture phase.
    Budget: gradient ≤ ~12 and texture ≤ ~32 from the triple, so the evaluator can tell any pixel
    more than 60 away from the local background for subject; features are ≥ ~0.15 H so they survive
    at 32 px and a zoom out (the evaluator tracks them to measure the camera)."""
    gy = np.clip(y - 0.5, -0.6, 0.6)
    noise = _waves(tx, ty, _NOISE)
    if b == 0:  # blue sky: lighter towards the horizon, soft clouds
        cloud = np.clip(1.6 * _waves(tx, ty, [(0.55, 5, 0.0), (0.37, 70, 1.3), (0.47, 140, 2.6)]) - 0.1, 0, 1)
        return [(gy, (16, 12, 3)), (cloud, (24, 18, 4)), (noise, (6, 6, 4))]
    if b == 1:  # sunset: warm bands, a low sun
        bands = _sin_sum(ty * (2 * math.pi / 0.2), 0.12 * 2 * math.pi * np.sin(tx * 2 * math.pi / 0.45))
        sun = np.clip(1.3 - np.hypot(tx % 1.5 - 0.75, y - 0.62) / 0.12, 0, 1)
        return [(gy, (4, 16, 8)), (bands, (5, 12, 10)), (sun, (12, 24, 10)), (noise, (6, 6, 4))]
    if b == 2:  # night: stars in a faint nebula
        stars = _dots(tx, ty, 0.14, 0.028, 0.75, 1)
        return [(gy, (3, 4, 10)), (stars, (24, 24, 21)), (noise, (6, 6, 14))]
    if b == 3:  # sea: wave crests, deeper blue lower down
        crest = _sin_sum(ty * (2 * math.pi / 0.2), 0.15 * 2 * math.pi * np.sin(tx * 2 * math.pi / 0.37))
        return [(gy, (-4, -10, -14)), (crest, (10, 16, 14)), (noise, (6, 8, 10))]
    if b == 4:  # grass: blades
        blades = _sin_sum(tx * (2 * math.pi / 0.15), 0.2 * 2 * math.pi * np.sin(ty * 2 * math.pi / 0.3))
        return [(gy, (6, 14, 4)), (blades, (8, 18, 6)), (noise, (6, 10, 5))]
    if b == 5:  # snow: bluish drifts and bright flakes
        flakes = _dots(tx, ty, 0.14, 0.028, 0.6, 2)
        return [(gy, (-4, -3, -1)), (noise, (-20, -16, -6)), (flakes, (22, 18, 13))]
    if b == 6:  # desert: dunes
        dunes = _sin_sum(ty * (2 * math.pi / 0.22), 0.2 * 2 * math.pi * np.sin(tx * 2 * math.pi / 0.6))
        return [(gy, (8, 8, 6)), (dunes, (16, 16, 14)), (noise, (6, 6, 5))]
    if b == 7:  # studio: backdrop panels, a floor line, a darker floor
        floor = (y > 0.72).astype(np.float32)
        line = np.exp(-((y - 0.72) / 0.03) ** 2)
        seams = np.exp(-(((tx % 0.3) - 0.15) / 0.03) ** 2) * (y < 0.68)
        spots = _waves(tx, ty, [(0.5, 30, 0.4), (0.42, 100, 2.0), (0.6, 160, 4.4)])  # soft lights
        return [(floor, (-10, -10, -10)), (line, (-18, -18, -18)), (seams, (-12, -12, -12)),
                (spots, (10, 10, 9)), (noise, (6, 6, 6))]
    raise ToyworldError("bad_scene", f"unknown background index {b}")


def background_dev(b: int, x, y, tx, ty) -> np.ndarray:
    shape = np.broadcast(x, y, tx, ty).shape
    dev = np.zeros(shape + (3,), np.float32)
    for f, v in _background_fields(b, x, y, tx, ty):
        dev += np.asarray(f, np.float32)[..., None] * np.asarray(v, np.float32)
    dev -= _BG_BIAS[b]
    # never let texture and gradient together stray past MAX_DEV from the triple (contract: 50)
    norm = np.sqrt(np.einsum("...c,...c->...", dev, dev))[..., None]
    return dev * np.minimum(1.0, MAX_DEV / np.maximum(norm, 1e-6))


def _calibrate_bias() -> np.ndarray:
    """Mean texture deviation over many phases, subtracted so the empty frame's mean is the triple."""
    y = ((np.arange(64) + 0.5) / 64)[None, :, None]
    x = ((np.arange(256) + 0.5) / 32)[None, None, :]  # 8 frame widths of phase
    ty = y + np.array([0.0, 0.29, 0.61, 0.83])[:, None, None]  # and a few vertical phases
    out = np.zeros((len(BACKGROUNDS), 3), np.float32)
    for b in range(len(BACKGROUNDS)):
        dev = np.zeros((4, 64, 256, 3), np.float32)
        for f, v in _background_fields(b, x, y, x, ty):
            dev += np.asarray(f, np.float32)[..., None] * np.asarray(v, np.float32)
        out[b] = dev.reshape(-1, 3).mean(0)
    return out


_BG_BIAS = _calibrate_bias()
