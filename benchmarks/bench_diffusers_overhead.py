"""Diffusers backend overhead: DiffusersGenerator.generate(req) against calling the same pipeline
directly with the same arguments (DiffusersGenerator.call_args: prompt, size, frames, steps, guidance,
seeded generator, output_type="np"), on the tiny Wan and LTX-Video pipelines of the tests (or a
model folder given with --model). Goal: ratio <= 1.05.

Each repeat times the direct call and the backend back to back, in alternating order (paired, so drift
in a shared machine's load cancels); the median of the per-pair ratios is reported. Two backend rows:
without a callback, and with one (a preview after every step, as the worker asks), so the preview's
own cost shows.
Run: .venv/bin/python benchmarks/bench_diffusers_overhead.py [--repeats 11] [--steps 8] [--model DIR]
     [--frames 9 --width 48 --height 32] [--device cpu] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from diffusers_tiny import build  # noqa: E402

from contract.request import GenerationRequest  # noqa: E402
from model_runtime.backends import diffusers_video as dv  # noqa: E402


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(gen: dv.DiffusersGenerator, req: GenerationRequest, repeats: int) -> dict[str, float]:
    pipe, kw = gen.call_args(req)

    def direct():
        pipe(**{**kw, "generator": torch.Generator().manual_seed(req.seed)})

    def backend():
        gen.generate(req)

    def backend_cb():
        gen.generate(req, lambda step, total, preview: False)

    runs = {"direct": direct, "backend": backend, "backend+previews": backend_cb}
    for fn in runs.values():  # warm-up: first-call costs (allocator, kernels) out of the figures
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(repeats):
        order = list(runs) if i % 2 == 0 else list(reversed(runs))
        for name in order:
            _sync(gen.device)
            t0 = time.perf_counter()
            runs[name]()
            _sync(gen.device)
            times[name].append(time.perf_counter() - t0)
    out = {f"{k}_s": statistics.median(v) for k, v in times.items()}
    for k in ("backend", "backend+previews"):
        out[f"{k}_ratio"] = statistics.median(b / d for b, d in zip(times[k], times["direct"], strict=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="a diffusers model folder (default: the tiny Wan and LTX)")
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--frames", type=int, default=9)
    ap.add_argument("--width", type=int, default=None, help="default: 48 (Wan) / 64 (LTX) for the tiny ones")
    ap.add_argument("--height", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            models = {Path(args.model).name: (Path(args.model), args.width)}
        else:
            models = {"tiny wan": (build("wan", Path(tmp) / "wan"), args.width or 48),
                      "tiny ltx": (build("ltx", Path(tmp) / "ltx"), args.width or 64)}
        print(f"{args.steps} steps, {args.frames} frames, median of {args.repeats} paired runs, "
              f"{args.threads} thread(s), {args.device}")
        print(f"{'model':<12} {'direct s':>9} {'backend s':>10} {'ratio':>6} {'+previews s':>12} {'ratio':>6}")
        for name, (folder, width) in models.items():
            gen = dv.DiffusersGenerator(str(folder), device=args.device)
            frames, height, w = gen.request_size(GenerationRequest(prompt="", frames=args.frames))
            req = GenerationRequest(prompt="a red ball moves left", seed=1, steps=args.steps, guidance=5.0,
                                    frames=args.frames, width=width or w, height=args.height if width else height)
            r = measure(gen, req, args.repeats)
            print(f"{name:<12} {r['direct_s']:>9.4f} {r['backend_s']:>10.4f} {r['backend_ratio']:>6.3f} "
                  f"{r['backend+previews_s']:>12.4f} {r['backend+previews_ratio']:>6.3f}")
    print("goal: ratio <= 1.05")


if __name__ == "__main__":
    main()
