"""The one set of rules a model config must pass before any tensor is made.

Checkpoints come from anywhere, so their configs may lie: every field of the U-ViT's and the
autoencoder's config is checked for type, range and consistency here (`check_uvit`, `check_ae`, run by
the configs' own `__post_init__`), JSON is parsed with a nesting limit (`loads_bounded`), and the
memory a model needs is estimated from its config alone (`estimate`, `memory_fault`) so a config that
cannot fit on the device is refused before anything is allocated. Faults are ValueError with one line
that names the field; the checkpoint loader adds the file.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from numbers import Integral, Real

from contract.rules import MAX_GUIDANCE

# Hard bounds: far above every shipped model (v1: 11M parameters, 265 tokens), far below what would
# make one config allocate tens of gigabytes.
MAX_PARAMS = 2_000_000_000
MAX_TOKENS = 16_384
MAX_DEPTH = 32  # JSON / dict nesting of a config (the shipped ones nest 3 deep)
MAX_ITEMS = 4_096  # values in one config's nested extras
_LAYOUT_CHANNELS = 4  # subject_plan.CHANNELS (not imported: this module stays torch-free)
_PLAN_DIM = 7  # subject_plan.PLAN_DIM
_PLANNER_WIDTH, _PLANNER_HIDDEN = 128, 256  # subject_plan.Planner's defaults
_TEXT_HEADS = 4  # text.SmallTextEncoder's heads: text_width must split into them
SCHEDULES = ("linear", "cosine")
PREDICTIONS = ("eps", "v")
POS_EMBEDS = ("learned", "sincos")
_ASPECT = re.compile(r"\d{1,3}:\d{1,3}")


def _vocab_size() -> int:
    """The tokenizer's vocabulary (model_runtime.text.VOCAB_SIZE, computed without torch)."""
    from contract.vocabulary import SLOT_WORDS, SLOTS

    return 1 + sum(len(SLOT_WORDS[s]) for s in SLOTS)


def short(v) -> str:
    """repr of a config value, one line and short (a lying config may hold a megabyte string)."""
    text = repr(v) if not isinstance(v, dict | list | tuple) else f"a {type(v).__name__} of {len(v)}"
    return text if len(text) <= 40 else text[:37] + "..."


# ---- field checks: each returns the value, or raises ValueError naming the field ----------------------
def whole(name: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, Integral):
        raise ValueError(f"{name} must be a whole number, got {short(v)}")
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be from {lo} to {hi}, got {v}")
    return int(v)


def number(name: str, v, lo: float, hi: float, lo_open: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, Real):
        raise ValueError(f"{name} must be a number, got {short(v)}")
    v = float(v)
    if not math.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
        raise ValueError(f"{name} must be a finite number {'above' if lo_open else 'from'} {lo:g} "
                         f"{'and at most' if lo_open else 'to'} {hi:g}, got {v}")
    return v


def flag(name: str, v) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{name} must be true or false, got {short(v)}")
    return v


def choice(name: str, v, options: tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {short(v)}")
    return v


def sizes(name: str, v, n: int, lo: int, hi: int) -> tuple[int, ...]:
    if not isinstance(v, list | tuple) or len(v) != n:
        raise ValueError(f"{name} must list {n} whole numbers, got {short(v)}")
    return tuple(whole(f"{name}[{i}]", x, lo, hi) for i, x in enumerate(v))


def check_nesting(name: str, value, finite: bool = True, max_depth: int = MAX_DEPTH,
                  max_items: int = MAX_ITEMS) -> None:
    """Plain JSON data of bounded depth and size (with finite numbers if `finite`). Iterative: a value
    nested 100,000 deep (or one that contains itself) is refused, never a RecursionError."""
    stack, items = [(value, 1)], 0
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict | list | tuple):
            if depth > max_depth:
                raise ValueError(f"{name} nests deeper than {max_depth} levels")
            items += len(v)
            if items > max_items:
                raise ValueError(f"{name} holds more than {max_items} values")
            if isinstance(v, dict) and not all(isinstance(k, str) for k in v):
                raise ValueError(f"{name} has a key that is not a string")
            stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v))
        elif finite and isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{name} holds a number that is not finite ({v})")
        elif v is not None and not isinstance(v, str | int | float):
            raise ValueError(f"{name} holds a {type(v).__name__}, not JSON data")


def extras(name: str, v) -> dict:
    """The free-form `extra` section: JSON data, plus the keys the runtime reads, checked."""
    if not isinstance(v, dict):
        raise ValueError(f"{name} must be an object, got {short(v)}")
    check_nesting(name, v)
    if "guidance" in v:
        number(f"{name}.guidance", v["guidance"], 0.0, MAX_GUIDANCE)
    if "latent_clip" in v:
        number(f"{name}.latent_clip", v["latent_clip"], 0.0, 1000.0, lo_open=True)
    return v


def unknown_keys(what: str, d, known) -> None:
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a JSON object, got {short(d)}")
    check_nesting(what, d, finite=False)  # bounded before any field is read; fields check their numbers
    unknown = [k for k in d if k not in known]
    if unknown:
        names = ", ".join(short(k) for k in sorted(unknown, key=str)[:5])
        raise ValueError(f"unknown {what} keys: {names}{' ...' if len(unknown) > 5 else ''}")


# ---- the U-ViT's config ------------------------------------------------------------------------------
def check_uvit(cfg) -> None:
    """Every field of a UViTConfig (model_runtime.uvit), then their consistency and the model's size.
    Normalises in place: patch becomes a tuple, aspects lists of ints."""
    whole("frames", cfg.frames, 1, 1024)
    whole("size", cfg.size, 1, 4096)
    whole("channels", cfg.channels, 1, 64)
    cfg.patch = sizes("patch", cfg.patch, 3, 1, 64)
    whole("width", cfg.width, 8, 16_384)
    whole("depth", cfg.depth, 1, 256)
    whole("heads", cfg.heads, 1, 1024)
    number("mlp_ratio", cfg.mlp_ratio, 0.0, 64.0, lo_open=True)
    whole("text_len", cfg.text_len, 1, 1024)
    whole("text_width", cfg.text_width, _TEXT_HEADS, 8192)
    whole("vocab_size", cfg.vocab_size, _vocab_size(), 1_000_000)
    whole("text_layers", cfg.text_layers, 0, 64)
    number("fps", cfg.fps, 1.0, 240.0)
    choice("schedule", cfg.schedule, SCHEDULES)
    choice("prediction", cfg.prediction, PREDICTIONS)
    choice("pos_embed", cfg.pos_embed, POS_EMBEDS)
    for name in ("input_skip", "adaln", "layout", "anchored_noise"):
        flag(name, getattr(cfg, name))
    ae = cfg.autoencoder
    if not isinstance(ae, str) or len(ae) > 128 or (ae and (os.path.basename(ae) != ae or "\\" in ae
                                                           or ae in (".", "..") or "\0" in ae)):
        raise ValueError(f"bad autoencoder name {short(ae)} (a file stem beside the model, no folders)")
    if not isinstance(cfg.aspects, dict) or len(cfg.aspects) > 16:
        raise ValueError("aspects must map up to 16 aspect names to [height, width] in latent pixels")
    for k, v in cfg.aspects.items():
        if not isinstance(k, str) or not _ASPECT.fullmatch(k):
            raise ValueError(f"aspects: {short(k)} is not an aspect name like '16:9'")
        sizes(f"aspects[{k!r}]", v, 2, 1, 1024)
    cfg.aspects = {k: [int(n) for n in v] for k, v in cfg.aspects.items()}
    cfg.extra = extras("extra", cfg.extra)

    # consistency (the messages other tests and users know)
    if cfg.aspects and not cfg.autoencoder:
        raise ValueError("aspects are for latent models: name the autoencoder too")
    if len(cfg.aspects) > 1 and cfg.pos_embed != "sincos":
        raise ValueError("a model of several aspects needs pos_embed 'sincos' (one learned table fits one grid)")
    pt, ph, pw = cfg.patch
    for aspect in cfg.aspect_names:
        h, w = cfg.frame_shape(aspect)
        if cfg.frames % pt or h % ph or w % pw:
            raise ValueError(f"frames {cfg.frames} and the {aspect} frame {h}×{w} must be multiples of the "
                             f"patch {cfg.patch}")
    if cfg.anchored_noise and not cfg.layout:
        raise ValueError("anchored_noise needs layout: the noise is anchored by the layout")
    if cfg.heads > cfg.width or cfg.width % cfg.heads:
        raise ValueError(f"width {cfg.width} must be a multiple of heads {cfg.heads}")
    if cfg.width % 2:
        raise ValueError(f"width must be even (the time step's sin-cos code has two halves), got {cfg.width}")
    if int(cfg.width * cfg.mlp_ratio) < 1:
        raise ValueError(f"mlp_ratio {cfg.mlp_ratio} leaves the MLP of width {cfg.width} without units")
    if cfg.text_width % _TEXT_HEADS:
        raise ValueError(f"text_width must be a multiple of {_TEXT_HEADS} (the text encoder's heads), "
                         f"got {cfg.text_width}")
    tokens = max(_tokens(cfg, a) for a in cfg.aspect_names)
    if tokens > MAX_TOKENS:
        raise ValueError(f"frames, size/aspects, patch and text_len make {tokens} tokens (at most {MAX_TOKENS})")
    params = uvit_params(cfg)
    if params > MAX_PARAMS:
        raise ValueError(f"width, depth, text_width and text_layers make {params / 1e9:.1f}B parameters "
                         f"(at most {MAX_PARAMS / 1e9:g}B)")


def _tokens(cfg, aspect: str) -> int:
    pt, ph, pw = cfg.patch
    h, w = cfg.frame_shape(aspect)
    return 1 + cfg.text_len + (cfg.frames // pt) * (h // ph) * (w // pw)


def _linear(a: int, b: int) -> int:
    return a * b + b


def text_params(vocab: int, width: int, layers: int) -> int:
    """text.SmallTextEncoder: embedding, `layers` pre-LN transformer layers (4 heads, MLP 2×), norm."""
    per_layer = _linear(width, 3 * width) + _linear(width, width) + _linear(width, 2 * width) \
        + _linear(2 * width, width) + 4 * width
    return vocab * width + layers * per_layer + 2 * width


def uvit_params(cfg) -> int:
    """Parameters of VideoDiffusionModel(cfg), from the config alone (tests check it against the module)."""
    d, c = cfg.width, cfg.channels
    hidden = int(d * cfg.mlp_ratio)
    pt, ph, pw = cfg.patch
    half = cfg.depth // 2
    c_in = c + (_LAYOUT_CHANNELS if cfg.layout else 0)
    n = c_in * d * pt * ph * pw + d  # patch embedding
    n += _linear(d, 4 * d) + _linear(4 * d, d) + _linear(cfg.text_width, d)  # time and text embeddings
    n += (cfg.num_tokens if cfg.pos_embed == "learned" else 1 + cfg.text_len) * d
    block = 4 * d + _linear(d, 3 * d) + _linear(d, d) + _linear(d, hidden) + _linear(hidden, d)
    if cfg.adaln:
        block += _linear(d, 4 * d)
    n += (2 * half + 1) * block + half * _linear(2 * d, d)  # blocks + long skips
    n += 2 * d + _linear(d, pt * ph * pw * c)  # final norm, patch decoder
    n += c * (2 if cfg.input_skip else 1) * c * 27 + c  # the 3×3×3 conv
    n += text_params(cfg.vocab_size, cfg.text_width, cfg.text_layers)
    if cfg.layout:  # subject_plan.Planner
        w, h = _PLANNER_WIDTH, _PLANNER_HIDDEN
        n += cfg.vocab_size * w + _linear(w, h) + _linear(h, h) + _linear(h, cfg.frames * _PLAN_DIM)
    return n


# ---- the autoencoder's config ---------------------------------------------------------------------------
def check_ae(cfg) -> None:
    """Every field of an AEConfig (model_runtime.autoencoder); normalises the channel lists to tuples."""
    c = whole("latent_channels", cfg.latent_channels, 1, 64)
    cfg.enc_channels = sizes("enc_channels", cfg.enc_channels, 4, 1, 1024)
    cfg.dec_channels = sizes("dec_channels", cfg.dec_channels, 4, 1, 1024)
    for name in ("shift", "scale"):
        v = getattr(cfg, name)
        if not isinstance(v, list | tuple) or (v and len(v) != c):
            raise ValueError(f"{name} must list {c} numbers (or none), got {short(v)}")
        for i, x in enumerate(v):
            if name == "scale":
                number(f"scale[{i}]", x, 0.0, 1e6, lo_open=True)
            else:
                number(f"shift[{i}]", x, -1e6, 1e6)
        setattr(cfg, name, [float(x) for x in v])
    cfg.extra = extras("extra", cfg.extra)


def ae_params(cfg) -> int:
    """Parameters of autoencoder.VideoAutoencoder(cfg), from the config alone."""
    def conv(a, b, k=3):
        return a * b * k * k + b

    def res(ch):
        return 2 * conv(ch, ch)

    e0, e1, e2, e3 = cfg.enc_channels
    d0, d1, d2, d3 = cfg.dec_channels
    c = cfg.latent_channels
    enc = conv(3, e0) + conv(e0, e1) + res(e1) + conv(e1, e2) + res(e2) + conv(e2, e3) + 2 * res(e3) + conv(e3, c)
    dec = conv(c, d0) + 2 * res(d0) + conv(d0, d1) + res(d1) + conv(d1, d2) + res(d2) + conv(d2, d3) + conv(d3, 3)
    return enc + dec + conv(c, 3, 1)


# ---- memory --------------------------------------------------------------------------------------------
@dataclass
class Estimate:
    params: int
    host_bytes: int  # to build the model on the host and load its weights file beside it
    device_bytes: int  # the weights on the device + the activations of one guided sampler step
    what: str  # the fields that size it, for the message


def estimate(cfg, file_itemsize: int = 4) -> Estimate:
    """Rough memory of a U-ViT model, from its config: fp32 parameters (+ the weights file's tensors
    while they load), and one guided step (batch 2) keeping the long skips, one block's working set,
    the attention scores and a few video-sized tensors. See uvit_activation_bytes."""
    p = uvit_params(cfg)
    return Estimate(p, p * (4 + file_itemsize), p * 4 + uvit_activation_bytes(cfg),
                    f"width {cfg.width}, depth {cfg.depth}, {max(_tokens(cfg, a) for a in cfg.aspect_names)} tokens")


def uvit_activation_bytes(cfg, batch: int = 2) -> int:
    d, hidden, half = cfg.width, int(cfg.width * cfg.mlp_ratio), cfg.depth // 2
    worst = 0
    for aspect in cfg.aspect_names:
        n = _tokens(cfg, aspect)
        h, w = cfg.frame_shape(aspect)
        voxels = cfg.frames * h * w * (cfg.channels + (_LAYOUT_CHANNELS if cfg.layout else 0))
        worst = max(worst, n * d * (half + 6) + n * hidden + cfg.heads * n * n + 8 * voxels)
    return 4 * batch * worst


def ae_estimate(cfg, file_itemsize: int = 4, frames: int = 16, pixels: int = 256 * 144) -> Estimate:
    """An autoencoder: fp32 parameters (+ the file's), and decoding `frames` frames of the largest
    native size (pipeline chunks of 16) with three feature maps of its widest stage alive."""
    p = ae_params(cfg)
    widest = max(cfg.enc_channels + cfg.dec_channels)
    return Estimate(p, p * (4 + file_itemsize), p * 4 + 4 * 3 * frames * widest * pixels,
                    f"enc_channels {list(cfg.enc_channels)}, dec_channels {list(cfg.dec_channels)}")


def available_bytes(device) -> tuple[int, int]:
    """(host RAM available now, the device's memory; 0 where unknown). CUDA: the device's total memory;
    CPU (and MPS, which shares it): the host's available RAM."""
    host = _host_available()
    kind = getattr(device, "type", str(device).split(":")[0])
    if kind == "cuda":
        try:
            import torch

            return host, int(torch.cuda.get_device_properties(device).total_memory)
        except (RuntimeError, AssertionError, ValueError):
            return host, 0
    return host, host


def _host_available() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def memory_fault(est: Estimate, device) -> str | None:
    """A one-line reason when the estimate does not fit (host RAM to build it, the device to run it)."""
    host, dev = available_bytes(device)
    kind = getattr(device, "type", str(device).split(":")[0])
    need_host = est.host_bytes + (0 if kind == "cuda" else est.device_bytes - est.params * 4)
    for where, need, have in (("host RAM", need_host, host), (f"{kind} memory", est.device_bytes, dev)):
        if have and need > have:
            return (f"the model ({est.what}: {est.params / 1e6:.1f}M parameters) needs about "
                    f"{need / 2**30:.1f} GiB of {where}, {have / 2**30:.1f} GiB is available")
    return None


def check_fits(cfg, device) -> None:
    """For models built from a config alone (random init): RuntimeUserError('config') when it cannot fit."""
    from model_runtime.errors import RuntimeUserError

    fault = memory_fault(estimate(cfg), device)
    if fault:
        raise RuntimeUserError("config", f"bad model config ({fault})")


# ---- JSON with a nesting limit ------------------------------------------------------------------------
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(text: str, limit: int) -> int:
    """The nesting depth of JSON text (strings skipped), counted up to limit + 1: a linear scan that
    never recurses, so `json.loads` only ever sees text nested within the limit."""
    depth = top = 0
    for m in _JSON_TOKENS.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > top:
                top = depth
                if top > limit:
                    break
        elif ch in "]}":
            depth -= 1
    return top


def loads_bounded(text: str, max_depth: int = MAX_DEPTH):
    """json.loads refusing text nested deeper than max_depth (ValueError, one line)."""
    if json_depth(text, max_depth) > max_depth:
        raise ValueError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # unreachable after the scan; kept so no JSON can escape as a traceback
        raise ValueError(f"nested deeper than {max_depth} levels") from None
