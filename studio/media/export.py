"""Encode a stream of frames with the ffmpeg that imageio-ffmpeg bundles (there is no system ffmpeg).

Raw RGB frames go to ffmpeg's stdin as they are (the bytes of a contiguous array, no copies), so the
encoder, not Python, sets the pace. The output is written under a temporary name in the target
folder and moved into place with os.replace only when ffmpeg succeeded; on cancel, failure or a full
disk the partial file is removed and a StudioError with a one-line reason is raised.
"""

from __future__ import annotations

import collections
import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from studio.errors import StudioError
from studio.media.presets import AUDIO_FORMATS, FORMAT_LABELS, ExportSettings, resolve_settings

Progress = Callable[[int, int], None]  # (frames written, frames in total)
Cancel = Callable[[], bool] | threading.Event

_PRORES_PROFILES = {"proxy": 0, "lt": 1, "standard": 2, "hq": 3}
_VP9_CPU_USED = {"ultrafast": 8, "superfast": 7, "veryfast": 6, "faster": 5, "fast": 4, "medium": 3,
                 "slow": 2, "slower": 1, "veryslow": 0}  # fmt: skip
_F_SETPIPE_SZ = 1031  # Linux fcntl: a bigger pipe means fewer wake-ups per 1080p frame (6 MB)
_BT709 = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".webm", ".gif", ".mkv", ".avi", ".m4v", ".png"})


def output_path(path: str | Path, settings: ExportSettings) -> Path:
    """The path with the format's extension (a PNG sequence is a folder: no extension). Another
    video format's extension is replaced; any other dot belongs to the name ("cut v1.2" → "cut v1.2.mp4")."""
    path = Path(path)
    ext = settings.extension
    if ext and path.suffix.lower() != ext:
        known = path.suffix.lower() in VIDEO_SUFFIXES
        path = path.with_suffix(ext) if known else path.with_name(path.name + ext)
    return path


def _rate(fps: float) -> str:
    """ffmpeg rational for a frame rate (23.976 -> 24000/1001)."""
    f = Fraction(fps).limit_denominator(1001)
    return f"{f.numerator}/{f.denominator}"


def video_args(s: ExportSettings) -> list[str]:
    """Encoder arguments for a format, after the raw-RGB input."""
    # RGB -> BT.709 limited range (what players assume for HD), tagged so decoders convert it back
    to_709 = ("scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int,format={},"
              "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv")  # fmt: skip
    if s.format == "h264":
        return ["-vf", to_709.format("yuv420p"), "-c:v", "libx264", "-preset", s.speed, "-crf",
                str(s.effective_crf), "-pix_fmt", "yuv420p", *_BT709, "-movflags", "+faststart", "-f", "mp4"]  # fmt: skip
    if s.format == "h265":
        return ["-vf", to_709.format("yuv420p"), "-c:v", "libx265", "-preset", s.speed, "-crf",
                str(s.effective_crf), "-x265-params", "log-level=error", "-pix_fmt", "yuv420p", "-tag:v", "hvc1",
                *_BT709, "-movflags", "+faststart", "-f", "mp4"]  # fmt: skip
    if s.format == "vp9":
        return ["-vf", to_709.format("yuv420p"), "-c:v", "libvpx-vp9", "-crf", str(s.effective_crf), "-b:v", "0",
                "-deadline", "good", "-cpu-used", str(_VP9_CPU_USED[s.speed]), "-row-mt", "1",
                "-pix_fmt", "yuv420p", *_BT709, "-f", "webm"]  # fmt: skip
    if s.format == "prores":
        return ["-vf", to_709.format("yuv422p10le"), "-c:v", "prores_ks", "-profile:v",
                str(_PRORES_PROFILES[s.prores_profile]), "-vendor", "apl0", "-pix_fmt", "yuv422p10le", *_BT709,
                "-f", "mov"]  # fmt: skip
    if s.format == "gif":
        # palettegen + paletteuse in one graph: one pass over our frames (ffmpeg holds the small
        # preview frames until the palette is known)
        graph = (f"split[a][b];[a]palettegen=max_colors={s.gif_colors}:stats_mode=full[p];"
                 "[b][p]paletteuse=dither=sierra2_4a")  # fmt: skip
        return ["-filter_complex", graph, "-loop", "0", "-f", "gif"]
    if s.format == "png":
        return ["-c:v", "png", "-f", "image2", "-start_number", "1"]
    raise StudioError("settings", f"unknown format {s.format!r}")


def audio_args(s: ExportSettings, duration: float) -> list[str]:
    """Audio bed: padded with silence if short, cut at the film's end with a short fade out."""
    fade = min(0.5, duration / 4)
    codec = ["-c:a", "libopus"] if s.format == "vp9" else ["-c:a", "aac"]
    return ["-map", "0:v:0", "-map", "1:a:0", "-af", f"apad,afade=t=out:st={max(0.0, duration - fade):.3f}:d={fade:.3f}",
            *codec, "-b:a", s.audio_bitrate, "-t", f"{duration:.3f}"]  # fmt: skip


def ffmpeg_command(s: ExportSettings, target: Path, audio: Path | None, duration: float) -> list[str]:
    cmd = [ffmpeg_exe(), "-y", "-hide_banner", "-nostdin", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{s.width}x{s.height}", "-framerate", _rate(s.fps),
           "-i", "pipe:0"]  # fmt: skip
    if audio is not None:
        cmd += ["-i", str(audio)]
    cmd += video_args(s)
    if audio is not None:
        cmd += audio_args(s, duration)
    cmd += ["-r", _rate(s.fps)]
    cmd.append(str(target / "frame_%06d.png") if s.format == "png" else str(target))
    return cmd


def _cancelled(cancel: Cancel | None) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def _disk_full(folder: Path, name: str) -> StudioError:
    return StudioError(
        "disk_full", f"disk full: not enough space in {folder} to write {name}; nothing was saved"
    )


def _check_target(path: Path, s: ExportSettings, audio: Path | None) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise StudioError("path", f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise StudioError("path", f"the folder {folder} is not writable")
    if path.exists() and (path.is_dir() != (s.format == "png")):
        kind = "folder" if path.is_dir() else "file"
        raise StudioError("path", f"{path.name} already exists as a {kind}; choose another name")
    if audio is not None:
        if s.format not in AUDIO_FORMATS:
            raise StudioError(
                "settings", f"{FORMAT_LABELS[s.format]} cannot carry sound; remove the audio file"
            )
        if not audio.is_file():
            raise StudioError("audio", f"the audio file {audio} does not exist")


class _Stderr(threading.Thread):
    """Drains ffmpeg's stderr so it never blocks on a full pipe; keeps the last lines for errors."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines = stream, collections.deque(maxlen=20)

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self.lines.append(line)

    def reason(self) -> str:
        return self.lines[-1] if self.lines else "ffmpeg stopped without saying why"

    def says_disk_full(self) -> bool:
        return any("No space left on device" in line for line in self.lines)


def remove_output(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _install(tmp: Path, path: Path) -> None:
    """Move the finished output into place: os.replace for a file; a folder swaps with the old one."""
    if not tmp.is_dir() or not path.exists():
        os.replace(tmp, path)
        return
    old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old-"))
    os.replace(path, old / "x")
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def export(
    frames: Iterable[np.ndarray],
    n_frames: int,
    path: str | Path,
    settings: str | ExportSettings,
    audio: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Encode `n_frames` height×width×3 uint8 frames to `path` (extension added if missing).

    Returns the final path. Raises StudioError (kinds: cancelled, disk_full, path, audio, settings,
    encode) with nothing left behind.
    """
    s = resolve_settings(settings)
    if n_frames <= 0:
        raise StudioError("empty", "the timeline is empty: there is nothing to export")
    path = output_path(path, s).absolute()
    audio = Path(audio).absolute() if audio else None
    _check_target(path, s, audio)
    # a hidden, unique name beside the target (same file system, so os.replace is atomic); made by
    # ffmpeg / mkdir rather than mkstemp so the film gets the user's normal permissions
    tmp = path.with_name(f".{path.stem}.partial-{uuid.uuid4().hex[:8]}{s.extension}")
    if s.format == "png":
        tmp.mkdir()
    duration = n_frames / s.fps
    proc = None
    try:
        proc = subprocess.Popen(
            ffmpeg_command(s, tmp, audio, duration),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        errs = _Stderr(proc.stderr)
        errs.start()
        _feed(proc, errs, frames, n_frames, s, path, progress, cancel)
        proc.stdin.close()
        rc = proc.wait()
        errs.join(timeout=5)
        if rc != 0:
            if errs.says_disk_full():
                raise _disk_full(path.parent, path.name)
            raise StudioError("encode", f"ffmpeg could not write {path.name}: {errs.reason()}")
        _install(tmp, path)
        return path
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise _disk_full(path.parent, path.name) from e
        raise StudioError("encode", f"could not write {path.name}: {e.strerror or e}") from e
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None and proc.stdin and not proc.stdin.closed:
            try:
                proc.stdin.close()
            except OSError:
                pass
        if tmp.exists():
            remove_output(tmp)


def _feed(proc, errs, frames, n_frames, s, path, progress, cancel) -> None:
    try:
        import fcntl

        fcntl.fcntl(proc.stdin.fileno(), _F_SETPIPE_SZ, 1 << 20)
    except (ImportError, OSError):
        pass  # not Linux, or a lower pipe-max-size: the default pipe works, a little slower
    write = proc.stdin.write
    shape = (s.height, s.width, 3)
    step = max(1, n_frames // 200)  # ~200 progress calls whatever the length
    last_report = time.monotonic()
    done = 0
    for frame in frames:
        if _cancelled(cancel):
            raise StudioError("cancelled", f"export cancelled; {path.name} was not written")
        if frame.shape != shape or frame.dtype != np.uint8:
            raise StudioError(
                "encode", f"frame {done} is {frame.dtype} {frame.shape}, expected uint8 {shape}"
            )
        try:
            write(frame if frame.flags.c_contiguous else np.ascontiguousarray(frame))
        except BrokenPipeError:
            proc.wait()
            errs.join(timeout=5)
            if errs.says_disk_full():
                raise _disk_full(path.parent, path.name) from None
            raise StudioError(
                "encode", f"ffmpeg stopped while writing {path.name}: {errs.reason()}"
            ) from None
        done += 1
        if progress is not None and (
            done % step == 0 or done == n_frames or time.monotonic() - last_report > 0.25
        ):
            last_report = time.monotonic()
            progress(done, n_frames)
    if _cancelled(cancel):
        raise StudioError("cancelled", f"export cancelled; {path.name} was not written")
