"""Both model backends on a CUDA GPU: the bundled U-ViT (model_runtime.pipeline.Generator, 16:9) and the
diffusers backend (model_runtime.backends.diffusers_video.DiffusersGenerator) on a model folder given
with --model, or on the tiny Wan and LTX-Video pipelines of the tests when none is given (built into a
temporary folder; at the models' default lengths and sizes, so the full-size paths run, with toy weights).

Per model: load time, a warm-up clip (2 steps), then one timed clip: seconds per clip and per step
(from the step callback, first step excluded), peak GPU memory (torch.cuda.max_memory_allocated) against
the backend's estimate_memory, and the clip's shape. Options: --offload (enable_model_cpu_offload),
--vae-tiling, --i2v (also image-to-video where the model has it), --json FILE.
Without a CUDA GPU it says so and exits 0; `--device cpu` runs the same on the CPU (a smoke test of
this script with the tiny models).
Run: .venv/bin/python benchmarks/gpu_backends.py [--model DIR] [--frames N --width W --height H]
     [--steps 20] [--offload] [--vae-tiling] [--i2v] [--device cuda|cpu] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from diffusers_tiny import build  # noqa: E402

from contract.request import GenerationRequest  # noqa: E402
from model_runtime.backends.diffusers_video import DiffusersGenerator  # noqa: E402
from model_runtime.errors import RuntimeUserError  # noqa: E402

PROMPT = "a red ball moves left across a park at night"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _peak_reset(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: str) -> int:
    return int(torch.cuda.max_memory_allocated()) if device.startswith("cuda") else 0


def run_clip(name: str, gen, req: GenerationRequest, device: str) -> dict:
    """A 2-step warm-up, then the timed clip."""
    warm = dataclasses.replace(req, steps=2)
    gen.generate(warm)
    stamps: list[float] = []
    _peak_reset(device)
    _sync(device)
    t0 = time.perf_counter()
    clip = gen.generate(req, lambda step, total, preview: stamps.append(time.perf_counter()) and False)
    _sync(device)
    clip_s = time.perf_counter() - t0
    gaps = np.diff(stamps)
    row = {"model": name, "mode": req.mode, "frames": int(clip.shape[0]), "height": int(clip.shape[1]),
           "width": int(clip.shape[2]), "steps": req.steps, "clip_s": round(clip_s, 3),
           "s_per_step": round(float(statistics.median(gaps)) if len(gaps) else clip_s / req.steps, 4),
           "peak_gb": round(_peak(device) / 2**30, 3)}
    estimate = getattr(gen, "estimate_memory", None)
    if estimate is not None:
        row["estimate_gb"] = round(estimate(req) / 2**30, 3)
    return row


def uvit_rows(args) -> list[dict]:
    from model_runtime import checkpoint as ckpt
    from model_runtime.pipeline import Generator

    v2 = ckpt.ASSETS / "vstudio-toy-v2.safetensors"  # the bundled latent model with 16:9 frames
    path = args.uvit or (str(v2) if v2.exists() else None)
    t0 = time.perf_counter()
    try:
        gen = Generator(checkpoint=path, device=args.device)
    except RuntimeUserError as e:
        print(f"U-ViT skipped: {e}")
        return []
    load_s = time.perf_counter() - t0
    aspect = "16:9" if "16:9" in gen.info["aspects"] else None
    req = GenerationRequest(prompt=PROMPT, steps=args.steps, aspect=aspect, seed=0, sampler="dpmpp_2m")
    row = run_clip(f"U-ViT {gen.info['model_id']}", gen, req, args.device)
    row["load_s"] = round(load_s, 2)
    del gen
    return [row]


def diffusers_rows(args, folder: Path, label: str) -> list[dict]:
    t0 = time.perf_counter()
    gen = DiffusersGenerator(str(folder), device=args.device, offload=args.offload, vae_tiling=args.vae_tiling)
    load_s = time.perf_counter() - t0
    caps = gen.capabilities
    frames = caps.legal_frames(args.frames) if args.frames else caps.frames
    h, w = caps.size_for(None, args.width, args.height) if args.width and args.height else caps.default_size
    base = dict(prompt=PROMPT, steps=args.steps, seed=0, frames=frames, width=w, height=h,
                guidance=caps.guidance[2])
    rows = []
    for mode in ("t2v", "i2v"):
        if mode not in caps.modes or (mode == "i2v" and not args.i2v and "t2v" in caps.modes):
            continue
        image = None
        if mode == "i2v":
            yy, xx = np.mgrid[0:h, 0:w]
            image = np.stack([xx * 255 // w, yy * 255 // h, 255 - xx * 255 // w], -1).astype(np.uint8)
        row = run_clip(f"{label} ({gen.info['preview']} preview)", gen, GenerationRequest(**base, mode=mode, image=image),
                       args.device)
        row["load_s"] = round(load_s, 2)
        row["offload"], row["vae_tiling"] = gen.offload, gen.vae_tiling
        rows.append(row)
    del gen
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="a diffusers model folder (default: the tiny Wan and LTX)")
    ap.add_argument("--uvit", default=None, help="a U-ViT checkpoint (default: the bundled v2, 16:9)")
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--offload", action="store_true")
    ap.add_argument("--vae-tiling", action="store_true")
    ap.add_argument("--i2v", action="store_true", help="also image-to-video where the model has both")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU here: this benchmark is for a CUDA machine (--device cpu smoke-tests it); nothing measured")
        return 0
    if args.device == "cuda":
        print(f"GPU: {torch.cuda.get_device_name()} ({torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB), "
              f"torch {torch.__version__}")
    rows = uvit_rows(args)
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            models = {Path(args.model).name: Path(args.model)}
        else:
            models = {f"tiny {k}": build(k, Path(tmp) / k) for k in ("wan", "ltx")}
        for label, folder in models.items():
            try:
                rows += diffusers_rows(args, folder, label)
            except RuntimeUserError as e:
                print(f"{label}: {e}")
                return 2
            gc.collect()
    cols = ["model", "mode", "frames", "height", "width", "steps", "load_s", "clip_s", "s_per_step", "peak_gb",
            "estimate_gb"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")) for c in cols))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
