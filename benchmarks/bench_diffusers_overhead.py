"""Diffusers backend overhead: DiffusersGenerator.generate(req) against calling the same pipeline
directly with the same arguments (DiffusersGenerator.call_args: prompt, size, frames, steps, guidance,
seeded generator, output_type="np"), on the tiny Wan and LTX-Video pipelines of the tests (or a
model folder given with --model). Goal: ratio <= 1.05.

Each repeat times the direct call and the backend back to back, in alternating order (paired, so drift
in a shared machine's load cancels); the median of the per-pair ratios is reported. Two backend columns:
without a callback, and with one (a preview after every step, as the worker asks). On a loaded machine
the ratios wander by ±10 %, so the preview's own cost is also timed alone (ms per step, and as a share
of the direct call's time per step).
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
    out["preview_ms"] = preview_cost(gen, req) * 1e3
    out["preview_share"] = out["preview_ms"] / 1e3 / (out["direct_s"] / req.steps)
    for k in ("backend", "backend+previews"):
        out[f"{k}_ratio"] = statistics.median(b / d for b, d in zip(times[k], times["direct"], strict=True))
    return out


def preview_cost(gen: dv.DiffusersGenerator, req: GenerationRequest, n: int = 300) -> float:
    """Seconds one step's preview takes (latent estimate → RGB → uint8 frames), on latents of the
    request's shape in the pipeline's layout."""
    from model_runtime.backends import diffusers_preview as preview

    frames, h, w = gen.request_size(req)
    grid = gen.latent_grid(frames, h, w)
    index = preview.frame_index(frames, grid[0], gen.capabilities.frame_step, gen.capabilities.frame_offset)
    z = torch.randn(1, gen.channels, *grid, device=gen.device)
    if gen.family.name == "ltx":  # packed tokens while sampling
        z = z.permute(0, 2, 3, 4, 1).reshape(1, -1, gen.channels)
    for _ in range(20):
        gen._preview(z, z, grid, index)
    _sync(gen.device)
    t0 = time.perf_counter()
    for _ in range(n):
        gen._preview(z, z, grid, index)
    _sync(gen.device)
    return (time.perf_counter() - t0) / n


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
        print(f"{'model':<12} {'direct s':>9} {'backend s':>10} {'ratio':>6} {'+previews s':>12} {'ratio':>6} "
              f"{'preview ms/step':>16} {'of a step':>9}")
        for name, (folder, width) in models.items():
            gen = dv.DiffusersGenerator(str(folder), device=args.device)
            frames, height, w = gen.request_size(GenerationRequest(prompt="", frames=args.frames))
            req = GenerationRequest(prompt="a red ball moves left", seed=1, steps=args.steps, guidance=5.0,
                                    frames=args.frames, width=width or w, height=args.height if width else height)
            r = measure(gen, req, args.repeats)
            print(f"{name:<12} {r['direct_s']:>9.4f} {r['backend_s']:>10.4f} {r['backend_ratio']:>6.3f} "
                  f"{r['backend+previews_s']:>12.4f} {r['backend+previews_ratio']:>6.3f} {r['preview_ms']:>16.3f} "
                  f"{r['preview_share']:>8.1%}")
    print("goal: ratio <= 1.05")


if __name__ == "__main__":
    main()
