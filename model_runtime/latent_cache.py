"""Latent clips for training a latent U-ViT, made once and reused:
`python -m model_runtime.latent_cache --out runs/latents --n 6000 [--autoencoder PATH]`.

Rendering a native clip and encoding it costs ~50× a pixel model's 32-px clip, more than the training
step itself on a CPU, so clips are rendered from the training split (never a held-out triple), encoded
once and stored in shards: `{aspect}-{k:05d}.safetensors` with the normalised latents (fp16), the
scene (6 slot indices), the render seed and the annotated layout of every clip. Clip i is a pure
function of (seed, i); shards are written atomically, so the command resumes where it stopped and a
trainer may read the shards that exist while more are being made. `LatentClips` serves a latent
model's training batches from them (train.py uses it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from contract.files import atomic_write
from model_runtime import autoencoder as aem
from model_runtime import checkpoint as ckpt
from model_runtime import toyworld
from model_runtime.anchored_noise import anchored_noise
from model_runtime.checkpoint import atomic_write_bytes
from model_runtime.errors import RuntimeUserError
from model_runtime.text import SLOTS, Tokenizer
from model_runtime.train import ToyClips
from model_runtime.uvit import UViTConfig

# share of clips per aspect: the film's 16:9 first
ASPECT_WEIGHTS = {"16:9": 0.5, "9:16": 0.25, "1:1": 0.25}


def clip_spec(seed: int, i: int) -> tuple[str, toyworld.Scene, int]:
    """(aspect, scene, render seed) of clip i: a pure function of (seed, i)."""
    rng = np.random.default_rng([seed, i, 7])
    names = list(ASPECT_WEIGHTS)
    aspect = names[int(rng.choice(len(names), p=list(ASPECT_WEIGHTS.values())))]
    scene = toyworld.sample_scene(rng, "train")
    return aspect, scene, int(rng.integers(2**31))


def shard_name(aspect: str, k: int) -> str:
    return f"{aspect.replace(':', 'x')}-{k:05d}.safetensors"


def build(out: Path, n: int, ae: aem.VideoAutoencoder, heights: dict[str, int], frames: int = 16,
          shard: int = 128, seed: int = 0, quiet: bool = False, ae_path: str | None = None) -> int:
    """Makes clips 0..n-1 into shards of `shard` clips (per aspect, in clip order); skips shards that
    exist. Returns the number of shards written now. `ae_path`: the autoencoder checkpoint `ae` was
    loaded from, noted so a trainer can ship the same one beside the model."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "cache.json", json.dumps({"seed": seed, "frames": frames, "heights": heights,
                                                "autoencoder": ae.cfg.to_dict(), "autoencoder_path": ae_path}))
    by_aspect: dict[str, list[int]] = {a: [] for a in ASPECT_WEIGHTS}
    for i in range(n):
        by_aspect[clip_spec(seed, i)[0]].append(i)
    written = 0
    # round-robin over aspects so a partial cache has every aspect
    jobs = [(a, k, idx[k * shard:(k + 1) * shard]) for a, idx in by_aspect.items()
            for k in range(len(idx) // shard)]
    jobs.sort(key=lambda j: (j[1], list(ASPECT_WEIGHTS).index(j[0])))
    for aspect, k, idx in jobs:
        path = out / shard_name(aspect, k)
        if path.exists():
            continue
        lat, scenes, seeds, layouts = [], [], [], []
        for i in idx:
            _, scene, rseed = clip_spec(seed, i)
            clip = toyworld.render(scene, rseed, size=heights[aspect], frames=frames, aspect=aspect)
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                z = ae.encode(aem.to_model_space(clip))
            lat.append(z[0].to(torch.float16))
            scenes.append([getattr(scene, s) for s in SLOTS])
            seeds.append(rseed)
            layouts.append(torch.from_numpy(toyworld.subject_track(scene, rseed, frames=frames)))
        tensors = {"latents": torch.stack(lat).contiguous(), "scenes": torch.tensor(scenes, dtype=torch.int32),
                   "seeds": torch.tensor(seeds, dtype=torch.int64), "layouts": torch.stack(layouts).contiguous(),
                   "index": torch.tensor(idx, dtype=torch.int64)}
        atomic_write_bytes(path, lambda tmp, t=tensors: save_file(t, tmp))
        written += 1
        if not quiet:
            print(f"{path.name}: {len(idx)} clips", file=sys.stderr, flush=True)
    return written


def cache_autoencoder(folder: Path) -> Path | None:
    """The autoencoder checkpoint a cache was encoded with (None when it does not say)."""
    try:
        path = json.loads((folder / "cache.json").read_text()).get("autoencoder_path")
    except (OSError, ValueError):
        return None
    return Path(path) if path else None


def read_shards(folder: Path, known: dict[str, dict] | None = None) -> dict[str, dict]:
    """{shard file name: its tensors} for every complete shard in `folder` (kept from `known` if there)."""
    out = dict(known or {})
    for p in sorted(folder.glob("*.safetensors")):
        if p.name not in out:
            out[p.name] = load_file(str(p))
    return out


class LatentClips(ToyClips):
    """A latent model's batches, from a latent cache (model_runtime/latent_cache.py): one aspect per
    batch (drawn by the cache's share of clips of each aspect), clips drawn with replacement. The cache
    may still be growing: its shards are re-read every `rescan` steps, so a resumed run draws the same
    batches only when the cache did not change in between."""

    rescan = 100

    def __init__(self, cfg: UViTConfig, train: dict, start: int, rank: int, folder: str):
        super().__init__(cfg, train, start, rank)
        self.folder = Path(folder)
        self.shards: dict[str, dict] = {}
        self.scanned_at: int | None = None

    def _pool(self, step: int) -> dict[str, list[dict]]:
        if self.scanned_at is None or step - self.scanned_at >= self.rescan:
            self.shards = read_shards(self.folder, self.shards)
            self.scanned_at = step
        pool: dict[str, list[dict]] = {}
        for name, t in sorted(self.shards.items()):
            aspect = name.split("-")[0].replace("x", ":")
            if aspect in self.cfg.aspect_names:
                pool.setdefault(aspect, []).append(t)
        if not pool:
            raise RuntimeUserError("data", f"{self.folder}: no latent shards for this model's aspects")
        return pool

    def batch_for(self, step: int):
        cfg, tr = self.cfg, self.train
        pool = self._pool(step)
        rng = np.random.default_rng([tr["seed"], step, self.rank])
        aspects = sorted(pool)
        sizes = np.array([sum(len(t["seeds"]) for t in pool[a]) for a in aspects], float)
        aspect = aspects[int(rng.choice(len(aspects), p=sizes / sizes.sum()))]
        shards = pool[aspect]
        counts = np.cumsum([len(t["seeds"]) for t in shards])
        tok = Tokenizer(cfg.text_len)
        lat, ids, known, layouts = [], [], [], []
        for j in rng.integers(counts[-1], size=tr["batch"]):
            k = int(np.searchsorted(counts, j, side="right"))
            i = int(j - (counts[k - 1] if k else 0))
            t = shards[k]
            scene = toyworld.Scene(*(int(v) for v in t["scenes"][i]))
            lat.append(t["latents"][i].float())
            layouts.append(t["layouts"][i])
            keep = tuple(bool(v) for v in rng.random(len(SLOTS)) >= tr["p_drop_slot"])
            ids.append(tok.pad(tok.scene_ids(scene, keep)))
            known.append(int(rng.choice(tr["known_choices"])) if rng.random() < tr["p_known"] else 0)
        x = torch.stack(lat)
        layout = torch.stack(layouts)
        noise = None
        if cfg.anchored_noise:
            h, w = cfg.frame_shape(aspect)
            anchored = torch.from_numpy(rng.random(len(lat)) < tr["p_anchored"])
            g = torch.Generator().manual_seed(int(rng.integers(2**63)))
            lay = torch.where(anchored[:, None, None], layout, torch.zeros_like(layout))
            noise = anchored_noise(lay, cfg.channels, h, g, width=w)
        return step, x, torch.tensor(ids), torch.tensor(known), layout, noise


def ship_autoencoder(latents: Path, out: Path, name: str) -> None:
    """Put the autoencoder the latents were encoded with beside the run's checkpoints (as NAME), so
    a run's ema checkpoint loads and decodes like a shipped one."""
    src = cache_autoencoder(latents) or ckpt.ASSETS / f"{name}.safetensors"
    for a, b in zip(ckpt.paths_for(src), ckpt.paths_for(out / name), strict=True):
        if not a.exists():
            raise RuntimeUserError("data", f"{a}: the latents' autoencoder is missing")
        if a.resolve() != b.resolve():
            shutil.copyfile(a, b)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.latent_cache", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, required=True, help="clips in all (made in shards; resumes)")
    ap.add_argument("--autoencoder", default=None, help="default: the bundled autoencoder")
    ap.add_argument("--shard", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        ae, info = aem.load(args.autoencoder)
        build(Path(args.out), args.n, ae, aem.NATIVE_HEIGHTS, ae_path=info["path"], shard=args.shard, seed=args.seed)
    except RuntimeUserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
