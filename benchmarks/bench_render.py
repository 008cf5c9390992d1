"""Toy-world throughput: ground-truth clips rendered per second (one process, one core's worth of
numpy) at 16×32×32 and 16×64×64, and clips scored per second by the evaluator at 16×32×32.
Training renders in DataLoader workers, so clips/s per worker is the figure that matters.

    python benchmarks/bench_render.py [--n 200] [--repeats 3]

Each figure is the best of `repeats` runs over the same scenes (the machine is shared).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model_runtime import evaluate as ev  # noqa: E402
from model_runtime import toyworld as tw  # noqa: E402


def best_rate(fn, items, repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for it in items:
            fn(it)
        best = max(best, len(items) / (time.perf_counter() - t0))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    scenes = [(tw.sample_scene(rng, "train"), i) for i in range(args.n)]
    tw.render(*scenes[0])  # warm up
    r32 = best_rate(lambda s: tw.render(s[0], s[1], size=32), scenes, args.repeats)
    r64 = best_rate(lambda s: tw.render(s[0], s[1], size=64), scenes, args.repeats)
    clips = [tw.render(s, i) for s, i in scenes]
    rev = best_rate(ev.measure_clip, clips, args.repeats)
    print(f"render 16x32x32   {r32:8.1f} clips/s  ({1e3 / r32:.2f} ms/clip)")
    print(f"render 16x64x64   {r64:8.1f} clips/s  ({1e3 / r64:.2f} ms/clip)")
    print(f"evaluate 16x32x32 {rev:8.1f} clips/s  ({1e3 / rev:.2f} ms/clip)")


if __name__ == "__main__":
    main()
