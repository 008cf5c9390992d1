"""Export benchmark: throughput against ffmpeg alone, H.264 quality, and memory against film length.

    .venv/bin/python benchmarks/bench_export.py [--seconds 10] [--width 1920 --height 1080] [--quick]

1. Throughput: a film of native 32 px, 8 fps takes (crossfades and a fade through black) exported
   at WxH 24 fps, H.264 at the default settings (CRF 18, preset medium), through our pipeline
   (assembly + conform + pipe), against ffmpeg alone encoding the very same frames, pre-rendered
   to a raw file, with the same encoder arguments. Goal: ours >= 0.9 of ffmpeg alone.
2. Quality: the H.264 film decoded back, PSNR against the assembled source frames. Goal >= 35 dB.
3. Memory: peak resident memory (VmHWM) of a fresh process exporting a 10 s and a 60 s film, and of
   its ffmpeg child (ru_maxrss of children). Goal: flat (the 60 s film no more than a few MB above).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.media.assembly import Segment, assemble, frame_count  # noqa: E402
from studio.media.export import export, ffmpeg_command  # noqa: E402
from studio.media.presets import ExportSettings  # noqa: E402
from studio.media.probe import decode  # noqa: E402


def takes(seconds: float) -> list[Segment]:
    """Two-second native takes (16 frames, 32 px, 8 fps), loaded lazily, with transitions."""
    y, x = np.mgrid[0:32, 0:32].astype(np.float32)

    def clip(seed: int):
        def load() -> np.ndarray:
            rng = np.random.default_rng(seed)
            cx, cy, hue = rng.uniform(8, 24), rng.uniform(8, 24), rng.uniform(0, 1)
            out = np.empty((16, 32, 32, 3), np.uint8)
            for i in range(16):
                blob = np.exp(-((x - cx - i * 0.6) ** 2 + (y - cy) ** 2) / 40.0)
                out[i, ..., 0] = 40 + 200 * blob * hue
                out[i, ..., 1] = 30 + 120 * (x / 32) + 60 * blob
                out[i, ..., 2] = 180 - 120 * blob * (1 - hue) + 20 * np.sin(y / 3)
            return out

        return load

    segs, total, k = [], 0.0, 0
    while total < seconds - 1e-9:
        kind = ("cut", "crossfade", "fade_black")[k % 3] if k else "cut"
        segs.append(Segment(clip(k), 8.0, 0.0, 2.0, kind, 0.5 if kind != "cut" else 0.0, f"shot {k + 1}"))
        total += 2.0 - (0.5 if kind == "crossfade" else 0.0)
        k += 1
    # trim the last clip so the film is exactly `seconds` long
    segs[-1].out_s -= total - seconds
    return segs


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_memory(seconds: float, width: int, height: int, speed: str) -> None:
    """Run in a fresh process: export a film, print our peak and ffmpeg's peak memory (MB)."""
    s = ExportSettings(width=width, height=height, fps=24.0, speed=speed)
    segs = takes(seconds)
    n = frame_count(segs, s.fps)
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        t0 = time.perf_counter()
        export(assemble(segs, s.fps, s.width, s.height), n, Path(tmp) / "film.mp4", s)
        dt = time.perf_counter() - t0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{n} {dt:.2f} {vm_hwm_mb():.1f} {kids:.1f}")


def throughput(seconds: float, width: int, height: int, speed: str, tmp: Path, repeats: int = 3) -> dict:
    s = ExportSettings(width=width, height=height, fps=24.0, speed=speed)
    segs = takes(seconds)
    n = frame_count(segs, s.fps)

    # assembly alone (no encoder): what our side costs per frame
    t0 = time.perf_counter()
    for _ in assemble(segs, s.fps, s.width, s.height):
        pass
    t_assemble = time.perf_counter() - t0

    # the same frames, pre-rendered raw, for ffmpeg alone
    raw = tmp / "frames.rgb"
    with open(raw, "wb") as f:
        for frame in assemble(segs, s.fps, s.width, s.height):
            f.write(frame)
    ref_out = tmp / "ffmpeg_alone.mp4"
    cmd = ffmpeg_command(s, ref_out, None, n / s.fps)
    cmd[cmd.index("pipe:0")] = str(raw)

    ours_out = tmp / "ours.mp4"
    runs = {"ffmpeg": [], "ours": []}
    for _ in range(repeats):  # alternate, best of N: the machine is shared
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        runs["ffmpeg"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        export(assemble(segs, s.fps, s.width, s.height), n, ours_out, s)
        runs["ours"].append(time.perf_counter() - t0)
    t_ff, t_ours = min(runs["ffmpeg"]), min(runs["ours"])

    # quality: decode ours back against the assembled source
    mse = []
    for a, b in zip(assemble(segs, s.fps, s.width, s.height), decode(ours_out), strict=True):
        mse.append(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    psnr_mean_mse = 10 * np.log10(255**2 / max(np.mean(mse), 1e-12))
    psnr_frames = 10 * np.log10(255**2 / np.maximum(np.array(mse), 1e-12))
    raw.unlink()
    return {
        "frames": n,
        "assemble_fps": n / t_assemble,
        "ffmpeg_fps": n / t_ff,
        "ours_fps": n / t_ours,
        "ratio": t_ff / t_ours,
        "psnr": psnr_mean_mse,
        "psnr_min_frame": float(psnr_frames.min()),
        "size_mb": ours_out.stat().st_size / 1e6,
        "runs": runs,
    }


def _times(ts: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="film length for throughput/quality")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--speed", default="medium", help="x264 preset for throughput/quality (default: ours)")
    ap.add_argument("--memory-speed", default="ultrafast", help="x264 preset for the memory runs")
    ap.add_argument("--memory-seconds", default="10,60")
    ap.add_argument("--repeats", type=int, default=3, help="alternating runs of each; the best counts")
    ap.add_argument("--quick", action="store_true", help="small and short: a smoke run of the script")
    ap.add_argument("--child-memory", type=float, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.width, a.height, a.memory_seconds = 3.0, 320, 180, "3,6"
    if a.child_memory:
        child_memory(a.child_memory, a.width, a.height, a.memory_speed)
        return

    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        r = throughput(a.seconds, a.width, a.height, a.speed, Path(tmp), a.repeats)
    print(f"\n[throughput] {a.seconds:g} s film, {r['frames']} frames at {a.width}x{a.height} 24 fps, "
          f"H.264 CRF 18 preset {a.speed}")  # fmt: skip
    print(f"  assembly alone (no encode): {r['assemble_fps']:.1f} frames/s")
    print(
        f"  ffmpeg alone (raw file in): {r['ffmpeg_fps']:.1f} frames/s   runs {_times(r['runs']['ffmpeg'])} s"
    )
    print(f"  ours (assemble + pipe):     {r['ours_fps']:.1f} frames/s   runs {_times(r['runs']['ours'])} s")
    print(f"  ours / ffmpeg alone:        {r['ratio']:.3f}   (goal >= 0.9)")
    print(f"\n[quality] H.264 decoded back: PSNR {r['psnr']:.2f} dB over the film (worst frame {r['psnr_min_frame']:.2f} dB), "
          f"{r['size_mb']:.2f} MB   (goal >= 35 dB)")  # fmt: skip

    print(f"\n[memory] fresh process per film, {a.width}x{a.height} 24 fps, H.264 preset {a.memory_speed}")
    for secs in [float(x) for x in a.memory_seconds.split(",")]:
        out = subprocess.run(
            [sys.executable, __file__, "--child-memory", str(secs), "--width", str(a.width), "--height",
             str(a.height), "--memory-speed", a.memory_speed],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        n, dt, ours, kid = int(out[0]), float(out[1]), float(out[2]), float(out[3])
        print(
            f"  {secs:5.0f} s film: {n:5d} frames in {dt:6.1f} s   our VmHWM {ours:7.1f} MB   ffmpeg peak RSS {kid:7.1f} MB"
        )


if __name__ == "__main__":
    main()
