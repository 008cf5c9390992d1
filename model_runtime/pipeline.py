"""Generator: the one entry point the worker, the CLIs and the evaluator use to make clips."""

from __future__ import annotations

import time
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn.functional as F

from contract.capabilities import Capabilities
from contract.request import GenerationRequest, RequestError
from contract.rules import MAX_GUIDANCE, MAX_STEPS, MODES, SAMPLERS, parts_for
from model_runtime import autoencoder, conditioning, config_rules
from model_runtime import checkpoint as ckpt
from model_runtime.anchored_noise import anchored_noise
from model_runtime.diffusion import Schedule
from model_runtime.errors import RuntimeUserError
from model_runtime.model import VideoDiffusionModel
from model_runtime.samplers import Cancelled, guided_eps, sample
from model_runtime.subject_plan import PlanWindow, take_plan, window
from model_runtime.text import Tokenizer
from model_runtime.uvit import UViTConfig

__all__ = ["Generator", "GenerationRequest", "Cancelled", "pick_device", "to_model_space", "to_uint8", "validate"]

def validate(req: GenerationRequest, native_frames: int, aspects: list[str] | None = None) -> None:
    """The contract's checks (one line, RuntimeUserError), then the loaded arrays' shapes."""
    try:
        req.validate(native_frames, aspects)
    except RequestError as e:
        raise RuntimeUserError(e.kind, e.message) from None
    for name, arr, nd in (("image", req.image, 3), ("video", req.video, 4)):
        if arr is None:
            continue
        if not isinstance(arr, np.ndarray):
            raise RuntimeUserError("bad_request", f"the {name} was not loaded (got a {type(arr).__name__})")
        if arr.ndim != nd or arr.shape[-1] != 3:
            raise RuntimeUserError("bad_request", f"{name} must be {'H×W×3' if nd == 3 else 'T×H×W×3'} RGB, "
                                                  f"got shape {tuple(arr.shape)}")


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


def to_model_space(frames: np.ndarray, size: int, width: int | None = None) -> torch.Tensor:
    """uint8 T×H×W×3 (any size) → float 1×3×T×size×width in [-1, 1] (width defaults to size)."""
    width = size if width is None else width
    x = torch.from_numpy(np.ascontiguousarray(frames)).float().permute(3, 0, 1, 2)  # C×T×H×W
    if x.shape[-1] != width or x.shape[-2] != size:
        x = F.interpolate(x.permute(1, 0, 2, 3), size=(size, width), mode="area").permute(1, 0, 2, 3)
    return (x / 127.5 - 1.0).unsqueeze(0)


to_uint8 = autoencoder.to_uint8  # B×3×T×H×W in [-1, 1] → uint8 B×T×H×W×3: one rule for both spaces


class Generator:
    def __init__(self, checkpoint: str | None = None, device: str = "auto", random_init: bool = False,
                 config: dict | None = None, autocast: bool = True):
        self.device = pick_device(device)
        self.ae = None  # the autoencoder of a latent model
        if random_init:
            try:
                cfg = UViTConfig.from_dict({} if config is None else config)
            except (TypeError, ValueError) as e:
                raise RuntimeUserError("config", f"bad model config ({e})") from None
            config_rules.check_fits(cfg, self.device)  # refused before any tensor when it cannot fit
            torch.manual_seed(0)
            self.model = VideoDiffusionModel(cfg).to(self.device).eval()
            meta = {"model_id": "random-init", "checkpoint_hash": "", "meta": {}, "path": ""}
            if cfg.autoencoder:  # plumbing: an untrained autoencoder of the default shape
                ae_cfg = autoencoder.AEConfig(latent_channels=cfg.channels)
                self.ae = autoencoder.VideoAutoencoder(ae_cfg).to(self.device).eval()
        else:
            path = checkpoint or ckpt.default_checkpoint()
            if checkpoint is None and not ckpt.paths_for(path)[0].exists():
                raise RuntimeUserError("checkpoint", f"no bundled model at {path}; pass --checkpoint PATH "
                                                     "(or --random-init for plumbing tests)")
            self.model, meta = ckpt.load(path, self.device)
            if self.model.cfg.autoencoder:
                self.ae, ae_info = autoencoder.load(ckpt.autoencoder_path(path, self.model.cfg.autoencoder),
                                                    self.device)
                meta["autoencoder_hash"] = ae_info["checkpoint_hash"]
        self.cfg: UViTConfig = self.model.cfg
        if self.ae is not None and self.ae.cfg.latent_channels != self.cfg.channels:
            raise RuntimeUserError("checkpoint", "the model and its autoencoder disagree on latent channels")
        self.schedule = Schedule.cosine() if self.cfg.schedule == "cosine" else Schedule.linear()
        self.tokenizer = Tokenizer(self.cfg.text_len)
        # bf16 autocast: 2.4-2.6x faster than fp32 on CPU for this model size, same on GPU.
        self.autocast = autocast and self.device.type in ("cpu", "cuda")
        h, w = self.native_size()
        self.info = {
            "model_id": meta["model_id"],
            "checkpoint_hash": meta["checkpoint_hash"],
            "device": str(self.device),
            "params": sum(p.numel() for p in self.model.parameters())
            + (sum(p.numel() for p in self.ae.parameters()) if self.ae is not None else 0),
            "frames": self.cfg.frames,
            "size": h,  # native frame height (pixel models: the side of a square frame)
            "height": h,
            "width": w,
            # native pixel size (height, width) of every aspect the model makes; the first is the default
            "aspects": {a: list(self.native_size(a)) for a in self.cfg.aspect_names},
            "fps": self.cfg.fps,
            "latent": self.ae is not None,
            "config": self.cfg.to_dict(),
        }
        if "autoencoder_hash" in meta:
            self.info["autoencoder_hash"] = meta["autoencoder_hash"]
        self.capabilities = self._capabilities()
        self.info["capabilities"] = self.capabilities.to_dict()

    def _capabilities(self) -> Capabilities:
        """What the U-ViT does: every mode, any length (chained from native clips), one native size
        per aspect, the contract's samplers and limits."""
        try:
            guidance = float(self.cfg.extra.get("guidance", 3.0))
        except (TypeError, ValueError):
            guidance = 3.0
        return Capabilities(family="uvit", modes=MODES, fps=float(self.cfg.fps), frames=self.cfg.frames, chain=True,
                            aspects={a: list(self.native_size(a)) for a in self.cfg.aspect_names},
                            steps=(1, MAX_STEPS, 20), guidance=(0.0, MAX_GUIDANCE, guidance),
                            samplers=tuple(SAMPLERS))

    # ---- the space the model works in: pixels, or the autoencoder's latents --------------------------
    def native_size(self, aspect: str | None = None) -> tuple[int, int]:
        """(height, width) in pixels of the clips this model makes at `aspect`."""
        h, w = self.cfg.frame_shape(aspect)
        f = self.ae.cfg.factor if self.ae is not None else 1
        return h * f, w * f

    def _aspect(self, aspect: str | None) -> str:
        aspect = aspect or self.cfg.default_aspect
        if aspect not in self.cfg.aspect_names:
            raise RuntimeUserError("bad_request", f"this model makes no {aspect!r} frames "
                                                  f"(choose {', '.join(self.cfg.aspect_names)})")
        return aspect

    def to_space(self, frames: np.ndarray, aspect: str | None = None) -> torch.Tensor:
        """uint8 T×H×W×3 (any size) → the model's 1×C×T×h×w: pixels in [-1, 1], or latents."""
        h, w = self.native_size(aspect)
        x = to_model_space(frames, h, w).to(self.device)
        if self.ae is None:
            return x
        with torch.no_grad(), self._amp():
            return torch.cat([self.ae.encode(x[:, :, i:i + 16]).float() for i in range(0, x.shape[2], 16)], dim=2)

    def from_space(self, x: torch.Tensor) -> np.ndarray:
        """The model's B×C×T×h×w → uint8 B×T×H×W×3 at the native size."""
        if self.ae is None:
            return to_uint8(x)
        with torch.no_grad(), self._amp():
            return to_uint8(torch.cat([self.ae.decode(x[:, :, i:i + 16]).float()
                                       for i in range(0, x.shape[2], 16)], dim=2))

    def preview(self, x0: torch.Tensor) -> np.ndarray:
        """A cheap uint8 T×h×w×3 look at a model-space x0 prediction (latent models: at latent size)."""
        if self.ae is None:
            return to_uint8(x0)[0]
        with torch.no_grad():
            return to_uint8(self.ae.preview_rgb(x0[:1].float()))[0]

    def _data_range(self) -> float:
        """x0 predictions are clipped to ±this: pixels live in [-1, 1]; normalised latents within a few σ."""
        return 1.0 if self.ae is None else float(self.cfg.extra.get("latent_clip", 5.0))

    # ---- model call --------------------------------------------------------------------------
    def _amp(self):
        if not self.autocast:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _model_fn(self, x, t, ids, plan: PlanWindow | None = None):
        """The network as a noise predictor, whatever it was trained to output. `plan`: which window
        of a take the clip is (layout models plan it; subject_plan.plan_window)."""
        with self._amp():
            out = (self.model(x, t, ids, window=plan) if self.cfg.layout else self.model(x, t, ids)).float()
        if self.cfg.prediction == "v":  # eps = sigma x_t + alpha v
            a, s = self.schedule.scales(t, x)
            out = s * x + a * out
        return out

    def unknown_words(self, prompt: str) -> list[str]:
        return self.tokenizer.tokenize(prompt).unknown

    def _noise_drawer(self, ids: torch.Tensor, aspect: str, plan: PlanWindow | None = None):
        """draw(generator, i) -> the i-th prompt's 1×C×T×h×w noise: anchored to its planned layout
        when the model was trained so (anchored_noise.py), else i.i.d. For a part of a long take
        the noise is the window of the whole take's anchored noise: every part reads the same world
        field, so the grain runs on across the seams."""
        cfg = self.cfg
        h, w = cfg.frame_shape(aspect)
        shape = (1, cfg.channels, cfg.frames, h, w)
        if not cfg.anchored_noise:
            return lambda g, i: torch.randn(shape, generator=g)
        plan = plan or PlanWindow()
        if plan.length <= cfg.frames and plan.first == 0:
            lay = self.model.plan(ids.to(self.device), plan).float().cpu()  # tiny: full precision
            return lambda g, i: anchored_noise(lay[i:i + 1], cfg.channels, h, g, width=w)
        first = plan.first
        whole = take_plan(self.model.plan(ids.to(self.device)).float().cpu(), plan)

        def draw(g, i):
            noise = anchored_noise(whole[i:i + 1], cfg.channels, h, g, width=w)  # 1×C×L×h×w
            return window(noise.transpose(1, 2), first, cfg.frames).transpose(1, 2)

        return draw

    def _subject_anchor(self, frame: np.ndarray) -> tuple[float, float, float] | None:
        """The subject in a toy-world frame a clip opens on, for a layout model's plan: centre x, y from
        the frame centre and height, in frame heights (the scorer's segmentation); None when the model
        plans no layout or no subject is found."""
        if not self.cfg.layout:
            return None
        from model_runtime.evaluate import subject_mask

        mask = subject_mask(np.asarray(frame)[None])[0]
        if mask.sum() < 4:
            return None
        h, w = mask.shape
        ys, xs = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
        return float(((x0 + x1) / 2 - w / 2) / h), float(((y0 + y1) / 2 - h / 2) / h), float((y1 - y0) / h)

    # ---- one native clip ----------------------------------------------------------------------
    @torch.no_grad()
    def _clip(self, reqs: list[GenerationRequest], cond: conditioning.Condition, seeds: list[int],
              on_step=None, plan: PlanWindow | None = None, noise_seeds: list[int] | None = None,
              steps: int | None = None) -> torch.Tensor:
        """One native clip per request, in model space (pixels or latents); `plan`: which window of its
        take the clip is (None: a clip of its own); `noise_seeds`: the seeds of the initial noise when
        not `seeds` (a take's parts share their take's)."""
        cfg, dev = self.cfg, self.device
        ids, _ = self.tokenizer.batch([r.prompt for r in reqs])
        neg, _ = self.tokenizer.batch([r.negative_prompt for r in reqs])
        ids, neg = ids.to(dev), neg.to(dev)
        draw = self._noise_drawer(ids, self._aspect(reqs[0].aspect), plan)
        noise = torch.cat([draw(torch.Generator().manual_seed(s), i)
                           for i, s in enumerate(noise_seeds or seeds)]).to(dev)
        x_T, t_start = conditioning.start(noise, cond, self.schedule)
        base = guided_eps(lambda x, t, c: self._model_fn(x, t, c, plan), ids, neg, float(reqs[0].guidance))
        lim = self._data_range()
        eps_fn = conditioning.wrap_eps(conditioning.clip_data(base, self.schedule, -lim, lim), cond, self.schedule)
        gen = torch.Generator().manual_seed(seeds[0] + 7919)
        fresh = None  # ddpm's noise at every step, anchored like x_T's
        if cfg.anchored_noise:
            def fresh(g):
                return torch.cat([draw(g, i) for i in range(len(seeds))]).to(dev)

        def callback(step, total, x0):
            return bool(on_step and on_step(step, total, conditioning.impose(x0, cond)))

        steps = reqs[0].steps if steps is None else steps  # the contract's plan (contract.rules.part_steps)
        x0 = sample(eps_fn, x_T, self.schedule, reqs[0].sampler, steps, callback=callback, generator=gen,
                    t_start=t_start, noise_fn=fresh)
        return conditioning.impose(x0, cond).clamp(-lim, lim)

    # ---- public --------------------------------------------------------------------------------
    def parts_for(self, frames: int | None, extend_frames: int = 4, mode: str = "t2v") -> int:
        """How many native clips make `frames` (contract.rules.parts_for: the studio plans with it)."""
        return parts_for(frames or self.cfg.frames, self.cfg.frames, extend_frames, mode)

    def generate(self, req: GenerationRequest, callback=None) -> np.ndarray:
        """uint8 T×H×W×3 at the native size. Long clips are chained with extend; callback(step, total,
        preview) sees steps over the whole chain and returns True to cancel (raises Cancelled)."""
        validate(req, self.cfg.frames, self.cfg.aspect_names)
        cfg = self.cfg
        aspect = self._aspect(req.aspect)
        total_frames = req.frames or cfg.frames
        k = req.extend_frames
        start_cond = conditioning.Condition()
        context = None  # model-space 1×C×k×h×w frames that must open the next part
        anchor = None  # where the frame a continued shot opens on has its subject
        if req.mode == "i2v":
            context = self.to_space(req.image[None], aspect)
            anchor = self._subject_anchor(req.image)
        elif req.mode == "extend":
            context = self.to_space(req.video[-k:], aspect)
            anchor = self._subject_anchor(req.video[-k:][0])  # the first context frame (a clip may be shorter than k)
        elif req.mode == "v2v":
            src = self.to_space(req.video, aspect)
            src = F.interpolate(src, size=(cfg.frames, *src.shape[-2:]), mode="nearest") \
                if src.shape[2] != cfg.frames else src
            start_cond = conditioning.Condition(init=src, strength=req.strength)
        # the contract's plan, which the studio's estimates and progress read too: steps per part
        steps_of = req.planned_steps(cfg.frames, self.schedule.n)
        n_parts, total_steps = len(steps_of), sum(steps_of)
        out: list[torch.Tensor] = []
        have = 0
        t0 = time.perf_counter()
        for part in range(n_parts):
            cond = start_cond if (part == 0 and context is None) else conditioning.known_frames(context, cfg.frames)
            offset = sum(steps_of[:part])

            def on_step(step, total, x0, offset=offset):
                if callback is None:
                    return False
                return bool(callback(offset + step, total_steps, self.preview(x0)))

            # where this part starts in the take: its known frames are the previous part's last k
            # (extend continues a clip of native length that came before the first part)
            before = (cfg.frames - k) if req.mode == "extend" else 0
            first = before + part * (cfg.frames - k)
            window = PlanWindow(first, before + total_frames, anchor, anchor_at=before)
            clip = self._clip([req], cond, [req.seed + part], on_step, plan=window,
                              noise_seeds=[req.seed] if cfg.anchored_noise else None, steps=steps_of[part])
            n_known = 0 if (part == 0 and context is None) else context.shape[2]
            new = clip[:, :, n_known:] if (part > 0 or req.mode == "extend") else clip
            out.append(new)
            have += new.shape[2]
            context = clip[:, :, -k:]
            if have >= total_frames:
                break
        self.last_timings = {"sample_s": time.perf_counter() - t0, "parts": n_parts}
        # a long take is chained in model space and decoded once: no re-encoding at the seams
        video = torch.cat(out, dim=2)[:, :, :total_frames]
        return self.from_space(video)[0]

    def generate_batch(self, reqs: list[GenerationRequest]) -> list[np.ndarray]:
        """Native-length text-to-video for many prompts at once (the evaluator's fast path). All
        requests must share steps, sampler and guidance."""
        if not reqs:
            return []
        for r in reqs:
            validate(r, self.cfg.frames, self.cfg.aspect_names)
        key = {(r.steps, r.sampler, r.guidance, r.aspect) for r in reqs}
        if len(key) != 1 or any(r.mode != "t2v" or (r.frames or self.cfg.frames) != self.cfg.frames for r in reqs):
            return [self.generate(r) for r in reqs]
        clip = self._clip(reqs, conditioning.Condition(), [r.seed for r in reqs])
        return list(self.from_space(clip))
