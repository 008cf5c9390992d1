"""Video compression: a frame-wise convolutional autoencoder that turns clips into latents 8× smaller
in each spatial side, so the U-ViT denoises a short token sequence at native 16:9, 9:16 and 1:1.

Frame-wise (2D) on purpose: every latent frame belongs to exactly one video frame, so image-to-video,
continuity and extend keep their known frames exact in latent space and a long take chains in latent
space with no re-encoding at the seams; the U-ViT's tubelet patches do the temporal grouping. Fully
convolutional and without spatial normalisation, so it trains on crops and runs on any frame whose
sides are multiples of 8.

Latents are stored normalised (`(z - shift) * scale`, per channel), so diffusion sees unit variance.
A linear latent → RGB map fitted to the decoder (`preview`) gives the live preview for the cost of a
matrix product.

CLI (a round trip, uint8 T×H×W×3 in and out):
    python -m model_runtime.autoencoder --in clip.npy --out rec.npy [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from model_runtime.checkpoint import (
    ASSETS,
    atomic_write_bytes,
    check_memory,
    check_plausible,
    file_hash,
    inspect_weights,
    load_weights,
    paths_for,
    read_doc,
)
from model_runtime.config_rules import ae_estimate, check_ae, unknown_keys
from model_runtime.errors import RuntimeUserError

FORMAT = "vstudio-autoencoder-1"
DEFAULT_NAME = "vstudio-ae"
# The native frame height of each aspect (TOYWORLD.md canvas: width = ratio × height). Each is 576
# latent positions at 8×: 18×32, 32×18 and 24×24.
NATIVE_HEIGHTS = {"16:9": 144, "9:16": 256, "1:1": 192}


@dataclass
class AEConfig:
    latent_channels: int = 8
    enc_channels: tuple[int, int, int, int] = (32, 64, 128, 128)  # full res, /2, /4, /8
    dec_channels: tuple[int, int, int, int] = (128, 96, 64, 32)   # /8, /4, /2, full res
    # per-channel normalisation of the latents (fitted after training; identity until then)
    shift: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    factor = 8  # spatial compression (three stride-2 stages)

    def __post_init__(self):
        check_ae(self)  # every field's type and range (config_rules: one set of rules)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["enc_channels"], d["dec_channels"] = list(self.enc_channels), list(self.dec_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> AEConfig:
        unknown_keys("autoencoder config", d, cls.__dataclass_fields__)
        return cls(**d)


class _Res(nn.Module):
    """x + conv(silu(conv(silu(x)))); the last conv starts at zero, so a new block is the identity."""

    def __init__(self, c: int):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class _Up(nn.Module):
    def __init__(self, a: int, b: int):
        super().__init__()
        self.conv = nn.Conv2d(a, b, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class VideoAutoencoder(nn.Module):
    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg = cfg
        e0, e1, e2, e3 = cfg.enc_channels
        d0, d1, d2, d3 = cfg.dec_channels
        c = cfg.latent_channels
        self.encoder = nn.Sequential(
            nn.Conv2d(3, e0, 3, padding=1),
            nn.Conv2d(e0, e1, 3, stride=2, padding=1), _Res(e1),
            nn.Conv2d(e1, e2, 3, stride=2, padding=1), _Res(e2),
            nn.Conv2d(e2, e3, 3, stride=2, padding=1), _Res(e3), _Res(e3),
            nn.SiLU(), nn.Conv2d(e3, c, 3, padding=1))
        self.decoder = nn.Sequential(
            nn.Conv2d(c, d0, 3, padding=1), _Res(d0), _Res(d0),
            _Up(d0, d1), _Res(d1),
            _Up(d1, d2), _Res(d2),
            _Up(d2, d3), nn.SiLU(), nn.Conv2d(d3, 3, 3, padding=1))
        # latent → RGB preview (C → 3, fitted to the decoder by least squares; see fit_preview)
        self.preview = nn.Conv2d(c, 3, 1)
        nn.init.zeros_(self.preview.weight)
        nn.init.zeros_(self.preview.bias)
        shift = torch.tensor(cfg.shift or [0.0] * c, dtype=torch.float32)
        scale = torch.tensor(cfg.scale or [1.0] * c, dtype=torch.float32)
        self.register_buffer("shift", shift.view(1, c, 1, 1, 1), persistent=False)
        self.register_buffer("scale", scale.view(1, c, 1, 1, 1), persistent=False)

    # ---- frames <-> per-frame 2D batches ---------------------------------------------------------
    @staticmethod
    def _frames(x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        return x.transpose(1, 2).reshape(b * t, c, h, w)

    @staticmethod
    def _video(y: torch.Tensor, b: int) -> torch.Tensor:
        n, c, h, w = y.shape
        return y.reshape(b, n // b, c, h, w).transpose(1, 2)

    def check_size(self, h: int, w: int) -> None:
        f = self.cfg.factor
        if h % f or w % f:
            raise RuntimeUserError("bad_size", f"frame sides must be multiples of {f} to encode, got {w}×{h}")

    def encode_raw(self, x: torch.Tensor) -> torch.Tensor:
        """B×3×T×H×W in [-1, 1] → unnormalised latents B×C×T×H/8×W/8."""
        self.check_size(x.shape[-2], x.shape[-1])
        return self._video(self.encoder(self._frames(x)), x.shape[0])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """B×3×T×H×W in [-1, 1] → normalised latents (what the U-ViT denoises)."""
        z = self.encode_raw(x)
        return (z - self.shift.to(z.dtype)) * self.scale.to(z.dtype)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self._video(self.decoder(self._frames(z)), z.shape[0])

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised latents → B×3×T×H×W (about [-1, 1])."""
        return self.decode_raw(z / self.scale.to(z.dtype) + self.shift.to(z.dtype))

    def preview_rgb(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised latents → a cheap B×3×T×h×w RGB preview in [-1, 1] at latent resolution."""
        raw = z / self.scale.to(z.dtype) + self.shift.to(z.dtype)
        return self._video(self.preview(self._frames(raw)), z.shape[0]).clamp(-1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_raw(self.encode_raw(x))


@torch.no_grad()
def fit_preview(ae: VideoAutoencoder, clips: torch.Tensor | list[torch.Tensor]) -> float:
    """Least-squares fit of the preview map: raw latents → the 8×8 mean of the decoder's own output.
    clips: B×3×T×H×W in [-1, 1] (or a list of them, of any sizes). Returns the fit's RMS error."""
    rows, targets = [], []
    for x in clips if isinstance(clips, list) else [clips]:
        z = ae.encode_raw(x)
        target = F.avg_pool2d(VideoAutoencoder._frames(ae.decode_raw(z)).float(), ae.cfg.factor)
        zf = VideoAutoencoder._frames(z).float()
        rows.append(zf.permute(0, 2, 3, 1).reshape(-1, zf.shape[1]))
        targets.append(target.permute(0, 2, 3, 1).reshape(-1, 3))
    a = torch.cat(rows)
    a = torch.cat([a, torch.ones(len(a), 1)], dim=1)
    y = torch.cat(targets)
    sol = torch.linalg.lstsq(a, y).solution  # (C+1)×3
    ae.preview.weight.copy_(sol[:-1].T.reshape(3, -1, 1, 1))
    ae.preview.bias.copy_(sol[-1])
    return float((a @ sol - y).pow(2).mean().sqrt())


@torch.no_grad()
def fit_normalisation(ae: VideoAutoencoder, clips: torch.Tensor | list[torch.Tensor]) -> None:
    """Per-channel shift and scale so that encoded clips (B×3×T×H×W, or a list of any sizes) have zero
    mean and unit variance: the scale the diffusion schedule assumes."""
    z = torch.cat([ae.encode_raw(x).float().transpose(0, 1).flatten(1)
                   for x in (clips if isinstance(clips, list) else [clips])], dim=1)  # C×N
    mean, std = z.mean(dim=1), z.std(dim=1).clamp_min(1e-4)
    ae.cfg.shift = [float(v) for v in mean]
    ae.cfg.scale = [float(v) for v in 1.0 / std]
    ae.shift.copy_(mean.view_as(ae.shift))
    ae.scale.copy_((1.0 / std).view_as(ae.scale))


# ---- checkpoints (safetensors + JSON; never pickle) -----------------------------------------------
def default_checkpoint() -> Path:
    return ASSETS / f"{DEFAULT_NAME}.safetensors"


def save(ae: VideoAutoencoder, path: str | Path, meta: dict | None = None, half: bool = False) -> str:
    weights, config = paths_for(path)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype).contiguous() for k, v in ae.state_dict().items()}
    atomic_write_bytes(weights, lambda tmp: save_file(state, tmp, metadata={"format": FORMAT}))
    digest = file_hash(weights)
    doc = {"format": FORMAT, "config": ae.cfg.to_dict(), "sha256": digest,
           "dtype": str(dtype).removeprefix("torch."), "meta": meta or {}}
    atomic_write_bytes(config, lambda tmp: Path(tmp).write_text(json.dumps(doc, indent=2)))
    return digest


def load(path: str | Path | None = None, device: str | torch.device = "cpu") -> tuple[VideoAutoencoder, dict]:
    """(autoencoder in eval mode, info). Every fault is a CheckpointError naming the file."""
    weights, config = paths_for(path or default_checkpoint())
    wf = inspect_weights(weights, "autoencoder weights")
    cfg, doc = read_doc(config, FORMAT, AEConfig.from_dict)
    est = ae_estimate(cfg, wf.itemsize)
    check_plausible(wf, est.params, config, est.what)
    check_memory(est, device, config)
    ae = VideoAutoencoder(cfg)
    digest = load_weights(ae, weights, doc, wf)
    ae.to(device).eval()
    return ae, {"model_id": weights.stem, "checkpoint_hash": digest, "meta": doc.get("meta", {}), "path": str(weights)}


# ---- numpy round trip -------------------------------------------------------------------------------
def to_model_space(clip: np.ndarray) -> torch.Tensor:
    """uint8 T×H×W×3 → float 1×3×T×H×W in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(clip)).float().permute(3, 0, 1, 2).unsqueeze(0) / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """B×3×T×H×W in [-1, 1] → uint8 B×T×H×W×3."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 4, 1).cpu().numpy()


@torch.no_grad()
def round_trip(ae: VideoAutoencoder, clip: np.ndarray, chunk: int = 16, autocast: bool = True) -> np.ndarray:
    """Encode and decode a uint8 T×H×W×3 clip whose sides are multiples of 8 (frames in chunks)."""
    ae.check_size(clip.shape[1], clip.shape[2])
    dev = next(ae.parameters()).device
    out = []
    for i in range(0, len(clip), chunk):
        x = to_model_space(clip[i:i + chunk]).to(dev)
        ctx = torch.autocast(dev.type, dtype=torch.bfloat16) if autocast and dev.type in ("cpu", "cuda") \
            else torch.autocast(dev.type, enabled=False)
        with ctx:
            out.append(to_uint8(ae.decode(ae.encode(x)))[0])
    return np.concatenate(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.autoencoder",
                                 description="Round trip a clip through the video autoencoder.")
    ap.add_argument("--in", dest="inp", required=True, help="uint8 T×H×W×3 .npy (sides multiples of 8)")
    ap.add_argument("--out", required=True, help="reconstruction, .npy")
    ap.add_argument("--checkpoint", default=None, help="default: the bundled autoencoder")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = ap.parse_args(argv)
    from contract.files import atomic_path
    from model_runtime.picture_quality import psnr
    from model_runtime.pipeline import pick_device

    try:
        out = Path(args.out)
        if out.suffix != ".npy":
            raise RuntimeUserError("bad_output", f"--out must end in .npy, got {out.name!r}")
        src = Path(args.inp)
        if not src.is_file():
            raise RuntimeUserError("bad_input", f"--in file not found: {args.inp}")
        try:
            clip = np.load(src, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise RuntimeUserError("bad_input", f"{args.inp}: not a readable .npy file ({str(e).splitlines()[0]})") from None
        if clip.dtype != np.uint8 or clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] == 0:
            raise RuntimeUserError("bad_input", f"{args.inp}: expected uint8 T×H×W×3, got {clip.dtype} {clip.shape}")
        ae, _ = load(args.checkpoint, pick_device(args.device))
        rec = round_trip(ae, clip)
        with atomic_path(out) as tmp:  # .npy only: frames, no frame rate to invent
            np.save(tmp, rec, allow_pickle=False)
    except RuntimeUserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"{out}: {rec.shape[0]} frames {rec.shape[2]}×{rec.shape[1]}, PSNR {psnr(clip, rec):.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
