"""Which training choices let a U-ViT learn motion from the prompt: a small model (width 128, depth 5)
trained for a few hundred steps on clips where only the motion varies (a red ball, medium shot, in a
studio, static camera), once per variant, then probed as in probe_conditioning.py.

Variants: in-context text tokens only (U-ViT) or with adaLN; t drawn uniformly or half of it from
t >= 700 (p_high_noise 0.5). About 4 minutes per variant on one CPU thread.

    python benchmarks/probe_motion_learning.py [--steps 400] [--out /tmp/motion_probe]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.probe_conditioning import probe_noise, red_centroids, sensitivity  # noqa: E402
from model_runtime import toyworld  # noqa: E402
from model_runtime import train as T  # noqa: E402
from model_runtime.pipeline import Generator  # noqa: E402

VARIANTS = [("in-context, uniform t", False, 0.0), ("adaLN, uniform t", True, 0.0),
            ("in-context, half t>=700", False, 0.5), ("adaLN, half t>=700", True, 0.5)]


def only_motion(rng, split="train"):
    return toyworld.Scene(0, 0, 7, 1, int(rng.integers(6)), 0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--out", default="/tmp/motion_probe")
    args = ap.parse_args()
    torch.set_num_threads(1)
    toyworld.sample_scene = only_motion  # the data loader draws every scene through this
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (name, adaln, p_high) in enumerate(VARIANTS):
        cfg = {"model": {"frames": 16, "size": 32, "patch": [4, 4, 4], "width": 128, "depth": 5, "heads": 4,
                         "text_len": 8, "text_width": 64, "vocab_size": 64, "text_layers": 1, "prediction": "v",
                         "input_skip": True, "adaln": adaln},
               "train": {"batch": 16, "lr": 1e-3, "warmup": 50, "steps": 100000, "workers": 0, "ema": 0.99,
                         "checkpoint_minutes": 100.0, "p_known": 0.0, "p_high_noise": p_high}}
        (out / f"v{i}.json").write_text(json.dumps(cfg))
        torch.manual_seed(0)
        t0 = time.perf_counter()
        res = T.train(str(out / f"v{i}.json"), str(out / f"v{i}"), max_steps=args.steps, quiet=True)
        gen = Generator(checkpoint=str(out / f"v{i}" / "ema.safetensors"), device="cpu")
        noise = probe_noise(gen)
        sens = sensitivity(gen, 999, noise)
        _, y_up = red_centroids(gen, 3, noise)
        _, y_down = red_centroids(gen, 4, noise)
        xs_l, _ = red_centroids(gen, 1, noise)
        rows.append((name, float(np.mean(res["losses"][-20:])), sens["motion"], y_up[-1] - y_up[0],
                     y_down[-1] - y_down[0], xs_l[-1] - xs_l[0], time.perf_counter() - t0))
        print(f"{name}: done in {rows[-1][-1]:.0f} s", file=sys.stderr)
    print(f"{'variant':26s}{'loss':>8s}{'motion Δx0':>12s}{'up Δy':>8s}{'down Δy':>9s}{'left Δx':>9s}")
    for name, loss, sm, up, down, left, _ in rows:
        print(f"{name:26s}{loss:8.3f}{sm:12.3f}{up:8.1f}{down:9.1f}{left:9.1f}")
    print("(truth: up Δy -16, down Δy +16, left Δx -16 pixels from frame 0 to 15; loss compares only within a t draw)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
