"""Sampler overhead: wall time of a 20-step run / (20 x one model call), with a fake model call
that costs a fixed ~20 ms.  1.00 means the sampler adds nothing; goal <= 1.05.

The fake model sleeps 20 ms and does one elementwise op on a video-sized batch (CFG-doubled
16x3x32x32 clips, through guided_eps), so the sampler's own tensor arithmetic on that batch is what
gets measured.  Each repeat times 20 bare eps calls and then one 20-step run back to back (paired,
so drift in a shared machine's load cancels); the median ratio is reported.  A second column
measures the sampler's own cost per step with a free eps and expresses it against 20 ms.
Run: .venv/bin/python benchmarks/bench_sampler_overhead.py [--device cuda] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model_runtime.diffusion import Schedule  # noqa: E402
from model_runtime.samplers import METHODS, guided_eps, sample  # noqa: E402

COST_S = 0.020
STEPS = 20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    schedule = Schedule.linear()
    x_T = torch.randn(4, 16, 3, 32, 32, device=device)
    cond, uncond = torch.zeros(4, 8, device=device), torch.zeros(1, 8, device=device)

    def slow_model(x, t, c):
        sync()
        time.sleep(COST_S)
        return x * 0.5

    eps_slow = guided_eps(slow_model, cond, uncond, 3.0)
    eps_free = guided_eps(lambda x, t, c: x * 0.5, cond, uncond, 3.0)

    def timed(fn):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - t0

    def bare_calls(eps_fn):
        for _ in range(STEPS):
            eps_fn(x_T, torch.full((x_T.shape[0],), 500.0, device=device))

    def run(method, eps_fn, seed):
        g = torch.Generator(device=device).manual_seed(seed)
        sample(eps_fn, x_T, schedule, method, STEPS, callback=lambda *a: False, generator=g)

    run("ddpm", eps_free, 0)  # warm-up
    print(
        f"device {device}, batch {tuple(x_T.shape)} with CFG (model sees {2 * x_T.shape[0]}), {STEPS} steps"
    )
    print(f"{'method':>9} {'wall (s)':>9} {'ratio':>7} {'own ms/step':>12} {'1 + own/20ms':>13}")
    for method in METHODS:
        ratios, walls, own = [], [], []
        for r in range(args.repeats):
            base = timed(lambda: bare_calls(eps_slow))
            wall = timed(lambda m=method, r=r: run(m, eps_slow, r))
            ratios.append(wall / base)
            walls.append(wall)
            own.append(
                (timed(lambda m=method, r=r: run(m, eps_free, r)) - timed(lambda: bare_calls(eps_free)))
                / STEPS
            )
        o = statistics.median(own)
        print(
            f"{method:>9} {statistics.median(walls):9.3f} {statistics.median(ratios):7.3f} "
            f"{o * 1e3:12.3f} {1 + o / COST_S:13.3f}"
        )


if __name__ == "__main__":
    main()
