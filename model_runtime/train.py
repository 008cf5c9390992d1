"""Training: `python -m model_runtime.train --config CONFIG --out runs/NAME [--resume]`.

Clips are rendered on the fly from the toy world (DataLoader workers). AdamW with warmup, EMA
weights, condition dropout for classifier-free guidance, and known-frame conditioning (so the same
model does image-to-video and extend). Resumable bit for bit: every random draw is a function of
(seed, step, rank), and the state (weights, EMA, optimizer) is saved as safetensors + JSON.
Runs under `torchrun --nproc_per_node=N` with DistributedDataParallel (gloo on CPU, nccl on GPU).
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
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader, IterableDataset

from contract.files import atomic_write
from model_runtime import checkpoint as ckpt
from model_runtime import toyworld
from model_runtime.anchored_noise import anchored_noise
from model_runtime.diffusion import Schedule, noise_prediction_loss
from model_runtime.errors import RuntimeUserError
from model_runtime.model import VideoDiffusionModel
from model_runtime.subject_plan import PLAN_DIM
from model_runtime.text import PAD, SLOTS, Tokenizer
from model_runtime.uvit import UViTConfig

DEFAULT_TRAIN = {
    "batch": 32,  # per process
    "lr": 3e-4,
    "weight_decay": 0.01,
    "warmup": 200,
    "steps": 100_000,
    "ema": 0.999,
    "ema_warmup": True,
    "ema_start": 0,  # step the EMA (and its warmup) restarted from, e.g. after changing the objective
    "warmup_start": 0,  # step the learning-rate warmup restarted from (set by --init: a fresh optimizer)
    "p_uncond": 0.1,
    "p_drop_slot": 0.15,  # leave a prompt slot out, as terse prompts do
    "p_known": 0.25,  # share of clips trained with known first frames (i2v / extend)
    "p_high_noise": 0.0,  # share of clips whose t is drawn from the top of the schedule (layout, motion)
    "high_noise_from": 0.7,
    "plan_weight": 1.0,  # weight of the layout planner's error (layout configs only)
    "p_anchored": 0.9,  # share of clips trained on layout-anchored noise (anchored_noise configs only)
    "known_choices": [1, 4],
    "grad_clip": 1.0,
    "workers": 1,
    "seed": 0,
    "checkpoint_minutes": 5.0,
    "autocast": True,
}


def load_config(path: str) -> tuple[UViTConfig, dict]:
    p = Path(path)
    if not p.exists():
        raise RuntimeUserError("config", f"{path}: config file not found")
    try:
        doc = json.loads(p.read_text())
        cfg = UViTConfig.from_dict(doc.get("model", {}))
    except (json.JSONDecodeError, ValueError, TypeError) as e:
        raise RuntimeUserError("config", f"{path}: {e}") from None
    unknown = set(doc.get("train", {})) - set(DEFAULT_TRAIN)
    if unknown:
        raise RuntimeUserError("config", f"{path}: unknown train keys {', '.join(sorted(unknown))}")
    return cfg, {**DEFAULT_TRAIN, **doc.get("train", {})}


class ToyClips(IterableDataset):
    """Yields whole batches for steps start, start+1, ... ; batch s is a pure function of (seed, s, rank),
    and worker w makes the steps with s % workers == w (the DataLoader interleaves them back in order)."""

    def __init__(self, cfg: UViTConfig, train: dict, start: int, rank: int):
        self.cfg, self.train, self.start, self.rank = cfg, train, start, rank

    def batch_for(self, step: int):
        cfg, tr = self.cfg, self.train
        rng = np.random.default_rng([tr["seed"], step, self.rank])
        tok = Tokenizer(cfg.text_len)
        clips, ids, known, layouts = [], [], [], []
        for _ in range(tr["batch"]):
            scene = toyworld.sample_scene(rng, "train")
            seed = int(rng.integers(2**31))
            clips.append(toyworld.render(scene, seed, size=cfg.size, frames=cfg.frames))
            layouts.append(toyworld.subject_track(scene, seed, frames=cfg.frames))  # draws nothing from rng
            keep = tuple(bool(k) for k in rng.random(len(SLOTS)) >= tr["p_drop_slot"])
            ids.append(tok.pad(tok.scene_ids(scene, keep)))
            known.append(int(rng.choice(tr["known_choices"])) if rng.random() < tr["p_known"] else 0)
        x = torch.from_numpy(np.stack(clips)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0
        layout = torch.from_numpy(np.stack(layouts))
        noise = None  # the loss draws i.i.d. noise
        if cfg.anchored_noise:
            # anchored by the clip's annotated layout; the rest i.i.d. (rows without a layout are too)
            anchored = torch.from_numpy(rng.random(len(clips)) < tr["p_anchored"])
            g = torch.Generator().manual_seed(int(rng.integers(2**63)))
            lay = torch.where(anchored[:, None, None], layout, torch.zeros_like(layout))
            noise = anchored_noise(lay, cfg.channels, cfg.size, g)
        return step, x, torch.tensor(ids), torch.tensor(known), layout, noise

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        step = self.start + ((wid - self.start) % nw)
        while True:
            yield self.batch_for(step)
            step += nw


# ---- state on disk (safetensors + JSON, never pickle) --------------------------------------------
def _flat_optimizer(opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{idx}.{k}"] = v.contiguous()
            else:
                scalars[f"{idx}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_optimizer(opt: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict = {}
    for key, v in tensors.items():
        idx, k = key.split(".", 1)
        state.setdefault(int(idx), {})[k] = v
    for key, v in meta["scalars"].items():
        idx, k = key.split(".", 1)
        state.setdefault(int(idx), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def write_state(out: Path, modules: dict, opt: torch.optim.Optimizer, meta: dict) -> None:
    """A run's state as out/state/: NAME.safetensors per module, optimizer.safetensors and state.json
    (meta + the optimizer's scalars). Written to state.tmp, then swapped in with renames, so a kill at
    any moment leaves state/ or state.old/ whole (state_dir finds either)."""
    tmp = out / "state.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(tmp / f"{name}.safetensors"))
    opt_t, opt_meta = _flat_optimizer(opt)
    save_file(opt_t, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps({**meta, "optimizer": opt_meta}))
    final = out / "state"
    old = out / "state.old"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        for f in old.iterdir():
            f.unlink()
        old.rmdir()


def save_state(out: Path, step: int, model, ema, opt, cfg: UViTConfig, train: dict, elapsed: float) -> None:
    write_state(out, {"model": model, "ema": ema}, opt,
                {"step": step, "model": cfg.to_dict(), "train": train, "elapsed_s": elapsed})
    # The EMA weights as a loadable checkpoint, for evaluation and shipping.
    ckpt.save(ema, out / "ema", meta={"step": step, "train": train, "elapsed_s": elapsed})


def state_dir(out: Path) -> Path | None:
    """A run's saved state: state/, or state.old/ when a save was interrupted between its two renames."""
    for d in (out / "state", out / "state.old"):
        if d.exists():
            return d
    return None


def load_state(out: Path, model, ema, opt) -> tuple[int, float, dict]:
    d = state_dir(out)
    if d is None:
        raise RuntimeUserError("resume", f"{out}: nothing to resume (no state/ folder)")
    meta = json.loads((d / "state.json").read_text())
    model.load_state_dict(load_file(str(d / "model.safetensors")))
    ema.load_state_dict(load_file(str(d / "ema.safetensors")))
    _restore_optimizer(opt, load_file(str(d / "optimizer.safetensors")), meta["optimizer"])
    return int(meta["step"]), float(meta.get("elapsed_s", 0.0)), meta.get("train", {})


def lr_at(step: int, tr: dict) -> float:
    return tr["lr"] * min(1.0, (step + 1 - tr["warmup_start"]) / max(1, tr["warmup"]))


def _grow_inputs(weights: dict, own: dict) -> dict:
    """A weight that gained input channels (dim 1: e.g. the patch embedding when layout channels are
    added) keeps its old columns and gets zeros for the new ones, so the warm start's function is unchanged."""
    out = dict(weights)
    for k, w in weights.items():
        t = own.get(k)
        if t is not None and w.ndim >= 2 and w.ndim == t.ndim and w.shape[1] < t.shape[1] \
                and w.shape[:1] + w.shape[2:] == t.shape[:1] + t.shape[2:]:
            grown = torch.zeros_like(t, dtype=w.dtype)
            grown[:, : w.shape[1]] = w
            out[k] = grown
    return out


def init_from(run: Path, model, ema) -> tuple[int, float]:
    """Warm start from another run's saved weights. The new config may add modules whose initial
    weights leave the function unchanged (e.g. adaLN's zero-initialised modulations); anything the old
    run has that this model lacks, or a shape that differs, is an error. The optimizer starts fresh."""
    d = state_dir(run)
    if d is None or not (d / "state.json").exists():
        raise RuntimeUserError("init", f"{run}: no saved training state to start from")
    meta = json.loads((d / "state.json").read_text())
    for target, name in ((model, "model"), (ema, "ema")):
        try:
            weights = _grow_inputs(load_file(str(d / f"{name}.safetensors")), target.state_dict())
            _, unexpected = target.load_state_dict(weights, strict=False)
        except (RuntimeError, OSError, SafetensorError) as e:  # a shape that differs, a missing or torn file
            raise RuntimeUserError("init", f"{run}: cannot start from its weights ({str(e).splitlines()[-1].strip()})") from None
        if unexpected:
            raise RuntimeUserError("init", f"{run}: weights this config has no place for: {', '.join(unexpected[:3])}")
    return int(meta["step"]), float(meta.get("elapsed_s", 0.0))


def init_matching(checkpoint: Path, model, ema) -> list[str]:
    """Warm start from a shipped checkpoint's weights wherever a tensor of the same name and shape
    exists (e.g. a latent model's transformer blocks, text encoder and planner from the pixel model);
    returns the names of the model's tensors that keep their fresh initialisation."""
    try:
        weights = load_file(str(checkpoint))
    except (OSError, SafetensorError) as e:
        raise RuntimeUserError("init", f"{checkpoint}: cannot read its weights ({str(e).splitlines()[0]})") from None
    own = model.state_dict()
    take = {k: v.to(own[k].dtype) for k, v in weights.items() if k in own and own[k].shape == v.shape}
    if not take:
        raise RuntimeUserError("init", f"{checkpoint}: no weight fits this model")
    for target in (model, ema):
        target.load_state_dict(take, strict=False)
    return sorted(k for k in own if k not in take)


@torch.no_grad()
def ema_update(ema, model, step: int, tr: dict) -> None:
    decay = tr["ema"]
    if tr["ema_warmup"]:
        s = max(0, step - tr["ema_start"])
        decay = min(decay, (1 + s) / (10 + s))
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(p.detach(), 1 - decay)


def train(config: str, out: str, resume: bool = False, max_steps: int | None = None,
          max_minutes: float | None = None, device: str = "auto", quiet: bool = False,
          init: str | None = None, latents: str | None = None) -> dict:
    from model_runtime import latent_cache  # latent models' data (it builds on ToyClips, defined here)

    cfg, tr = load_config(config)
    if cfg.autoencoder and not latents:
        raise RuntimeUserError("config", f"{config}: a latent model trains on a latent cache (--latents DIR)")
    if latents and not Path(latents).is_dir():
        raise RuntimeUserError("data", f"{latents}: latent cache folder not found")
    out_p = Path(out)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if distributed:
        if dev.type == "cuda":
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            dev = torch.device("cuda", local)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")

    torch.manual_seed(tr["seed"])  # identical initial weights on every rank
    model = VideoDiffusionModel(cfg).to(dev)
    ema = VideoDiffusionModel(cfg).to(dev)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "pos_embed" in n or "embed.weight" in n else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": tr["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=tr["lr"], betas=(0.9, 0.99))
    step, elapsed = 0, 0.0
    has_state = state_dir(out_p) is not None
    if resume and has_state:
        step, elapsed, saved = load_state(out_p, model, ema, opt)
        # a restart of warmup or EMA the run made (--init) outlives the config file's older values
        tr = {**tr, **{k: max(tr[k], int(saved.get(k, 0))) for k in ("ema_start", "warmup_start")}}
    elif init:
        if has_state:
            raise RuntimeUserError("init", f"{out}: already has a training state (add --resume to continue it)")
        if init.endswith(".safetensors"):  # a shipped checkpoint: take what fits (a new space's blocks)
            skipped = init_matching(Path(init), model, ema)
            if rank == 0 and not quiet:
                print(f"warm start from {init}; new (not taken): {', '.join(skipped) or 'nothing'}", file=sys.stderr)
            step, elapsed = 0, 0.0
        else:
            step, elapsed = init_from(Path(init), model, ema)
        # the step count goes on (fresh data, an honest total); warmup and EMA start again from here
        tr = {**tr, "warmup_start": step, "ema_start": step}
    elif resume:
        raise RuntimeUserError("resume", f"{out}: nothing to resume (no state/ folder)")
    if rank == 0:
        out_p.mkdir(parents=True, exist_ok=True)
        atomic_write(out_p / "config.json", json.dumps({"model": cfg.to_dict(), "train": tr}, indent=2))
        if cfg.autoencoder:
            latent_cache.ship_autoencoder(Path(latents), out_p, cfg.autoencoder)
    net = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    schedule = Schedule.cosine() if cfg.schedule == "cosine" else Schedule.linear()
    end = tr["steps"] if max_steps is None else min(tr["steps"], step + max_steps)
    data = latent_cache.LatentClips(cfg, tr, step, rank, latents) if cfg.autoencoder else ToyClips(cfg, tr, step, rank)
    loader = DataLoader(data, batch_size=None, num_workers=tr["workers"], worker_init_fn=quiet_worker,
                        persistent_workers=False, prefetch_factor=2 if tr["workers"] else None)
    amp = (lambda: torch.autocast(dev.type, dtype=torch.bfloat16)) if tr["autocast"] else nullcontext

    plan = {}

    def model_fn(x, t, cond):
        if not cfg.layout:
            with amp():
                return net(x, t, cond)
        # the layout rides in the condition tensor, so CFG's dropout drops it with the words
        ids, layout = cond[:, : cfg.text_len].long(), cond[:, cfg.text_len :].view(x.shape[0], cfg.frames, -1)
        with amp():
            pred, plan["error"] = net(x, t, ids, layout)
        return pred

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)} \
        if rank == 0 and threading_main() else {}
    bar = None
    if rank == 0 and not quiet:
        from tqdm import tqdm
        bar = tqdm(total=end, initial=step, unit="step", dynamic_ncols=True, file=sys.stderr)
    last_ckpt = time.monotonic()
    t_start = time.monotonic()
    losses = []
    null = torch.full((1, cfg.text_len), PAD, dtype=torch.long, device=dev)
    if cfg.layout:  # no words and no layout
        null = torch.zeros(1, cfg.text_len + cfg.frames * PLAN_DIM, device=dev)
    try:
        it = iter(loader)
        while step < end:
            s, x0, ids, known, layout, noise = next(it)
            assert s == step, (s, step)
            x0, ids, known = x0.to(dev), ids.to(dev), known.to(dev)
            cond = torch.cat([ids.float(), layout.to(dev).flatten(1)], dim=1) if cfg.layout else ids
            frame_idx = torch.arange(cfg.frames, device=dev)  # known first frames (i2v, extend)
            known_mask = (frame_idx[None, :] < known[:, None]).view(-1, 1, cfg.frames, 1, 1)
            g = torch.Generator(device="cpu").manual_seed(hash_seed(tr["seed"], step, rank))
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step, tr)
            loss = noise_prediction_loss(model_fn, x0, cond, null, schedule, p_uncond=tr["p_uncond"],
                                         generator=g, known_mask=known_mask, prediction=cfg.prediction,
                                         p_high_noise=tr["p_high_noise"], high_noise_from=tr["high_noise_from"],
                                         noise=noise)
            if cfg.layout:
                loss = loss + tr["plan_weight"] * plan["error"].float()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), tr["grad_clip"])
            opt.step()
            ema_update(ema, model, step, tr)
            step += 1
            losses.append(loss.item())
            if bar is not None:
                dt = time.monotonic() - t_start
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}", gn=f"{float(gn):.2f}",
                                clips_s=f"{(len(losses) * tr['batch'] * world) / max(dt, 1e-9):.1f}")
                bar.update(1)
            now = time.monotonic()
            over_time = max_minutes is not None and (now - t_start) > max_minutes * 60
            if distributed:
                flag = torch.tensor([float(stop["now"] or over_time)], device=dev)
                dist.all_reduce(flag)
                halt = bool(flag.item() > 0)
            else:
                halt = stop["now"] or over_time
            if rank == 0 and (now - last_ckpt > tr["checkpoint_minutes"] * 60 or step == end or halt):
                save_state(out_p, step, model, ema, opt, cfg, tr, elapsed + now - t_start)
                last_ckpt = now
            if halt:
                break
    finally:
        if bar is not None:
            bar.close()
        for s, h in old_handlers.items():
            signal.signal(s, h)
        if distributed:
            dist.barrier()
            dist.destroy_process_group()
    return {"step": step, "loss": float(np.mean(losses[-50:])) if losses else math.nan, "losses": losses}


def quiet_worker(_worker_id: int) -> None:
    """A data worker ignores SIGINT and SIGTERM. A signal to the whole process group (Ctrl-C, a
    service manager's SIGTERM, `timeout`) must reach the training loop, which saves and stops: a
    worker killed by SIGTERM makes the loader raise in the loop at once, losing the run since its last
    save."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def hash_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 8191 + rank * 131) % (2**63 - 1)


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.train", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", help="warm start from another run folder's weights (fresh optimizer), or from "
                                   "a checkpoint .safetensors: every tensor whose name and shape fit")
    ap.add_argument("--latents", help="latent cache folder (latent models; model_runtime/latent_cache.py)")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many more steps")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this long")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        res = train(args.config, args.out, args.resume, args.max_steps, args.max_minutes, args.device,
                    init=args.init, latents=args.latents)
    except RuntimeUserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({"step": res["step"], "loss": res["loss"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
