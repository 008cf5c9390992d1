"""Motion benchmark: judder and accuracy of 8 -> 24 fps conversion by repeat / blend / flow, and speed.

    .venv/bin/python benchmarks/bench_motion.py [--size 144] [--sheet /tmp/motion_sheet.png] [--quick]

1. Judder. Toy-world clips at the bundled model's native size (256×144, 16 frames, 8 fps; a camera
   that pans left, and a pan with a subject moving against it) are conformed to 24 fps by each
   method (studio.media.assembly.assemble, native raster). Motion per output step, over the steps
   inside the source clip (the held last frame is left out), two ways: the mean optical-flow magnitude
   between consecutive output frames (DIS, a separate instance), and the global shift found by phase
   correlation (cv2.phaseCorrelate: no optical flow at all, so the yardstick is not the method
   grading itself; it also sees that a blend's picture stays put, then jumps). Judder = coefficient
   of variation (std / mean) of those magnitudes: repeat gives 0, 0, X, 0, 0, X (CV ~1.4), an even
   pan ~0. "truth" is the same scene rendered at 24 fps (46 frames over the same path): the floor of
   the yardstick. (Farnebäck flow was tried first: on the toy world's soft textures it measures a
   third of the true motion.)
2. Accuracy. PSNR of each method's in-between frames (t = 1/3, 2/3) against the truth frames.
3. Speed (median of repeats, this machine, whatever else runs on it): ms per interpolated frame of an
   8 -> 24 conversion (each pair's flows shared by its two in-between frames), for native 256×144 and
   for 1920×1080 source frames; and ms per output frame of the whole assembly to a 1920×1080 film from
   native takes, per method (what an export pays before the encoder).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model_runtime.toyworld import COLOR_RGB, Scene, render  # noqa: E402
from studio.media.assembly import Segment, assemble  # noqa: E402
from studio.media.motion import MOTIONS, FlowInterpolator  # noqa: E402

FPS_IN, FPS_OUT = 8.0, 24.0
STEP = int(FPS_OUT / FPS_IN)  # output frames per source frame
SCENES = {
    # subject, color, background, size, motion, camera (contract.vocabulary indices)
    "pan (sea)": Scene(0, 0, 3, 1, 0, 1),  # a still red ball on the sea, camera pans left
    "pan (snow)": Scene(3, 1, 5, 0, 0, 1),  # a still yellow star in the snow, camera pans left
    "pan + subject (grass)": Scene(4, 3, 4, 1, 1, 2),  # a blue car moving left, camera pans right
}


def clip(scene: Scene, size: int, frames: int) -> np.ndarray:
    return render(scene, 3, size=size, frames=frames, aspect="16:9")


def conform_rate(frames: np.ndarray, motion: str) -> list[np.ndarray]:
    h, w = frames.shape[1:3]
    seg = Segment(lambda: frames, FPS_IN, 0.0, len(frames) / FPS_IN)
    return list(assemble([seg], FPS_OUT, w, h, motion=motion))


def step_motion(frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per consecutive pair (px): mean DIS flow magnitude, and the phase-correlation shift."""
    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    window = cv2.createHanningWindow(grey[0].shape[::-1], cv2.CV_64F)
    flow, shift = [], []
    for a, b in zip(grey, grey[1:], strict=False):
        flow.append(float(np.linalg.norm(dis.calc(a, b, None), axis=-1).mean()))
        (dx, dy), _ = cv2.phaseCorrelate(np.float64(a), np.float64(b), window)
        shift.append(float(np.hypot(dx, dy)))
    return np.array(flow), np.array(shift)


def cv(v: np.ndarray) -> float:
    return float(v.std() / v.mean()) if v.mean() > 0 else float("nan")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b) ** 2).mean())
    return 10 * np.log10(255**2 / max(mse, 1e-10))


def judder_table(size: int) -> dict:
    n = 16
    inside = (n - 1) * STEP + 1  # output frames up to the last source frame's time
    rows, sheets = [], {}
    for name, scene in SCENES.items():
        src = clip(scene, size, n)
        truth = clip(scene, size, inside)  # the same path sampled at 24 fps
        outs = {m: conform_rate(src, m)[:inside] for m in MOTIONS}
        outs["truth"] = list(truth)
        sheets[name] = (src, outs)
        for m, frames in outs.items():
            flow, shift = step_motion(frames)
            between = [psnr(frames[j], truth[j]) for j in range(inside) if j % STEP]
            rows.append((name, m, flow, shift, float(np.mean(between))))
    print(f"\n1-2. Judder and accuracy, {FPS_IN:g} -> {FPS_OUT:g} fps, native {src.shape[2]}×{src.shape[1]}, "
          f"{n} source frames; motion per output step in px")
    print(f"{'clip':22s} {'method':7s} {'flow mean':>9s} {'judder CV':>9s} {'shift mean':>10s} {'judder CV':>9s} "
          f"{'PSNR in-between':>15s}   first steps (flow)")
    for name, m, flow, shift, between in rows:
        first = " ".join(f"{v:.2f}" for v in flow[:6])
        acc = f"{between:12.2f} dB" if m != "truth" else f"{'(itself)':>15s}"
        print(f"{name:22s} {m:7s} {flow.mean():9.2f} {cv(flow):9.3f} {shift.mean():10.2f} {cv(shift):9.3f} "
              f"{acc}   {first}")
    return sheets


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def speed(quick: bool) -> None:
    repeats = 3 if quick else 5
    print("\n3. Speed (median of", repeats, "runs)")
    scene = SCENES["pan + subject (grass)"]
    for label, size in (("native 256×144", 144), ("1920×1080", 1080)):
        src = clip(scene, size, 4)
        pairs = len(src) - 1

        def convert(src=src, pairs=pairs):  # a fresh interpolator: every pair's flows computed
            fi = FlowInterpolator()
            for i in range(pairs):
                for k in range(1, STEP):
                    fi.frame(src[i], src[i + 1], k / STEP, key=i)

        ms = _median_ms(convert, repeats) / (pairs * (STEP - 1))
        fi = FlowInterpolator()
        fi.frame(src[0], src[1], 0.5, key=0)  # flows cached: what one more in-between frame costs
        warp = _median_ms(lambda fi=fi, src=src: fi.frame(src[0], src[1], 1 / 3, key=0), repeats)
        print(f"  flow, {label:15s} source: {ms:7.1f} ms per interpolated frame "
              f"({warp:.1f} ms of it the warp and mix once a pair's flows are known)")
    src = clip(scene, 144, 16)
    seg = Segment(lambda: src, FPS_IN, 0.0, len(src) / FPS_IN)
    for m in MOTIONS:
        ms = _median_ms(lambda m=m: list(assemble([seg], FPS_OUT, 1920, 1080, motion=m)), max(2, repeats - 2))
        print(f"  assembly to 1920×1080 from native takes, {m:6s}: {ms / 48:6.1f} ms per output frame")


def contact_sheet(sheets: dict, path: Path) -> None:
    """Per clip, one source interval (frames 6 -> 7) as 24 fps frames 18, 19, 20, 21 by each method,
    and the truth: a crop around the subject, enlarged 4x; the white ticks mark where the subject's
    centre truly is in each column (from the truth frame), so a lag or a jump shows."""
    rows = []
    for name, (src, outs) in sheets.items():
        h, w = src.shape[1:3]
        color = np.array(COLOR_RGB[SCENES[name].color], np.float32)
        ticks = []
        for j in range(18, 22):  # the subject's centre in the truth frame: pixels of its colour
            near = np.linalg.norm(outs["truth"][j].astype(np.float32) - color, axis=-1) < 40
            ticks.append(float(np.nonzero(near)[1].mean()) if near.any() else w / 2)
        cx, half = int(np.mean(ticks)), h // 3
        x0 = min(max(cx - half, 0), w - 2 * half)
        y0 = h // 2 - half
        for m in ("repeat", "blend", "flow", "truth"):
            tiles = []
            for j, tx in zip(range(18, 22), ticks, strict=True):
                tile = cv2.resize(outs[m][j][y0 : y0 + 2 * half, x0 : x0 + 2 * half], None, fx=4, fy=4,
                                  interpolation=cv2.INTER_NEAREST)
                x = int(round((tx - x0 + 0.5) * 4))
                tile[:10, x - 1 : x + 1] = 255
                tile[-10:, x - 1 : x + 1] = 255
                tiles.append(np.pad(tile, ((3, 3), (3, 3), (0, 0))))
            row = np.concatenate(tiles, 1)
            label = np.zeros((row.shape[0], 200, 3), np.uint8)
            cv2.putText(label, m, (8, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
            cv2.putText(label, name, (8, 80), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (200, 200, 200), 1)
            rows.append(np.concatenate([label, row], 1))
    sheet = np.concatenate(rows, 0)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"\ncontact sheet: {path} (columns: 24 fps frames 18-21 = source 6, +1/3, +2/3, source 7)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=144, help="native frame height (the bundled model: 144)")
    ap.add_argument("--sheet", type=Path, help="write a contact sheet PNG of in-between frames here")
    ap.add_argument("--quick", action="store_true", help="fewer speed repeats")
    args = ap.parse_args()
    sheets = judder_table(args.size)
    if args.sheet:
        contact_sheet(sheets, args.sheet)
    speed(args.quick)


if __name__ == "__main__":
    main()
