"""Per model config: parameters, FLOPs, ms per forward at batch 2 (one guided forward), the wall time
of a 20-step clip (a latent model's includes decoding), the first preview's latency after the call,
and the sampler's overhead ratio = sampling wall time / (steps × one guided forward).

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

_CFG = Path(__file__).parent.parent / "configs"
CONFIGS = {
    "toy_small (v1, 32²)": (json.loads((_CFG / "toy_small.json").read_text())["model"], None),
    "toy_latent 16:9 (v2)": (json.loads((_CFG / "toy_latent.json").read_text())["model"], "16:9"),
    "toy_latent 9:16 (v2)": (json.loads((_CFG / "toy_latent.json").read_text())["model"], "9:16"),
    "toy_latent 1:1 (v2)": (json.loads((_CFG / "toy_latent.json").read_text())["model"], "1:1"),
}


def decoder_gflops(gen, aspect) -> float:
    """FLOPs of decoding one native clip (counted by torch's FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode

    h, w = gen.cfg.frame_shape(aspect)
    z = torch.zeros(1, gen.cfg.channels, gen.cfg.frames, h, w)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        gen.ae.decode(z)
    return fc.get_total_flops() / 1e9


def bench(name: str, cfg: dict, aspect: str | None, steps: int, repeats: int = 3) -> dict:
    gen = Generator(random_init=True, config=cfg, device="cpu")
    c = gen.cfg
    x = torch.randn(2, c.channels, c.frames, *c.frame_shape(aspect))
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
                            steps=steps, guidance=3.0, aspect=aspect)
    gen.generate(req)
    walls, firsts = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        first = []
        gen.generate(req, callback=lambda *_, first=first, t0=t0: first.append(time.perf_counter() - t0) and False)
        walls.append(time.perf_counter() - t0)
        firsts.append(first[0])
    wall = min(walls)
    h, w = gen.native_size(aspect)
    return {"config": name, "size": f"{w}×{h}", "params_M": gen.info["params"] / 1e6,
            "gflops_fwd_b1": gen.model.describe()["flops_per_forward"] / 1e9, "tokens": c.num_tokens,
            "decode_gflops": decoder_gflops(gen, aspect) if gen.ae is not None else 0.0,
            "ms_forward_b2": fwd * 1e3, "clip_s": wall, "first_preview_s": min(firsts),
            "overhead": wall / (steps * fwd)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, bf16 autocast, {args.steps} guided DPM-Solver++ steps")
    print(f"{'config':22s} {'size':>8s} {'params':>8s} {'GFLOPs':>7s} {'tokens':>6s} {'dec GFLOPs':>10s} "
          f"{'ms/fwd b2':>9s} {'clip s':>7s} {'1st prev s':>10s} {'overhead':>8s}")
    for name, (cfg, aspect) in CONFIGS.items():
        r = bench(name, cfg, aspect, args.steps)
        print(f"{r['config']:22s} {r['size']:>8s} {r['params_M']:7.2f}M {r['gflops_fwd_b1']:7.2f} {r['tokens']:6d} "
              f"{r['decode_gflops']:10.1f} {r['ms_forward_b2']:9.1f} {r['clip_s']:7.2f} {r['first_preview_s']:10.2f} "
              f"{r['overhead']:8.3f}")


if __name__ == "__main__":
    main()
