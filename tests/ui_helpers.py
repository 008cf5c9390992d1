"""Builders for the UI tests (not a test module): projects on disk whose takes have real frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.project import store
from studio.project.document import ProjectDocument
from studio.project.schema import FrameTime, GenParams, ProjectData, ProjectSettings, Shot, Take, TimelineClip

TAKE_FPS = 8.0
TAKE_FRAMES = 16  # 2 s at 8 fps


def take_frames(tag: int, frames: int = TAKE_FRAMES, size: int = 32) -> np.ndarray:
    """Frames that say who they are: red = frame index * 10, green = the take's tag."""
    arr = np.zeros((frames, size, size, 3), np.uint8)
    arr[..., 0] = (np.arange(frames) * 10 % 256)[:, None, None].astype(np.uint8)
    arr[..., 1] = tag % 256
    arr[..., 2] = 40
    return arr


def write_take(folder: Path, params: GenParams, tag: int, frames: int = TAKE_FRAMES) -> Take:
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    np.save(media / f"take{tag}.npy", take_frames(tag, frames))
    return Take(clip=f"media/take{tag}.mp4", frames_file=f"media/take{tag}.npy", params=params.model_copy(),
                fps=TAKE_FPS, frames=frames, width=32, height=32, model_id="toy", checkpoint_hash="abc")


def project_on_disk(tmp_path: Path, n_shots: int = 3, takes_per_shot: int = 2, on_timeline: bool = True,
                    fps: float = 24.0) -> ProjectDocument:
    """A saved project: shots with takes (frames on disk); the first take of each shot chosen and on
    the timeline (all cuts, untrimmed) when `on_timeline`."""
    folder = tmp_path / "Test.vstudio"
    store.new_project(folder, ProjectData(title="Test", settings=ProjectSettings(fps=fps, width=640, height=360)))
    shots, clips = [], []
    for i in range(n_shots):
        p = GenParams(prompt=f"a red ball moving left, shot {i + 1}", seed=i + 1,
                      duration=FrameTime.from_seconds(2.0, fps))
        takes = [write_take(folder, p, tag=10 * (i + 1) + k) for k in range(takes_per_shot)]
        chosen = takes[0].id if (takes and on_timeline) else None
        shot = Shot(params=p, takes=takes, chosen_take=chosen)
        shots.append(shot)
        if chosen:
            clips.append(TimelineClip(shot_id=shot.id, take_id=chosen))
    data = ProjectData(title="Test", settings=ProjectSettings(fps=fps, width=640, height=360), shots=shots,
                       timeline={"clips": clips})
    store.save_project(folder, data)
    doc = ProjectDocument()
    err = doc.open(folder)
    assert err is None, err
    return doc
