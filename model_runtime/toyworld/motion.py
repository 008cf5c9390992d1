"""Motion and camera over the whole clip (../shared/TOYWORLD.md, "Motion, physics and camera"): the
camera's and the subject's paths, the draws a seed makes for them, and the clip's ground-truth track.

Geometry: world units are frame heights H. At a static camera the frame shows world [0,1]×[0,1]
(x right, y down). A camera has a centre (cx, cy) and a zoom z; frame point (u, v) in [0,1]² shows
world (cx + (u-0.5)/z, cy + (v-0.5)/z).
"""

from __future__ import annotations

import math

import numpy as np

from contract.errors import ToyworldError
from contract.vocabulary import Scene
from model_runtime.toyworld.appearance import SIZE_FRACTION
from model_runtime.toyworld.scenes import check_scene
from model_runtime.toyworld.shapes import SUBJECT_HALF_WIDTH

# In H and frames; "over the whole clip" = frames 0 .. T-1.
FPS = 8                 # T frames (16 by default) over 2 s
TRAVEL = 0.5            # subject path and camera travel
ZOOM = 1.6              # total zoom factor, spread symmetrically around the middle frame
FLOOR = 0.9             # bouncing: the subject's bottom touches y = FLOOR
GRAVITY = 0.052         # H / frame²: the widest drop lands after ~5 frames, a second impact by ~13
RESTITUTION = 0.8


def _progress(frames: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, frames) if frames > 1 else np.array([0.5])


def camera_path(camera: int, frames: int):
    """Per frame: camera centre (cx, cy) in world H units and zoom z."""
    p = _progress(frames)
    cx = np.full(frames, 0.5)
    cy = np.full(frames, 0.5)
    z = np.ones(frames)
    travel = TRAVEL * (p - 0.5)  # centred: the middle frame looks at the centre
    if camera == 1:
        cx = 0.5 - travel   # camera pans left: content moves right
    elif camera == 2:
        cx = 0.5 + travel
    elif camera == 3:
        cy = 0.5 - travel   # camera tilts up: content moves down
    elif camera == 4:
        cy = 0.5 + travel
    elif camera == 5:
        z = ZOOM ** (p - 0.5)   # 1.6x in total, symmetric around the middle frame
    elif camera == 6:
        z = ZOOM ** (0.5 - p)
    elif camera != 0:
        raise ToyworldError("bad_scene", f"unknown camera index {camera}")
    return cx, cy, z


def bounce_path(y0: float, y_floor: float, frames: int) -> np.ndarray:
    """Centre height of a subject dropped from rest at y0 that bounces on a floor (centre at y_floor)."""
    ys = np.empty(frames)
    t_hit = math.sqrt(2 * max(y_floor - y0, 1e-9) / GRAVITY)
    v_up = GRAVITY * t_hit * RESTITUTION
    for k in range(frames):
        t = float(k)
        if t <= t_hit:
            ys[k] = y0 + 0.5 * GRAVITY * t * t
            continue
        t0, v = t_hit, v_up
        while True:
            flight = 2 * v / GRAVITY
            if t <= t0 + flight or flight < 1e-3:
                s = t - t0
                ys[k] = y_floor - v * s + 0.5 * GRAVITY * s * s if flight >= 1e-3 else y_floor
                break
            t0 += flight
            v *= RESTITUTION
    return np.minimum(ys, y_floor)


def subject_path(scene: Scene, frames: int, rng: np.random.Generator):
    """Subject centre per frame in world H units (x, y)."""
    h = SIZE_FRACTION[scene.size]
    p = _progress(frames)
    jx, jy = rng.uniform(-0.03, 0.03, size=2)
    x = np.full(frames, 0.5 + jx)
    y = np.full(frames, 0.5 + jy)
    step = TRAVEL * (p - 0.5)
    if scene.motion == 1:
        x = 0.5 + jx - step
    elif scene.motion == 2:
        x = 0.5 + jx + step
    elif scene.motion == 3:
        y = 0.5 + jy - step
    elif scene.motion == 4:
        y = 0.5 + jy + step
    elif scene.motion == 5:
        top = rng.uniform(0.03, 0.08)
        y = bounce_path(top + h / 2, FLOOR - h / 2, frames)
    elif scene.motion != 0:
        raise ToyworldError("bad_scene", f"unknown motion index {scene.motion}")
    return x, y


def seed_paths(scene: Scene, seed: int, frames: int):
    """The seed's draws, in the renderer's order: texture phase, camera path, subject path."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 8, size=2)
    return phase, camera_path(scene.camera, frames), subject_path(scene, frames, rng)


# The columns of a track: camera centre and log zoom, subject centre, height and half width.
TRACK_FIELDS = ("camera_x", "camera_y", "log_zoom", "subject_x", "subject_y", "subject_h", "subject_half_w")


def subject_track(scene: Scene, seed: int, frames: int = 16) -> np.ndarray:
    """Where the camera and the subject are in each frame of the clip `render(scene, seed)` draws:
    float32 T×7 in world H units about the world centre (TRACK_FIELDS), the annotation a real dataset
    gets from a tracker and camera-pose estimation. The subject's size columns are always > 0."""
    check_scene(scene)
    _, (cx, cy, z), (sx, sy) = seed_paths(scene, seed, frames)
    h = SIZE_FRACTION[scene.size]
    cols = [cx - 0.5, cy - 0.5, np.log(z), sx - 0.5, sy - 0.5,
            np.full(frames, h), np.full(frames, SUBJECT_HALF_WIDTH[scene.subject] * h)]
    return np.stack(cols, axis=1).astype(np.float32)
