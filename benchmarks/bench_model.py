"""Per model config: parameters, FLOPs, ms per forward at batch 2 (one guided forward), and the
sampler's overhead ratio = sampling wall time / (steps × one guided forward).

    python benchmarks/bench_model.py [--threads 2] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model_runtime.pipeline import GenerationRequest, Generator  # noqa: E402

CONFIGS = {
    "toy_small (shipped)": json.loads((Path(__file__).parent.parent / "configs" / "toy_small.json").read_text())["model"],
    "toy_fine_patches": {**json.loads((Path(__file__).parent.parent / "configs" / "toy_small.json").read_text())["model"],
                         "patch": [2, 4, 4]},
}


def bench(name: str, cfg: dict, steps: int, repeats: int = 3) -> dict:
    gen = Generator(random_init=True, config=cfg, device="cpu")
    c = gen.cfg
    x = torch.randn(2, c.channels, c.frames, c.size, c.size)
    t = torch.full((2,), 500.0)
    ids = torch.zeros(2, c.text_len, dtype=torch.long)
    with torch.no_grad():
        for _ in range(3):
            gen._model_fn(x, t, ids)
        t0 = time.perf_counter()
        n = 10
        for _ in range(n):
            gen._model_fn(x, t, ids)
        fwd = (time.perf_counter() - t0) / n
    req = GenerationRequest(prompt="medium shot of a red ball moving left at sunset, camera static",
                            steps=steps, guidance=3.0)
    gen.generate(req)
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        gen.generate(req)
        walls.append(time.perf_counter() - t0)
    wall = min(walls)
    return {"config": name, "params_M": gen.info["params"] / 1e6,
            "gflops_fwd_b1": gen.model.describe()["flops_per_forward"] / 1e9, "tokens": c.num_tokens,
            "ms_forward_b2": fwd * 1e3, "clip_s": wall, "overhead": wall / (steps * fwd)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, bf16 autocast, {args.steps} guided DPM-Solver++ steps")
    print(f"{'config':22s} {'params':>8s} {'GFLOPs':>7s} {'tokens':>6s} {'ms/fwd b2':>9s} {'clip s':>7s} {'overhead':>8s}")
    for name, cfg in CONFIGS.items():
        r = bench(name, cfg, args.steps)
        print(f"{r['config']:22s} {r['params_M']:7.2f}M {r['gflops_fwd_b1']:7.2f} {r['tokens']:6d} "
              f"{r['ms_forward_b2']:9.1f} {r['clip_s']:7.2f} {r['overhead']:8.3f}")


if __name__ == "__main__":
    main()
