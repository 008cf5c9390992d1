"""Reading a take's frames: the exact native `.npy` when there is one, else any video ffmpeg reads.

Assembly asks for one take at a time, lazily, through a `TakeFrames` loader, so a long film never
holds more than the takes it is drawing from right now (two, inside a crossfade).
"""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np

from studio.errors import StudioError


def _check(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] == 0:
        raise StudioError("media", f"{name}: expected uint8 frames T×H×W×3, got {arr.dtype} {arr.shape}")
    return arr


def read_frames(path: str | Path) -> np.ndarray:
    """`.npy` (T×H×W×3 uint8) or a video file -> uint8 RGB T×H×W×3, all frames."""
    path = Path(path)
    if not path.is_file():
        raise StudioError("missing_media", f"media file {path.name} is missing ({path.parent})")
    try:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
            meta = next(reader)
            w, h = meta["size"]
            frames = [np.frombuffer(b, np.uint8).reshape(h, w, 3) for b in reader]
            arr = np.stack(frames) if frames else np.zeros((0, h, w, 3), np.uint8)
    except (OSError, ValueError, RuntimeError) as e:
        raise StudioError("media", f"cannot read {path.name}: {e}") from e
    return _check(np.ascontiguousarray(arr), path.name)


def count_frames(path: str | Path) -> tuple[int, float]:
    """(frames, fps) without decoding pixels where possible (a `.npy` header; ffmpeg's count)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
        return int(arr.shape[0]), 0.0  # the fps of a .npy lives in the take's metadata
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    n, _secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    return int(n), float(meta.get("fps") or 0.0)


class TakeFrames:
    """A lazy, reloadable frame source for one take: `source()` -> T×H×W×3 uint8.

    Nothing is read until called; the array is not kept here, so the assembler decides how long it
    lives (it drops a take as soon as the film has moved past it).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __call__(self) -> np.ndarray:
        return read_frames(self.path)

    def __repr__(self) -> str:
        return f"TakeFrames({str(self.path)!r})"


def take_media_path(project_dir: str | Path, take) -> Path:
    """The file a take's pixels come from: the exact native `.npy` if present, else the clip. Either
    must stay inside the project folder (StudioError "project_link" for a link leading out)."""
    from studio.project.containment import inside

    project_dir = Path(project_dir)
    if take.frames_file:
        p = inside(project_dir, take.frames_file)
        if p.is_file():
            return p
    return inside(project_dir, take.clip)
