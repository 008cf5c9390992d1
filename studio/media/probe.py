"""Reading an exported film back without ffprobe (imageio-ffmpeg bundles only ffmpeg): size, rate,
duration and streams from `ffmpeg -i`, frames by decoding. Used by tests, benchmarks and the
export dialog's summary."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np


@dataclass
class MediaInfo:
    frames: int
    fps: float
    width: int
    height: int
    duration: float
    video_codec: str
    audio_codec: str | None  # None: no sound
    tags: str  # the stream line's codec tag / colour description, e.g. "hvc1"


def _streams(path: Path) -> tuple[str, str | None]:
    err = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    ).stderr
    video = re.search(r"Stream #\S+.*?: Video: (.*)", err)
    audio = re.search(r"Stream #\S+.*?: Audio: (\w+)", err)
    return (video.group(1) if video else ""), (audio.group(1) if audio else None)


def probe(path: str | Path) -> MediaInfo:
    """Facts about a video file, or a folder of PNG frames (`frame_000001.png`, ...)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.png"))
        h, w = decode_png(files[0]).shape[:2] if files else (0, 0)
        return MediaInfo(len(files), 0.0, w, h, 0.0, "png", None, "")
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    frames, secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    video, audio = _streams(path)
    w, h = meta["size"]
    return MediaInfo(
        int(frames),
        float(meta["fps"]),
        int(w),
        int(h),
        float(secs),
        str(meta["codec"]).rstrip(","),
        audio,
        video,
    )


def decode(path: str | Path) -> Iterator[np.ndarray]:
    """Every frame of a video (or PNG folder) as H×W×3 uint8 RGB."""
    path = Path(path)
    if path.is_dir():
        for f in sorted(path.glob("*.png")):
            yield decode_png(f)
        return
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    for buf in reader:
        yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)


def decode_png(path: Path) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(Path(path).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
