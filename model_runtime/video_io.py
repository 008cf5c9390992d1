"""Writing clips for people to look at: an upscaled H.264 MP4 and a PNG poster.

Shared by the worker and the generate CLI. No system ffmpeg is assumed: imageio-ffmpeg ships one.
Callers that need atomic files write to a temporary name and os.replace it (see worker.py).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

_INTERP = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"expected uint8 frames T×H×W×3, got {frames.dtype} {frames.shape}")
    return frames


def upscale(frames: np.ndarray, min_side: int = 256, interpolation: str = "nearest") -> np.ndarray:
    """Scale T×H×W×3 frames by a whole factor so the short side is at least `min_side`, then make
    both sides even (yuv420p needs even sizes). Nearest keeps the model's pixels honest."""
    frames = _check_frames(frames)
    _, h, w, _ = frames.shape
    factor = max(1, -(-min_side // min(h, w)))  # ceil
    new_w, new_h = w * factor, h * factor
    new_w += new_w % 2
    new_h += new_h % 2
    if (new_w, new_h) == (w, h):
        return frames
    interp = _INTERP[interpolation]
    return np.stack([cv2.resize(f, (new_w, new_h), interpolation=interp) for f in frames])


def write_mp4(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    min_side: int = 256,
    interpolation: str = "nearest",
    crf: int = 18,
) -> None:
    """Write frames as an H.264 (libx264, yuv420p) MP4, upscaled for viewing."""
    frames = upscale(frames, min_side, interpolation)
    _, h, w, _ = frames.shape
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        quality=None,  # let crf decide
        macro_block_size=2,  # we already made the size even; no silent rescale
        # -f mp4: the caller may write to a temporary name without the .mp4 suffix
        output_params=["-crf", str(crf), "-movflags", "+faststart", "-f", "mp4"],
        ffmpeg_log_level="error",
    )
    writer.send(None)  # start ffmpeg
    try:
        for f in frames:
            writer.send(np.ascontiguousarray(f))
    finally:
        writer.close()


def encode_png(frame: np.ndarray) -> bytes:
    """One H×W×3 uint8 RGB frame -> PNG bytes."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[-1] != 3:
        raise ValueError(f"expected a uint8 H×W×3 frame, got {frame.dtype} {frame.shape}")
    ok, buf = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def write_png(path: str | Path, frame: np.ndarray) -> None:
    Path(path).write_bytes(encode_png(frame))


def poster_frame(frames: np.ndarray, min_side: int = 256, interpolation: str = "nearest") -> np.ndarray:
    """The middle frame, upscaled like the MP4 so poster and video line up."""
    frames = _check_frames(frames)
    return upscale(frames[len(frames) // 2 : len(frames) // 2 + 1], min_side, interpolation)[0]


def read_image(path: str | Path) -> np.ndarray:
    """PNG/JPEG (or a .npy H×W×3) -> uint8 RGB H×W×3."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False)
    else:
        data = np.frombuffer(path.read_bytes(), np.uint8)
        arr = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if arr is None:
            raise ValueError(f"{path.name} is not a readable image")
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"{path.name}: expected an RGB image, got {arr.dtype} {arr.shape}")
    return arr


def read_video(path: str | Path) -> np.ndarray:
    """.npy (T×H×W×3 uint8) or any video ffmpeg reads -> uint8 RGB T×H×W×3."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False)
    else:
        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
        meta = reader.__next__()
        w, h = meta["size"]
        arr = np.stack([np.frombuffer(b, np.uint8).reshape(h, w, 3) for b in reader])
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"{path.name}: expected a video T×H×W×3 uint8, got {arr.dtype} {arr.shape}")
    return arr
