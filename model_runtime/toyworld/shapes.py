"""Subject shapes as signed distance fields, and each subject's paint layers.

A subject lives in local coordinates: x right, y down, in units of its own height; its bounding box
spans y in [-0.5, 0.5] and is centred on x = 0. Parts are signed distance fields (negative inside),
which gives anti-aliased edges for free: coverage = clip(0.5 - sdf / pixel, 0, 1).
"""

from __future__ import annotations

import math

import numpy as np

from contract.errors import ToyworldError
from model_runtime.toyworld.appearance import COLOR_RGB, DARK_RGB


def _sd_circle(x, y, cx, cy, r):
    return np.hypot(x - cx, y - cy) - r


def _sd_ellipse(x, y, cx, cy, rx, ry):
    # first-order distance estimate; exact enough for one pixel of anti-aliasing
    k = np.hypot((x - cx) / rx, (y - cy) / ry)
    return (k - 1.0) * min(rx, ry)


def _sd_box(x, y, cx, cy, hw, hh, r=0.0):
    qx = np.abs(x - cx) - (hw - r)
    qy = np.abs(y - cy) - (hh - r)
    return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - r


def _sd_convex(x, y, verts):
    """Max of the edges' signed distances: exact inside, a close bound outside (convex polygons)."""
    v = np.asarray(verts, float)
    c = v.mean(axis=0)
    d = None
    for a, b in zip(v, np.roll(v, -1, axis=0), strict=True):
        n = np.array([b[1] - a[1], a[0] - b[0]])
        n /= np.hypot(*n)
        if np.dot(c - a, n) > 0:
            n = -n
        e = (x - a[0]) * n[0] + (y - a[1]) * n[1]
        d = e if d is None else np.maximum(d, e)
    return d


_STAR_R = 1.0 / (1.0 + math.cos(math.pi / 5))  # point up: bbox height R (1 + cos 36°) = 1
_STAR_CY = -0.5 + _STAR_R
_STAR_M = 3.0  # inner radius ≈ 0.47 R


def _sd_star(x, y):
    an, en = math.pi / 5, math.pi / _STAR_M
    px, py = x, _STAR_CY - y  # iq's star points along +y; ours points up the screen
    bn = np.mod(np.arctan2(px, py), 2 * an) - an
    r = np.hypot(px, py)
    qx = r * np.cos(bn) - _STAR_R * math.cos(an)
    qy = r * np.abs(np.sin(bn)) - _STAR_R * math.sin(an)
    t = np.clip(-(qx * math.cos(en) + qy * math.sin(en)), 0, _STAR_R * math.sin(an) / math.sin(en))
    qx = qx + math.cos(en) * t
    qy = qy + math.sin(en) * t
    return np.hypot(qx, qy) * np.sign(qx)


# Half width of each subject's bounding box (its height is 1): used to cull and by the evaluator.
SUBJECT_HALF_WIDTH = (0.5, 0.5, 0.55, _STAR_R * math.sin(2 * math.pi / 5), 0.7, 0.5, 0.42, 0.36)


def subject_layers(subject: int, rgb, x, y):
    """The subject as paint layers [(sdf, rgb)], bottom first, in local coordinates."""
    white, black = COLOR_RGB[4], COLOR_RGB[5]
    if subject == 0:
        return [(_sd_circle(x, y, 0, 0, 0.5), rgb)]
    if subject == 1:
        return [(_sd_box(x, y, 0, 0, 0.5, 0.5), rgb)]
    if subject == 2:
        return [(_sd_convex(x, y, [(0, -0.5), (0.55, 0.5), (-0.55, 0.5)]), rgb)]
    if subject == 3:
        return [(_sd_star(x, y), rgb)]
    if subject == 4:  # car: body and cabin in the color, two dark wheels below
        body = np.minimum(_sd_box(x, y, 0, 0.135, 0.7, 0.245, 0.08),
                          _sd_convex(x, y, [(-0.42, -0.08), (-0.3, -0.5), (0.25, -0.5), (0.45, -0.08)]))
        wheels = np.minimum(_sd_circle(x, y, -0.42, 0.38, 0.12), _sd_circle(x, y, 0.42, 0.38, 0.12))
        return [(body, rgb), (wheels, DARK_RGB)]
    if subject == 5:  # sailboat: two blunt-topped sails in the color, dark hull and mast
        sails = np.minimum(_sd_convex(x, y, [(-0.05, -0.5), (0.04, -0.5), (0.04, 0.4), (-0.44, 0.4)]),
                           _sd_convex(x, y, [(0.1, -0.4), (0.16, -0.4), (0.1, 0.4), (0.42, 0.4)]))
        hull = np.minimum(_sd_convex(x, y, [(-0.5, 0.4), (0.5, 0.4), (0.36, 0.5), (-0.36, 0.5)]),
                          _sd_box(x, y, 0.07, -0.05, 0.025, 0.45))
        return [(sails, rgb), (hull, DARK_RGB)]
    if subject == 6:  # panda, always black and white; white spans the full height, and so does black
        fur = np.minimum(_sd_circle(x, y, 0, -0.2, 0.3), _sd_ellipse(x, y, 0, 0.2, 0.4, 0.3))
        patches = np.minimum.reduce([
            _sd_circle(x, y, -0.24, -0.4, 0.1), _sd_circle(x, y, 0.24, -0.4, 0.1),
            _sd_ellipse(x, y, -0.11, -0.22, 0.07, 0.08), _sd_ellipse(x, y, 0.11, -0.22, 0.07, 0.08),
            _sd_ellipse(x, y, -0.3, 0.1, 0.12, 0.17), _sd_ellipse(x, y, 0.3, 0.1, 0.12, 0.17),
            _sd_circle(x, y, -0.22, 0.4, 0.1), _sd_circle(x, y, 0.22, 0.4, 0.1)])
        return [(fur, white), (patches, black)]
    if subject == 7:  # lantern: rounded body in the color, small dark caps
        body = _sd_box(x, y, 0, 0, 0.36, 0.45, 0.2)
        caps = np.minimum(_sd_box(x, y, 0, -0.47, 0.19, 0.03), _sd_box(x, y, 0, 0.47, 0.19, 0.03))
        return [(body, rgb), (caps, DARK_RGB)]
    raise ToyworldError("bad_scene", f"unknown subject index {subject}")

