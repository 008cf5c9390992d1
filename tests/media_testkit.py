"""Small frame arrays and projects for the studio.media tests (no model involved)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.project.schema import (
    FrameTime,
    GenParams,
    ProjectData,
    ProjectSettings,
    Shot,
    Take,
    Timeline,
    TimelineClip,
    Transition,
)


def solid(color, n=16, h=32, w=32) -> np.ndarray:
    return np.broadcast_to(np.array(color, np.uint8), (n, h, w, 3)).copy()


def ramp(n=16, h=32, w=32, step=10) -> np.ndarray:
    """Frame i is the grey level i*step: the frame index can be read back from any pixel."""
    return (
        (np.arange(n, dtype=np.int64) * step)
        .clip(0, 255)
        .astype(np.uint8)[:, None, None, None]
        .repeat(h, 1)
        .repeat(w, 2)
        .repeat(3, 3)
    )


def textured(n=16, h=32, w=32, seed=0) -> np.ndarray:
    """Smooth moving colour blobs, like the toy world's frames (for encoder quality checks)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((n, h, w, 3), np.uint8)
    cx, cy = rng.uniform(0.3, 0.7, 2) * (w, h)
    for i in range(n):
        bx, by = cx + i * w / (4 * n), cy
        blob = np.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * (0.18 * w) ** 2))
        out[i, ..., 0] = (60 + 180 * blob).astype(np.uint8)
        out[i, ..., 1] = (40 + 120 * (x / w)).astype(np.uint8)
        out[i, ..., 2] = (200 - 150 * blob * (y / h)).astype(np.uint8)
    return out


def make_project(folder: Path, clips: list[dict], fps=24.0, width=64, height=36) -> ProjectData:
    """A project folder with one shot per clip spec: {"frames": array, "prompt", "seed", "in_s",
    "out_s", "transition", "transition_s"} (seconds, stored as frames at `fps`); each take stored
    as media/<stem>.npy."""
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    shots, tl = [], []
    for i, spec in enumerate(clips):
        frames = spec["frames"]
        stem = f"shot{i + 1}_take1"
        np.save(media / f"{stem}.npy", frames)
        params = GenParams(
            prompt=spec.get("prompt", f"a red ball {i}"),
            seed=spec.get("seed", 100 + i),
            negative_prompt=spec.get("negative_prompt", ""),
            steps=12,
            guidance=4.5,
            sampler="ddim",
        )
        take = Take(
            clip=f"media/{stem}.mp4",
            frames_file=f"media/{stem}.npy",
            poster=f"media/{stem}.png",
            params=params,
            model_id="uvit-toy",
            checkpoint_hash="abc123",
            fps=8.0,
            frames=len(frames),
            width=frames.shape[2],
            height=frames.shape[1],
        )
        transition = Transition(
            kind=spec.get("transition", "cut"),
            duration=FrameTime.from_seconds(spec.get("transition_s", 0.0), fps),
        )
        shot = Shot(params=params, takes=[take], chosen_take=take.id, transition=transition)
        shots.append(shot)
        out_s = spec.get("out_s")
        tl.append(
            TimelineClip(
                shot_id=shot.id,
                take_id=take.id,
                in_point=FrameTime.from_seconds(spec.get("in_s", 0.0), fps),
                out_point=None if out_s is None else FrameTime.from_seconds(out_s, fps),
            )
        )
    return ProjectData(
        title="Test film",
        settings=ProjectSettings(fps=fps, width=width, height=height),
        shots=shots,
        timeline=Timeline(clips=tl),
    )
