"""Generator: the one entry point the worker, the CLIs and the evaluator use to make clips."""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from model_runtime import checkpoint as ckpt
from model_runtime import conditioning
from model_runtime.anchored_noise import anchored_noise
from model_runtime.diffusion import Schedule
from model_runtime.errors import RuntimeUserError
from model_runtime.model import VideoDiffusionModel
from model_runtime.samplers import Cancelled, guided_eps, sample
from model_runtime.text import Tokenizer
from model_runtime.uvit import UViTConfig

__all__ = ["Generator", "GenerationRequest", "Cancelled", "pick_device", "to_model_space", "to_uint8"]

SAMPLERS = ("ddpm", "ddim", "dpmpp_2m")


@dataclass
class GenerationRequest:
    prompt: str
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 20
    sampler: str = "dpmpp_2m"
    guidance: float = 3.0
    frames: int | None = None
    mode: str = "t2v"
    image: np.ndarray | None = field(default=None, repr=False)
    video: np.ndarray | None = field(default=None, repr=False)
    strength: float = 0.6
    extend_frames: int = 4

    def validate(self, native_frames: int) -> None:
        def bad(msg: str):
            raise RuntimeUserError("bad_request", msg)

        if self.sampler not in SAMPLERS:
            bad(f"unknown sampler {self.sampler!r} (choose {', '.join(SAMPLERS)})")
        if self.mode not in conditioning.MODES:
            bad(f"unknown mode {self.mode!r} (choose {', '.join(conditioning.MODES)})")
        if not 1 <= self.steps <= 1000:
            bad(f"steps must be between 1 and 1000, got {self.steps}")
        if not 0 <= self.guidance <= 30:
            bad(f"guidance must be between 0 and 30, got {self.guidance}")
        if self.frames is not None and not 1 <= self.frames <= 100_000:
            bad(f"frames must be a positive number, got {self.frames}")
        if not 0 <= self.seed < 2**63:
            bad(f"seed must be a non-negative integer, got {self.seed}")
        if self.mode == "i2v" and self.image is None:
            bad("image-to-video needs a reference image")
        if self.mode in ("extend", "v2v") and self.video is None:
            bad(f"{self.mode} needs an input video")
        if self.mode == "v2v" and not 0 < self.strength <= 1:
            bad(f"strength must be in (0, 1], got {self.strength}")
        if self.mode == "extend" and not 1 <= self.extend_frames < native_frames:
            bad(f"extend_frames must be between 1 and {native_frames - 1}")
        for name, arr, nd in (("image", self.image, 3), ("video", self.video, 4)):
            if arr is not None and (arr.ndim != nd or arr.shape[-1] != 3):
                bad(f"{name} must be {'H×W×3' if nd == 3 else 'T×H×W×3'} RGB, got shape {tuple(arr.shape)}")


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeUserError("device", "CUDA was asked for but no CUDA GPU is available (use --device cpu)")
    if device not in ("cpu", "cuda", "mps"):
        raise RuntimeUserError("device", f"unknown device {device!r} (choose auto, cpu or cuda)")
    return torch.device(device)


def to_model_space(frames: np.ndarray, size: int) -> torch.Tensor:
    """uint8 T×H×W×3 (any size) → float 1×3×T×size×size in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).float().permute(3, 0, 1, 2)  # C×T×H×W
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x.permute(1, 0, 2, 3), size=(size, size), mode="area").permute(1, 0, 2, 3)
    return (x / 127.5 - 1.0).unsqueeze(0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """B×3×T×H×W in [-1, 1] → uint8 B×T×H×W×3."""
    x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 4, 1).cpu().numpy()


class Generator:
    def __init__(self, checkpoint: str | None = None, device: str = "auto", random_init: bool = False,
                 config: dict | None = None, autocast: bool = True):
        self.device = pick_device(device)
        if random_init:
            cfg = UViTConfig.from_dict(config or {})
            torch.manual_seed(0)
            self.model = VideoDiffusionModel(cfg).to(self.device).eval()
            meta = {"model_id": "random-init", "checkpoint_hash": "", "meta": {}, "path": ""}
        else:
            path = checkpoint or ckpt.default_checkpoint()
            if checkpoint is None and not ckpt.paths_for(path)[0].exists():
                raise RuntimeUserError("checkpoint", f"no bundled model at {path}; pass --checkpoint PATH "
                                                     "(or --random-init for plumbing tests)")
            self.model, meta = ckpt.load(path, self.device)
        self.cfg: UViTConfig = self.model.cfg
        self.schedule = Schedule.cosine() if self.cfg.schedule == "cosine" else Schedule.linear()
        self.tokenizer = Tokenizer(self.cfg.text_len)
        # bf16 autocast: 2.4-2.6x faster than fp32 on CPU for this model size, same on GPU.
        self.autocast = autocast and self.device.type in ("cpu", "cuda")
        self.info = {
            "model_id": meta["model_id"],
            "checkpoint_hash": meta["checkpoint_hash"],
            "device": str(self.device),
            "params": sum(p.numel() for p in self.model.parameters()),
            "frames": self.cfg.frames,
            "size": self.cfg.size,
            "fps": self.cfg.fps,
            "config": self.cfg.to_dict(),
        }

    # ---- model call --------------------------------------------------------------------------
    def _amp(self):
        if not self.autocast:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _model_fn(self, x, t, ids):
        """The network as a noise predictor, whatever it was trained to output."""
        with self._amp():
            out = self.model(x, t, ids).float()
        if self.cfg.prediction == "v":  # eps = sigma x_t + alpha v
            a, s = self.schedule.scales(t, x)
            out = s * x + a * out
        return out

    def unknown_words(self, prompt: str) -> list[str]:
        return self.tokenizer.tokenize(prompt).unknown

    def _noise_drawer(self, ids: torch.Tensor):
        """draw(generator, i) -> the i-th prompt's 1×C×T×H×W noise: anchored to its planned layout
        when the model was trained so (anchored_noise.py), else i.i.d."""
        cfg = self.cfg
        shape = (1, cfg.channels, cfg.frames, cfg.size, cfg.size)
        if not cfg.anchored_noise:
            return lambda g, i: torch.randn(shape, generator=g)
        plan = self.model.plan(ids.to(self.device)).float().cpu()  # tiny: full precision
        return lambda g, i: anchored_noise(plan[i:i + 1], cfg.channels, cfg.size, g)

    # ---- one native clip ----------------------------------------------------------------------
    @torch.no_grad()
    def _clip(self, reqs: list[GenerationRequest], cond: conditioning.Condition, seeds: list[int],
              on_step=None) -> torch.Tensor:
        cfg, dev = self.cfg, self.device
        ids, _ = self.tokenizer.batch([r.prompt for r in reqs])
        neg, _ = self.tokenizer.batch([r.negative_prompt for r in reqs])
        ids, neg = ids.to(dev), neg.to(dev)
        draw = self._noise_drawer(ids)
        noise = torch.cat([draw(torch.Generator().manual_seed(s), i) for i, s in enumerate(seeds)]).to(dev)
        x_T, t_start = conditioning.start(noise, cond, self.schedule)
        base = guided_eps(self._model_fn, ids, neg, float(reqs[0].guidance))
        eps_fn = conditioning.wrap_eps(conditioning.clip_data(base, self.schedule), cond, self.schedule)
        gen = torch.Generator().manual_seed(seeds[0] + 7919)
        fresh = None  # ddpm's noise at every step, anchored like x_T's
        if cfg.anchored_noise:
            def fresh(g):
                return torch.cat([draw(g, i) for i in range(len(seeds))]).to(dev)

        def callback(step, total, x0):
            return bool(on_step and on_step(step, total, conditioning.impose(x0, cond)))

        steps = reqs[0].steps if t_start is None else max(1, min(reqs[0].steps, int(t_start) + 1))
        x0 = sample(eps_fn, x_T, self.schedule, reqs[0].sampler, steps, callback=callback, generator=gen,
                    t_start=t_start, noise_fn=fresh)
        return conditioning.impose(x0, cond).clamp(-1, 1)

    # ---- public --------------------------------------------------------------------------------
    def parts_for(self, frames: int | None, extend_frames: int = 4, mode: str = "t2v") -> int:
        """How many native clips make `frames`: the first yields a whole clip (in extend mode only its
        new frames), each later one yields native - extend_frames new frames."""
        total = frames or self.cfg.frames
        per = self.cfg.frames - extend_frames
        if mode == "extend":
            return math.ceil(total / per)
        if total <= self.cfg.frames:
            return 1
        return 1 + math.ceil((total - self.cfg.frames) / per)

    def generate(self, req: GenerationRequest, callback=None) -> np.ndarray:
        """uint8 T×H×W×3 at the native size. Long clips are chained with extend; callback(step, total,
        preview) sees steps over the whole chain and returns True to cancel (raises Cancelled)."""
        req.validate(self.cfg.frames)
        cfg, dev = self.cfg, self.device
        total_frames = req.frames or cfg.frames
        k = req.extend_frames
        start_cond = conditioning.Condition()
        context = None  # model-space 1×C×k×H×W frames that must open the next part
        if req.mode == "i2v":
            context = to_model_space(req.image[None], cfg.size).to(dev)
        elif req.mode == "extend":
            context = to_model_space(req.video[-k:], cfg.size).to(dev)
        elif req.mode == "v2v":
            src = to_model_space(req.video, cfg.size).to(dev)
            src = F.interpolate(src, size=(cfg.frames, cfg.size, cfg.size), mode="nearest") \
                if src.shape[2] != cfg.frames else src
            start_cond = conditioning.Condition(init=src, strength=req.strength)
        # v2v runs the request's steps over the shortened trajectory (SDEdit from the strength's time).
        steps_per = req.steps if req.mode != "v2v" else max(1, min(req.steps, int(req.strength * 999) + 1))
        n_parts = self.parts_for(total_frames, k, req.mode)
        total_steps = n_parts * steps_per
        out: list[torch.Tensor] = []
        have = 0
        t0 = time.perf_counter()
        for part in range(n_parts):
            cond = start_cond if (part == 0 and context is None) else conditioning.known_frames(context, cfg.frames)
            offset = part * steps_per

            def on_step(step, total, x0, offset=offset):
                if callback is None:
                    return False
                return bool(callback(offset + step, total_steps, to_uint8(x0)[0]))

            clip = self._clip([req], cond, [req.seed + part], on_step)
            n_known = 0 if (part == 0 and context is None) else context.shape[2]
            new = clip[:, :, n_known:] if (part > 0 or req.mode == "extend") else clip
            out.append(new)
            have += new.shape[2]
            context = clip[:, :, -k:]
            if have >= total_frames:
                break
        self.last_timings = {"sample_s": time.perf_counter() - t0, "parts": n_parts}
        video = torch.cat(out, dim=2)[:, :, :total_frames]
        return to_uint8(video)[0]

    def generate_batch(self, reqs: list[GenerationRequest]) -> list[np.ndarray]:
        """Native-length text-to-video for many prompts at once (the evaluator's fast path). All
        requests must share steps, sampler and guidance."""
        if not reqs:
            return []
        for r in reqs:
            r.validate(self.cfg.frames)
        key = {(r.steps, r.sampler, r.guidance) for r in reqs}
        if len(key) != 1 or any(r.mode != "t2v" or (r.frames or self.cfg.frames) != self.cfg.frames for r in reqs):
            return [self.generate(r) for r in reqs]
        clip = self._clip(reqs, conditioning.Condition(), [r.seed for r in reqs])
        return list(to_uint8(clip))
