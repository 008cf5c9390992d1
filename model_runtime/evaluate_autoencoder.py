"""How faithful the video autoencoder is on held-out toy-world clips at every aspect's native size:
`python -m model_runtime.evaluate_autoencoder [--checkpoint PATH] [--n 8] [--json out.json]`.

Per aspect: reconstruction PSNR, and the roughness of the decoded backgrounds over the renderer's
(picture_quality.roughness, the subject and a margin masked out by where the clip differs from its
empty background).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from contract.aspects import frame_width
from contract.files import atomic_write
from model_runtime import autoencoder as aem
from model_runtime import toyworld
from model_runtime.errors import RuntimeUserError
from model_runtime.picture_quality import psnr, roughness


def evaluate(ae: aem.VideoAutoencoder, n: int = 8, seed: int = 0, frames: int = 16) -> dict:
    rng = np.random.default_rng([seed, 11])
    out = {}
    for aspect, height in aem.NATIVE_HEIGHTS.items():
        ps, ratios = [], []
        for _ in range(n):
            scene = toyworld.sample_scene(rng, "heldout")
            rseed = int(rng.integers(2**31))
            clip = toyworld.render(scene, rseed, size=height, frames=frames, aspect=aspect)
            empty = toyworld.empty_frames(scene.background, scene.camera, rseed, size=height, frames=frames,
                                          aspect=aspect)
            subject = np.abs(clip.astype(int) - empty.astype(int)).max(-1) > 0
            rec = aem.round_trip(ae, clip)
            ps.append(psnr(clip, rec))
            ratios.append(roughness(rec, subject) / roughness(clip, subject))
        out[aspect] = {"psnr_db": float(np.mean(ps)), "psnr_min_db": float(np.min(ps)),
                       "roughness_ratio": float(np.mean(ratios)), "clips": n, "height": height,
                       "width": frame_width(height, aspect)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.evaluate_autoencoder", description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="default: the bundled autoencoder")
    ap.add_argument("--n", type=int, default=8, help="held-out clips per aspect")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    try:
        if args.n < 1:
            raise RuntimeUserError("bad_argument", "--n must be at least 1")
        ae, _ = aem.load(args.checkpoint)
        res = evaluate(ae, args.n, args.seed)
    except RuntimeUserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for aspect, r in res.items():
        print(f"{aspect:>5} {r['width']}×{r['height']}: PSNR {r['psnr_db']:.2f} dB (min {r['psnr_min_db']:.2f}), "
              f"background roughness {r['roughness_ratio']:.2f}× the renderer's")
    if args.json:
        atomic_write(args.json, json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
