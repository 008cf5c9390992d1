"""DiffusersGenerator: open video models (Wan 2.x, LTX-Video, other diffusers video pipelines) from a
local diffusers folder, behind the same interface as the bundled U-ViT's model_runtime.pipeline.Generator
(`info`, `capabilities`, `generate(req, callback)`, `Cancelled`, `unknown_words`, `estimate_memory`).

Never a network call: importing this module sets the Hugging Face offline switches before diffusers
or transformers is imported (model_runtime.backends.offline; diffusers is imported lazily, at load),
the folder is checked first (folder_check: one-line errors, safetensors only), and loading passes
`local_files_only=True, use_safetensors=True`.

Precision: CUDA loads the weights in the family's dtype (bf16; fp16 where the GPU has no bf16; Wan's
VAE stays fp32 as published), CPU and MPS in fp32. `offload=True` (CUDA) keeps each component on
the CPU until it runs (`enable_model_cpu_offload`); `vae_tiling=True` decodes in tiles / slices.
The noise comes from a CPU torch.Generator seeded with req.seed: the same seed gives the same clip,
and the same starting noise on any device.

Cancel: `callback(step, total, preview)` runs after every denoising step (through the pipeline's
`callback_on_step_end`); when it returns True the pipeline's interrupt flag is set and Cancelled is
raised from the callback, so no further step runs and the VAE does not decode a clip nobody wants.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from contract.aspects import ASPECTS
from contract.capabilities import Capabilities
from contract.request import GenerationRequest, RequestError
from model_runtime import samplers
from model_runtime.backends import diffusers_families as families
from model_runtime.backends import diffusers_preview as preview
from model_runtime.backends import folder_check, offline
from model_runtime.backends.folder_hash import folder_hash
from model_runtime.errors import RuntimeUserError
from model_runtime.pipeline import pick_device

__all__ = ["DiffusersGenerator", "Cancelled", "GenerationRequest"]


class Cancelled(samplers.Cancelled):
    """The callback asked to stop (the worker imports it from the generator's module)."""


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:300]


def _diffusers():
    offline.ensure()
    import diffusers
    import transformers

    # their warnings (dtype casts, frame rounding) would reach the studio's log as noise
    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return diffusers


def _dtype_key() -> str:
    """diffusers renamed from_pretrained's torch_dtype to dtype (the old name warns)."""
    from diffusers.pipelines import pipeline_utils

    return "dtype" if hasattr(pipeline_utils, "_resolve_dtype") else "torch_dtype"


def _ftfy_fallback(pipe) -> None:
    """diffusers 0.42's WanImageToVideoPipeline (and a few others) call `ftfy.fix_text` in their prompt
    cleaning whether or not ftfy, an optional dependency, is installed (NameError without it). Such a
    module gets an identity fix_text: ftfy only repairs mis-decoded text, the prompt is used as typed."""
    module = sys.modules.get(type(pipe).__module__)
    if module is not None and hasattr(module, "basic_clean") and not hasattr(module, "ftfy"):
        module.ftfy = SimpleNamespace(fix_text=lambda text: text)


def _first_int(obj, names) -> int | None:
    for name in names:
        v = getattr(obj, name, None)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


class DiffusersGenerator:
    def __init__(self, checkpoint: str | None = None, device: str = "auto", random_init: bool = False,
                 config: dict | None = None, autocast: bool = True, offload: bool = False,
                 vae_tiling: bool = False):
        # `config` and `autocast` are the U-ViT's (a folder carries its own configs; the dtype is
        # chosen per family); accepted so the worker can build either backend alike
        if random_init:
            raise RuntimeUserError("config", "random weights are for the bundled U-ViT; a diffusers model "
                                             "loads from its folder")
        if not checkpoint:
            raise RuntimeUserError("model_folder", "no model folder given (a diffusers model is a folder "
                                                      "with a model_index.json)")
        self.folder = Path(checkpoint).expanduser()
        index = folder_check.check_folder(self.folder)
        self.class_name: str = index["_class_name"]
        self.family, self.mode_classes = families.resolve(self.class_name)
        self.device = pick_device(device)
        self.offload = bool(offload) and self.device.type == "cuda"
        self.vae_tiling = bool(vae_tiling)
        self.dtype = self._pick_dtype()
        t0 = time.perf_counter()
        self.pipe = self._load()
        self._pipes: dict[str, Any] = {self.class_name: self.pipe}
        self._active = self.pipe
        self.model = getattr(self.pipe, "transformer", None)  # the denoiser (the worker hooks cancel checks on it)
        self._read_rules()
        self.capabilities = self._capabilities()
        self.projection = self._projection()
        self.load_s = time.perf_counter() - t0
        h, w = self.capabilities.default_size
        self.info: dict[str, Any] = {
            "model_id": f"{self.folder.resolve().name} ({self.class_name})",
            "checkpoint_hash": folder_hash(self.folder),
            "device": str(self.device),
            "params": self._params(),
            "frames": self.capabilities.frames,
            "size": h,
            "height": h,
            "width": w,
            "aspects": {a: list(self.capabilities.size_for(a)) for a in ASPECTS},
            "fps": self.capabilities.fps,
            "latent": True,
            "config": {},
            "capabilities": self.capabilities.to_dict(),
            "preview": self.projection.source,
        }
        self.last_timings: dict[str, float] = {}

    # ---- loading ---------------------------------------------------------------------------------
    def _pick_dtype(self) -> torch.dtype:
        if self.device.type != "cuda":
            return torch.float32
        want = getattr(torch, self.family.cuda_dtype)
        if want is torch.bfloat16 and not torch.cuda.is_bf16_supported():
            return torch.float16
        return want

    def _load(self):
        diffusers = _diffusers()
        cls = getattr(diffusers, self.class_name)
        try:
            pipe = cls.from_pretrained(str(self.folder), local_files_only=True, use_safetensors=True,
                                       **{_dtype_key(): self.dtype})
        except MemoryError:
            raise
        except Exception as e:  # a folder that passed the checks but does not load: one line, no traceback
            if type(e).__name__ == "OutOfMemoryError":
                raise
            raise RuntimeUserError("model_load", f"cannot load {self.folder}: {type(e).__name__}: "
                                                 f"{_one_line(e)}") from None
        transformer = getattr(pipe, "transformer", None)
        if (getattr(getattr(transformer, "config", None), "image_dim", None) is not None
                and getattr(pipe, "image_encoder", None) is None):
            raise RuntimeUserError("model_folder", f"{self.folder}: this image-to-video model needs its "
                                                      "image_encoder (CLIP vision) and image_processor folders")
        self._prepare(pipe)
        if self.offload:
            pipe.enable_model_cpu_offload(device=self.device)
        else:
            pipe.to(self.device)
        return pipe

    def _prepare(self, pipe) -> None:
        """Per-pipeline settings (also for a mode's pipeline made with from_pipe)."""
        if self.family.vae_fp32 and self.dtype != torch.float32 and getattr(pipe, "vae", None) is not None:
            pipe.vae.to(torch.float32)
        pipe.set_progress_bar_config(disable=True)
        _ftfy_fallback(pipe)
        vae = getattr(pipe, "vae", None)
        if self.vae_tiling and vae is not None:
            for name in ("enable_tiling", "enable_slicing"):
                if hasattr(vae, name):
                    getattr(vae, name)()

    def _pipeline(self, mode: str):
        """The pipeline that runs `mode`: the folder's own, or one sharing its components (from_pipe)."""
        name = self.mode_classes[mode]
        pipe = self._pipes.get(name)
        if pipe is None:
            cls = getattr(_diffusers(), name)
            pipe = cls.from_pipe(self.pipe, **{_dtype_key(): self.dtype})  # from_pipe casts to fp32 otherwise
            self._prepare(pipe)
            self._pipes[name] = pipe
        if self.offload and pipe is not self._active:  # one set of offload hooks on the shared modules
            self._active.remove_all_hooks()
            pipe.enable_model_cpu_offload(device=self.device)
        self._active = pipe
        return pipe

    def _read_rules(self) -> None:
        """The loaded model's own compression and patch sizes: they decide legal lengths and sizes."""
        pipe = self.pipe
        self.vae_temporal = _first_int(pipe, ("vae_scale_factor_temporal", "vae_temporal_compression_ratio"))
        self.vae_spatial = _first_int(pipe, ("vae_scale_factor_spatial", "vae_spatial_compression_ratio",
                                             "vae_scale_factor")) or 8
        self.patch_t = _first_int(pipe, ("transformer_temporal_patch_size",)) or 1
        self.patch = _first_int(pipe, ("transformer_spatial_patch_size",)) or 1
        patch = getattr(getattr(getattr(pipe, "transformer", None), "config", None), "patch_size", None)
        if isinstance(patch, int) and patch > 0:
            self.size_patch = patch
        elif isinstance(patch, list | tuple) and len(patch) >= 2:
            self.size_patch = int(patch[-2])
        else:
            self.size_patch = 1
        vcfg = getattr(getattr(pipe, "vae", None), "config", {}) or {}
        self.channels = int(vcfg.get("z_dim") or vcfg.get("latent_channels") or 16)

    def _capabilities(self) -> Capabilities:
        fam = self.family
        step = self.vae_temporal or fam.frame_step
        offset = fam.frame_offset if step > 1 else 0
        multiple = self.vae_spatial * self.size_patch if self.vae_temporal else fam.size_multiple
        fps, frames, size = fam.fps, fam.frames, fam.default_size
        steps, guidance = fam.steps, fam.guidance
        if fam is families.GENERIC:  # the pipeline's own defaults
            d = families.call_defaults(type(self.pipe))
            fps = families.GENERIC_FPS.get(self.class_name, fam.fps)
            frames = int(d.get("num_frames", frames))
            size = (int(d.get("height", size[0])), int(d.get("width", size[1])))
            steps = (steps[0], steps[1], int(d.get("num_inference_steps", steps[2])))
            guidance = (guidance[0], guidance[1], float(d.get("guidance_scale", guidance[2])))

        def legal_at_least(n: int) -> int:
            return step * math.ceil(max(0, n - offset) / step) + offset or step

        min_side = multiple * math.ceil(fam.min_side / multiple)
        max_side, max_frames = fam.max_side, fam.max_frames
        rope = getattr(getattr(getattr(self.pipe, "transformer", None), "config", None), "rope_max_seq_len", None)
        if isinstance(rope, int) and rope > 0:  # its positions reach so far along each axis (Wan)
            max_side = min(max_side, rope * multiple)
            max_frames = min(max_frames, (rope - 1) * step + offset) if step > 1 else max_frames
        max_side = max(min_side, max_side // multiple * multiple)
        caps = Capabilities(
            family=fam.name, modes=tuple(m for m in ("t2v", "i2v") if m in self.mode_classes), fps=float(fps),
            frames=1, frame_step=step, frame_offset=offset, min_frames=legal_at_least(fam.min_frames),
            max_frames=max_frames, chain=False, aspects={}, size_multiple=multiple, min_side=min_side,
            max_side=max_side, steps=steps, guidance=guidance, negative_prompt=fam.negative_prompt, samplers=())
        caps = dataclasses.replace(caps, default_size=caps.size_for(None, width=size[1], height=size[0]))  # snapped
        return dataclasses.replace(caps, frames=caps.legal_frames(frames))

    def _params(self) -> int:
        return sum(p.numel() for m in self.pipe.components.values() if isinstance(m, torch.nn.Module)
                   for p in m.parameters())

    # ---- previews ----------------------------------------------------------------------------------
    def _projection(self) -> preview.Projection:
        name = self.family.preview
        if name and len(families.PREVIEW_FACTORS[name][0]) == self.channels:
            return preview.Projection.published(name, *families.PREVIEW_FACTORS[name])
        vae = getattr(self.pipe, "vae", None)
        if vae is None:
            return preview.Projection.none(self.channels)
        try:
            # with offload the VAE sits on the CPU, and decode() is not the forward its hook moves
            device = "cpu" if self.offload else self.device
            return preview.fit(self.decode_latents, self.channels, self.capabilities.frame_step,
                               self.capabilities.frame_offset, device, vae.dtype)
        except Exception:  # a VAE the generic decode does not fit: previews are a nicety, not a reason to fail
            return preview.Projection.none(self.channels)

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised sampling latents B×C×F×h×w → pixels B×3×T×H×W in [-1, 1], as the pipeline decodes."""
        vae = self.pipe.vae
        cfg = vae.config
        if self.family.name == "ltx":
            mean = vae.latents_mean.view(1, -1, 1, 1, 1).to(z)
            std = vae.latents_std.view(1, -1, 1, 1, 1).to(z)
            x = z * std / float(cfg.scaling_factor) + mean
            temb = None
            if cfg.get("timestep_conditioning"):
                temb = torch.full((z.shape[0],), float(self.family.call_extras.get("decode_timestep", 0.0)),
                                  device=z.device, dtype=z.dtype)
            out = vae.decode(x, temb)
        elif cfg.get("latents_mean") and cfg.get("latents_std"):  # Wan and others that publish statistics
            mean = torch.tensor(cfg.latents_mean).view(1, -1, 1, 1, 1).to(z)
            std = torch.tensor(cfg.latents_std).view(1, -1, 1, 1, 1).to(z)
            out = vae.decode(z * std + mean)
        else:
            scale = float(cfg.get("scaling_factor") or 1.0)
            shift = float(cfg.get("shift_factor") or 0.0)
            out = vae.decode(z / scale + shift)
        return out.sample if hasattr(out, "sample") else out[0]

    def latent_grid(self, frames: int, height: int, width: int) -> tuple[int, int, int]:
        """(latent frames, latent height, latent width) of a clip."""
        step, offset = self.capabilities.frame_step, self.capabilities.frame_offset
        f = (frames - 1) // step + 1 if offset == 1 else max(1, frames // step)
        return f, height // self.vae_spatial, width // self.vae_spatial

    def _preview(self, latents, x0, grid, index) -> np.ndarray:
        z = preview.estimate(latents, x0, self.channels, grid, self.patch, self.patch_t) \
            if isinstance(latents, torch.Tensor) else None
        if z is None:
            return np.full((len(index), grid[1], grid[2], 3), 128, np.uint8)
        return preview.to_uint8_frames(self.projection(z[:1]), index)

    # ---- requests ------------------------------------------------------------------------------------
    def native_size(self, aspect: str | None = None) -> tuple[int, int]:
        return self.capabilities.size_for(aspect)

    def unknown_words(self, prompt: str) -> list[str]:
        return []  # an open model's tokenizer reads any text

    def validate(self, req: GenerationRequest) -> None:
        """The contract's checks against this model's Capabilities, then the loaded image (one line)."""
        try:
            req.validate_for(self.capabilities)
        except RequestError as e:
            raise RuntimeUserError(e.kind, e.message) from None
        if req.mode == "i2v":
            img = req.image
            if not isinstance(img, np.ndarray):
                raise RuntimeUserError("bad_request", f"the image was not loaded (got a {type(img).__name__})")
            if img.ndim != 3 or img.shape[-1] != 3 or min(img.shape[:2]) < 1:
                raise RuntimeUserError("bad_request", f"image must be H×W×3 RGB, got shape {tuple(img.shape)}")

    def request_size(self, req: GenerationRequest) -> tuple[int, int, int]:
        """(frames, height, width) a request makes."""
        h, w = (req.height, req.width) if req.width is not None else self.capabilities.size_for(req.aspect)
        return int(req.frames or self.capabilities.frames), int(h), int(w)

    @staticmethod
    def _image(image: np.ndarray, height: int, width: int):
        """The reference image cropped to the clip's aspect (centred) and resized: no stretching."""
        from PIL import Image

        img = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
        ih, iw = img.shape[:2]
        if iw * height > width * ih:  # too wide
            cw = max(1, round(ih * width / height))
            img = img[:, (iw - cw) // 2:(iw - cw) // 2 + cw]
        else:
            ch = max(1, round(iw * height / width))
            img = img[(ih - ch) // 2:(ih - ch) // 2 + ch]
        pil = Image.fromarray(img)
        return pil if pil.size == (width, height) else pil.resize((width, height), Image.Resampling.BICUBIC)

    def call_args(self, req: GenerationRequest) -> tuple[Any, dict[str, Any]]:
        """(pipeline, keyword arguments) that generate() runs for a valid request (without the step
        callback): what the overhead benchmark calls directly."""
        frames, h, w = self.request_size(req)
        pipe = self._pipeline(req.mode)
        kw: dict[str, Any] = dict(prompt=req.prompt, height=h, width=w, num_frames=frames,
                                  num_inference_steps=int(req.steps), guidance_scale=float(req.guidance),
                                  generator=torch.Generator().manual_seed(int(req.seed)), output_type="np")
        if self.capabilities.negative_prompt:
            kw["negative_prompt"] = req.negative_prompt
        if self.family.fps_arg:
            kw[self.family.fps_arg] = self.capabilities.fps
        kw.update(self.family.call_extras)
        if req.mode == "i2v":
            kw["image"] = self._image(req.image, h, w)
        return pipe, kw

    def generate(self, req: GenerationRequest, callback=None) -> np.ndarray:
        """uint8 T×H×W×3. callback(step, total, preview uint8 T×h×w×3) after every step; True cancels
        (raises Cancelled before the next step)."""
        self.validate(req)
        pipe, kw = self.call_args(req)
        frames, h, w = kw["num_frames"], kw["height"], kw["width"]
        recorder = None
        if callback is not None:
            grid = self.latent_grid(frames, h, w)
            index = preview.frame_index(frames, grid[0], self.capabilities.frame_step,
                                        self.capabilities.frame_offset)
            recorder = preview.X0Recorder(pipe.scheduler)

            def on_step(p, i, _t, tensors):
                total = int(getattr(p, "_num_timesteps", 0) or req.steps)
                frames_rgb = self._preview(tensors.get("latents"), recorder.x0, grid, index)
                if callback(i + 1, total, frames_rgb):
                    p._interrupt = True  # the pipeline's own stop flag: no later step may run
                    raise Cancelled(f"cancelled at step {i + 1} of {total}")
                return tensors

            kw["callback_on_step_end"] = on_step
        t0 = time.perf_counter()
        try:
            with recorder if recorder is not None else nullcontext():
                out = pipe(**kw)
        except BaseException:
            if self.offload:
                pipe.maybe_free_model_hooks()  # the run stopped before the pipeline put its models back
            raise
        video = out.frames[0] if hasattr(out, "frames") else out[0][0]
        video = np.stack([np.asarray(f) for f in video]) if isinstance(video, list) else np.asarray(video)
        self.last_timings = {"sample_s": time.perf_counter() - t0, "parts": 1}
        if video.dtype != np.uint8:
            video = np.clip(np.rint(video.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(video)

    # ---- cost --------------------------------------------------------------------------------------
    def estimate_memory(self, req: GenerationRequest) -> int:
        """Rough peak bytes on the device for a request:

            weights  = Σ parameter + buffer bytes of every component at its loaded dtype
                       (offload: only the largest component is on the device at a time)
            denoise  = cfg × tokens × hidden × act_bytes × 12
                       (tokens = latent cells / patch; cfg = 2 when guidance > 1; ×12 covers the residual
                       stream, q/k/v/out and the 4× MLP of one block; attention is memory-efficient SDPA)
            decode   = chunk_frames × H × W × vae_width × vae_bytes × 6
                       (the VAE's full-resolution feature maps of one decoded chunk: Wan decodes one latent
                       frame (4 frames) at a time, others the whole clip; tiling caps H × W at 512²)
            output   = frames × H × W × 3 × 4 (the float clip before it becomes uint8)
            total    = weights + max(denoise, decode) + output
        """
        frames, h, w = self.request_size(req)
        sizes = []
        for m in self.pipe.components.values():
            if isinstance(m, torch.nn.Module):
                sizes.append(sum(t.numel() * t.element_size() for t in (*m.parameters(), *m.buffers())))
        weights = max(sizes, default=0) if self.offload else sum(sizes)
        lf, lh, lw = self.latent_grid(frames, h, w)
        tokens = lf * lh * lw / max(1, self.patch_t * self.size_patch ** 2)
        tcfg = getattr(self.model, "config", {}) or {}
        hidden = int((tcfg.get("num_attention_heads") or 16) * (tcfg.get("attention_head_dim") or 64))
        act = torch.finfo(self.dtype).bits // 8
        cfg = 2 if float(req.guidance) > 1 else 1
        denoise = cfg * tokens * hidden * act * 12
        vae = getattr(self.pipe, "vae", None)
        vcfg = getattr(vae, "config", {}) or {}
        widths = vcfg.get("decoder_block_out_channels") or vcfg.get("block_out_channels") or [vcfg.get("base_dim") or 128]
        vae_width = int(min(widths)) if isinstance(widths, list | tuple) else int(widths)
        vae_bytes = torch.finfo(vae.dtype).bits // 8 if vae is not None else 4
        chunk = self.capabilities.frame_step if self.family.name == "wan" else frames
        area = min(h * w, 512 * 512) if self.vae_tiling else h * w
        decode = chunk * area * vae_width * vae_bytes * 6
        output = frames * h * w * 3 * 4
        return int(weights + max(denoise, decode) + output)
