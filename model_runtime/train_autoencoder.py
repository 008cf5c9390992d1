"""Training the video autoencoder on toy-world frames:
`python -m model_runtime.train_autoencoder --out runs/ae [--steps N] [--resume]`.

Crops of frames from every aspect at its native height (16:9 at 144 px, 9:16 at 256, 1:1 at 192), drawn
from the training split only (no held-out triple is ever rendered). Batch s is a pure function of
(seed, s, rank), so a resumed run is bit for bit the run that was not stopped. The state (weights and
optimizer) is saved as safetensors + JSON; SIGINT/SIGTERM save and stop. Runs under torchrun too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.utils.data import DataLoader, IterableDataset

from model_runtime import autoencoder as aem
from model_runtime import toyworld
from model_runtime.errors import RuntimeUserError
from model_runtime.train import (
    _restore_optimizer,
    hash_seed,
    quiet_worker,
    state_dir,
    threading_main,
    write_state,
)

NATIVE = tuple(aem.NATIVE_HEIGHTS.items())  # (aspect, native height)

DEFAULTS = {"batch": 32, "crop": 64, "lr": 1e-3, "steps": 8000, "seed": 0, "latent_l2": 1e-4,
            "latent_noise": 0.1, "mse_weight": 1.0, "checkpoint_minutes": 4.0, "workers": 1, "freeze_encoder": False}


def training_crops(rng: np.random.Generator, n: int, crop: int) -> np.ndarray:
    """n crops (uint8 n×crop×crop×3) of random training-split frames at the native sizes."""
    out = []
    while len(out) < n:
        scene = toyworld.sample_scene(rng, "train")
        aspect, height = NATIVE[int(rng.integers(len(NATIVE)))]
        frames = int(rng.integers(2, 9))
        clip = toyworld.render(scene, int(rng.integers(2**31)), size=height, frames=frames, aspect=aspect)
        for t in rng.choice(frames, size=2, replace=False):
            for _ in range(2):
                y = int(rng.integers(0, clip.shape[1] - crop + 1))
                x = int(rng.integers(0, clip.shape[2] - crop + 1))
                out.append(clip[t, y:y + crop, x:x + crop])
    return np.stack(out[:n])


class Crops(IterableDataset):
    def __init__(self, tr: dict, start: int, rank: int):
        self.tr, self.start, self.rank = tr, start, rank

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        step = self.start + ((wid - self.start) % nw)
        while True:
            rng = np.random.default_rng([self.tr["seed"], step, self.rank])
            crops = training_crops(rng, self.tr["batch"], self.tr["crop"])
            yield step, torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 127.5 - 1.0
            step += nw


def loss_fn(ae: aem.VideoAutoencoder, x: torch.Tensor, tr: dict, g: torch.Generator) -> torch.Tensor:
    """L1 + MSE reconstruction of frames (B×3×H×W), with the decoder also fed slightly noisy latents
    (the U-ViT's outputs are never exact) and a small L2 pull that keeps the latents' scale bounded."""
    if tr.get("freeze_encoder"):
        with torch.no_grad():
            z = ae.encoder(x)
    else:
        z = ae.encoder(x)
    noise = torch.randn(z.shape, generator=g).to(z.device, z.dtype)
    zn = z + tr["latent_noise"] * z.detach().float().std().to(z.dtype) * noise
    rec = ae.decoder(zn).float()
    return F.l1_loss(rec, x) + tr["mse_weight"] * F.mse_loss(rec, x) + tr["latent_l2"] * z.float().pow(2).mean()


def lr_at(step: int, tr: dict) -> float:
    warm = min(1.0, (step + 1) / 200)
    cos = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, tr["steps"]))))
    return tr["lr"] * warm * cos


def save_state(out: Path, step: int, ae, opt, tr: dict, elapsed: float) -> None:
    write_state(out, {"model": ae}, opt, {"step": step, "model": ae.cfg.to_dict(), "train": tr, "elapsed_s": elapsed})


def load_state(out: Path, ae, opt) -> tuple[int, float]:
    d = state_dir(out)
    if d is None or not (d / "state.json").exists():
        raise RuntimeUserError("resume", f"{out}: nothing to resume (no state/ folder)")
    meta = json.loads((d / "state.json").read_text())
    ae.load_state_dict(load_file(str(d / "model.safetensors")))
    _restore_optimizer(opt, load_file(str(d / "optimizer.safetensors")), meta["optimizer"])
    return int(meta["step"]), float(meta.get("elapsed_s", 0.0))


def train(out: str, tr: dict, cfg: aem.AEConfig, resume: bool = False, max_minutes: float | None = None,
          device: str = "cpu", quiet: bool = False, max_steps: int | None = None, init: str | None = None) -> dict:
    """`tr["freeze_encoder"]`: train the decoder alone (latents made by the encoder stay valid, so a
    latent cache and a U-ViT can be built on them while the decoder still improves); `init`: start from
    another run's weights with a fresh optimizer."""
    out_p = Path(out)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    dev = torch.device(device)
    if world > 1:
        if dev.type == "cuda":
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    torch.manual_seed(tr["seed"])
    ae = aem.VideoAutoencoder(cfg).to(dev)
    params = (list(ae.encoder.parameters()) if not tr.get("freeze_encoder") else []) + list(ae.decoder.parameters())
    opt = torch.optim.AdamW(params, lr=tr["lr"], betas=(0.9, 0.99), weight_decay=0.0)
    step, elapsed = 0, 0.0
    if resume:
        step, elapsed = load_state(out_p, ae, opt)
    elif (out_p / "state").exists():
        raise RuntimeUserError("resume", f"{out}: already has a training state (add --resume to continue it)")
    elif init:
        d = Path(init) / "state"
        if not (d / "model.safetensors").exists():
            raise RuntimeUserError("init", f"{init}: no saved autoencoder state to start from")
        ae.load_state_dict(load_file(str(d / "model.safetensors")))
    if rank == 0:
        out_p.mkdir(parents=True, exist_ok=True)
    net = torch.nn.parallel.DistributedDataParallel(ae) if world > 1 else ae
    loader = DataLoader(Crops(tr, step, rank), batch_size=None, num_workers=tr["workers"], worker_init_fn=quiet_worker,
                        prefetch_factor=2 if tr["workers"] else None)
    end = tr["steps"] if max_steps is None else min(tr["steps"], step + max_steps)
    stop = {"now": False}
    handlers = {s: signal.signal(s, lambda *_: stop.update(now=True)) for s in (signal.SIGINT, signal.SIGTERM)} \
        if threading_main() else {}
    t0 = last = time.monotonic()
    losses: list[float] = []
    amp = torch.autocast(dev.type, dtype=torch.bfloat16) if dev.type in ("cpu", "cuda") else nullcontext()
    try:
        it = iter(loader)
        while step < end:
            s, x = next(it)
            assert s == step, (s, step)
            x = x.to(dev)
            g = torch.Generator().manual_seed(hash_seed(tr["seed"], step, rank))
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step, tr)
            with amp:
                loss = loss_fn(net.module if world > 1 else ae, x, tr, g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if world > 1:
                for p in params:
                    if p.grad is not None:
                        dist.all_reduce(p.grad)
                        p.grad /= world
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            losses.append(loss.item())
            now = time.monotonic()
            if not quiet and rank == 0 and step % 50 == 0:
                print(f"step {step} loss {np.mean(losses[-50:]):.5f} ({(now - t0) / len(losses):.2f} s/step)",
                      file=sys.stderr, flush=True)
            halt = stop["now"] or (max_minutes is not None and now - t0 > max_minutes * 60)
            if world > 1:
                flag = torch.tensor([float(halt)], device=dev)
                dist.all_reduce(flag)
                halt = bool(flag.item() > 0)
            if rank == 0 and (now - last > tr["checkpoint_minutes"] * 60 or step == end or halt):
                save_state(out_p, step, ae, opt, tr, elapsed + now - t0)
                last = now
            if halt:
                break
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
        if world > 1:
            dist.destroy_process_group()
    return {"step": step, "loss": float(np.mean(losses[-50:])) if losses else math.nan}


def release(run: Path, dest: Path | None = None, n: int = 48, seed: int = 1) -> Path:
    """Ship a run's autoencoder: fit its latent normalisation and its preview map on training-split
    clips at every native aspect, then save it (fp16) to `dest` (default assets/models/vstudio-ae)."""
    d = state_dir(run)
    if d is None or not (d / "state.json").exists():
        raise RuntimeUserError("release", f"{run}: no saved autoencoder state")
    ae = aem.VideoAutoencoder(aem.AEConfig.from_dict(json.loads((d / "state.json").read_text())["model"]))
    ae.load_state_dict(load_file(str(d / "model.safetensors")))
    ae.eval()
    meta = json.loads((d / "state.json").read_text())
    rng = np.random.default_rng([seed, 5])
    clips = []
    for i in range(n):
        aspect, height = NATIVE[i % len(NATIVE)]
        scene = toyworld.sample_scene(rng, "train")
        clips.append(toyworld.render(scene, int(rng.integers(2**31)), size=height, frames=4, aspect=aspect))
    xs = [aem.to_model_space(c) for c in clips]
    aem.fit_normalisation(ae, xs)
    err = aem.fit_preview(ae, xs)
    out = dest or aem.ASSETS / aem.DEFAULT_NAME
    aem.save(ae, out, meta={"step": meta["step"], "train": meta["train"], "elapsed_s": meta["elapsed_s"],
                            "preview_rms": err}, half=True)
    return out.with_suffix(".safetensors")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.train_autoencoder", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    ap.add_argument("--batch", type=int, default=DEFAULTS["batch"])
    ap.add_argument("--latent-channels", type=int, default=8)
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--init", default=None, help="start from another run's weights (fresh optimizer)")
    ap.add_argument("--freeze-encoder", action="store_true", help="train the decoder alone")
    ap.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    ap.add_argument("--release", action="store_true", help="ship the run in --out to assets/models/ (fits the "
                                                          "latent normalisation and the preview map first)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    tr = {**DEFAULTS, "steps": args.steps, "batch": args.batch, "lr": args.lr, "freeze_encoder": args.freeze_encoder}
    try:
        if args.release:
            path = release(Path(args.out))
            print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
            return 0
        res = train(args.out, tr, aem.AEConfig(latent_channels=args.latent_channels), args.resume,
                    args.max_minutes, args.device, init=args.init)
    except RuntimeUserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
