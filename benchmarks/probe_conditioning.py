"""How much each prompt slot moves a checkpoint's prediction, and whether motion moves the subject.

For a fixed noise and a base prompt (a red ball, medium shot, in a studio, static camera), swaps one
slot at a time and reports mean |Δx0| of the predicted clean clip at t = 999 (pure noise: only the
prompt can say anything) and t = 500. A slot the model ignores shows ~0.005 or less. Then, per motion,
the red subject's centroid (x, y in pixels) at frames 0, 5, 10, 15 of the t = 999 prediction. For a
model with a layout planner, also the planner's error against the annotated layouts of 256 training
scenes (mean |error| per layout field, in H units; log zoom for the zoom).

    python benchmarks/probe_conditioning.py [CHECKPOINT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from model_runtime import toyworld  # noqa: E402
from model_runtime.pipeline import Generator  # noqa: E402
from model_runtime.text import SLOTS, _slot_offsets  # noqa: E402

BASE = dict(subject=0, color=0, background=7, size=1, motion=0, camera=0)
MOTIONS = ["still", "left", "right", "up", "down", "bounce"]


def probe_noise(gen: Generator) -> torch.Tensor:
    """The fixed noise every probe is measured under (4 clips at the model's native size)."""
    c = gen.cfg
    return torch.randn(4, c.channels, c.frames, c.size, c.size, generator=torch.Generator().manual_seed(1))


def predicted_x0(gen: Generator, scene: dict, t: float, noise: torch.Tensor) -> torch.Tensor:
    off = _slot_offsets()
    ids = torch.tensor([gen.tokenizer.pad([off[s] + scene[s] for s in SLOTS])] * noise.shape[0])
    tt = torch.full((noise.shape[0],), float(t))
    a, s = gen.schedule.scales(tt, noise)
    with torch.no_grad():
        return ((noise - s * gen._model_fn(noise, tt, ids)) / a).clamp(-1, 1)


def sensitivity(gen: Generator, t: float, noise: torch.Tensor) -> dict[str, float]:
    ref = predicted_x0(gen, BASE, t, noise)
    out = {}
    for slot in SLOTS:
        other = dict(BASE, **{slot: 2 if BASE[slot] == 1 else 1})
        out[slot] = float((predicted_x0(gen, other, t, noise) - ref).abs().mean())
    return out


def red_centroids(gen: Generator, motion: int, noise: torch.Tensor) -> tuple[list[float], list[float]]:
    x0 = predicted_x0(gen, dict(BASE, motion=motion), 999, noise).mean(0)
    red = (x0[0] - (x0[1] + x0[2]) / 2).clamp_min(0)
    red = torch.where(red > 0.5 * red.amax(dim=(1, 2), keepdim=True), red, torch.zeros_like(red))
    h, w = red.shape[1:]
    yy, xx = torch.meshgrid(torch.arange(float(h)), torch.arange(float(w)), indexing="ij")
    mass = red.sum((1, 2)).clamp_min(1e-6)
    cx, cy = (red * xx).sum((1, 2)) / mass, (red * yy).sum((1, 2)) / mass
    frames = list(range(0, red.shape[0], 5))
    return [float(cx[f]) for f in frames], [float(cy[f]) for f in frames]


def planner_error(gen: Generator, n: int = 256) -> dict[str, float]:
    rng = np.random.default_rng(123)
    scenes = [toyworld.sample_scene(rng, "train") for _ in range(n)]
    seeds = [int(rng.integers(2**31)) for _ in range(n)]
    truth = torch.from_numpy(np.stack([toyworld.subject_track(s, k, gen.cfg.frames) for s, k in zip(scenes, seeds, strict=True)]))
    ids = torch.tensor([gen.tokenizer.pad(gen.tokenizer.scene_ids(s)) for s in scenes])
    with torch.no_grad():
        planned = gen.model.planner(ids.to(gen.device)).float().cpu()
    err = (planned - truth).abs().mean(dim=(0, 1))
    return {f: float(e) for f, e in zip(toyworld.TRACK_FIELDS, err, strict=True)}


def main(argv: list[str]) -> int:
    torch.set_num_threads(1)
    gen = Generator(checkpoint=argv[0] if argv else None, device="cpu")
    noise = probe_noise(gen)
    print(f"{gen.info['model_id']} ({gen.info['checkpoint_hash'][:12] or 'no hash'})")
    for t in (999, 500):
        sens = sensitivity(gen, t, noise)
        print(f"t={t}: " + "  ".join(f"{k} {v:.3f}" for k, v in sens.items()))
    for m, name in enumerate(MOTIONS):
        xs, ys = red_centroids(gen, m, noise)
        print(f"  {name:6s} x " + " ".join(f"{v:4.1f}" for v in xs) + "   y " + " ".join(f"{v:4.1f}" for v in ys))
    if gen.cfg.layout:
        print("planner |error|: " + "  ".join(f"{k} {v:.3f}" for k, v in planner_error(gen).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
