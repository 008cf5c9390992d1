"""Video U-ViT (Bao et al., "All are Worth Words", CVPR 2023), extended to space-time.

Every input is a token: the diffusion time step, the text condition tokens and the noisy video's
tubelet patches. Pre-LN transformer blocks; long skips join each shallow block to its mirrored deep
block (concatenate, then linear); a 3x3x3 conv cleans up the unpatchified output.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from model_runtime.config_rules import check_uvit, unknown_keys
from model_runtime.subject_plan import CHANNELS as LAYOUT_CHANNELS


@dataclass
class UViTConfig:
    frames: int = 16
    size: int = 32
    channels: int = 3
    patch: tuple[int, int, int] = (4, 4, 4)  # (pt, ph, pw) tubelet
    width: int = 256
    depth: int = 9  # in-blocks = out-blocks = depth // 2, plus one middle block
    heads: int = 4
    mlp_ratio: float = 4.0
    text_len: int = 8
    text_width: int = 128
    vocab_size: int = 64
    text_layers: int = 2
    fps: float = 8.0
    schedule: str = "linear"
    prediction: str = "eps"  # what the network outputs: "eps" (noise) or "v" (alpha eps - sigma x0)
    input_skip: bool = False  # the final conv also sees the noisy input: pixel-level denoising stays local
    # every block's norms are also scaled and shifted by (time + pooled text), as in DiT's adaLN; the
    # condition tokens stay in the sequence (U-ViT), this only gives global conditions a direct path
    adaln: bool = False
    # a planner predicts the per-frame camera and subject layout from the prompt and the U-ViT sees it
    # as extra input channels (model_runtime/subject_plan.py)
    layout: bool = False
    # the diffusion noise is anchored to the world and the subject by the layout (anchored_noise.py)
    anchored_noise: bool = False
    # latent models: the autoencoder (assets/models/NAME) whose latents this model denoises, and the
    # latent frame (height, width) of every aspect it makes; the first aspect is the default. Pixel
    # models leave both empty and make square `size` frames.
    autoencoder: str = ""
    aspects: dict = field(default_factory=dict)
    # "learned": a learned table for one grid (pixel models); "sincos": fixed sin-cos of each token's
    # place in frame heights (the same place means the same code at every aspect) + learned extras
    pos_embed: str = "learned"
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        # every field's type, range and consistency, and the model's size: one set of rules
        check_uvit(self)

    @property
    def aspect_names(self) -> list[str]:
        return list(self.aspects) if self.aspects else ["1:1"]

    @property
    def default_aspect(self) -> str:
        return self.aspect_names[0]

    def frame_shape(self, aspect: str | None = None) -> tuple[int, int]:
        """(height, width) of a frame in model space (latent pixels for latent models) at `aspect`."""
        aspect = aspect or self.default_aspect
        if not self.aspects:
            if aspect != "1:1":
                raise KeyError(aspect)
            return self.size, self.size
        h, w = self.aspects[aspect]
        return h, w

    @property
    def grid(self) -> tuple[int, int, int]:
        pt, ph, pw = self.patch
        h, w = self.frame_shape()
        return self.frames // pt, h // ph, w // pw

    @property
    def num_patches(self) -> int:
        gt, gh, gw = self.grid
        return gt * gh * gw

    @property
    def num_tokens(self) -> int:
        return 1 + self.text_len + self.num_patches

    def to_dict(self) -> dict:
        d = asdict(self)
        d["patch"] = list(self.patch)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> UViTConfig:
        """A config from outside (a checkpoint, a request, a training file): ValueError with one line
        naming the field for anything config_rules.check_uvit refuses."""
        unknown_keys("config", d, cls.__dataclass_fields__)
        return cls(**d)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def sincos_3d(grid: tuple[int, int, int], dim: int) -> torch.Tensor:
    """Factorised sin-cos space-time position embedding: a third of the channels each for t, y, x."""
    gt, gh, gw = grid
    d_axis = (dim // 6) * 2
    parts = []
    for n, axis in ((gt, 0), (gh, 1), (gw, 2)):
        pos = torch.arange(n, dtype=torch.float32)
        freqs = 1.0 / (10000 ** (torch.arange(d_axis // 2, dtype=torch.float32) / max(d_axis // 2, 1)))
        ang = pos[:, None] * freqs[None]
        emb = torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)  # n × d_axis
        shape = [1, 1, 1, d_axis]
        shape[axis] = n
        parts.append(emb.reshape(shape).expand(gt, gh, gw, d_axis))
    pe = torch.cat(parts, dim=-1).reshape(gt * gh * gw, -1)
    return F.pad(pe, (0, dim - pe.shape[1]))


def sincos_positions(positions: tuple[torch.Tensor, torch.Tensor, torch.Tensor], dim: int) -> torch.Tensor:
    """Sin-cos codes of continuous positions along t, y and x (one 1-D tensor each): (nt·ny·nx)×dim,
    a third of the channels per axis, as sincos_3d but at any (fractional) place."""
    d_axis = (dim // 6) * 2
    sizes = [len(p) for p in positions]
    parts = []
    for axis, pos in enumerate(positions):
        freqs = 1.0 / (10000 ** (torch.arange(d_axis // 2, dtype=torch.float32) / max(d_axis // 2, 1)))
        ang = pos.float()[:, None] * freqs[None]
        emb = torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)
        shape = [1, 1, 1, d_axis]
        shape[axis] = len(pos)
        parts.append(emb.reshape(shape).expand(*sizes, d_axis))
    pe = torch.cat(parts, dim=-1).reshape(-1, 3 * d_axis)
    return F.pad(pe, (0, dim - pe.shape[1]))


def token_places(grid: tuple[int, int, int], unit: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token places for sincos_positions: frame index along t, and along y and x the offset of the
    token's centre from the frame's centre in frame heights times `unit` (tokens per frame height at
    the default aspect), so a place in the frame has one code at every aspect."""
    gt, gh, gw = grid
    t = torch.arange(gt, dtype=torch.float32)
    y = (torch.arange(gh, dtype=torch.float32) + 0.5 - gh / 2) / gh * unit
    x = (torch.arange(gw, dtype=torch.float32) + 0.5 - gw / 2) / gh * unit
    return t, y, x


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, skip: bool = False, adaln: bool = False):
        super().__init__()
        self.skip_linear = nn.Linear(2 * dim, dim) if skip else None
        # zero-initialised: a new modulation starts as the identity, so trained weights warm-start
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 4 * dim)) if adaln else None
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.skip_linear is not None:
            x = self.skip_linear(torch.cat([x, skip], dim=-1))
        if self.modulation is None:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        shift1, scale1, shift2, scale2 = self.modulation(cond).unsqueeze(1).chunk(4, dim=-1)
        x = x + self.attn(self.norm1(x) * (1 + scale1) + shift1)
        return x + self.mlp(self.norm2(x) * (1 + scale2) + shift2)


class UViT(nn.Module):
    """forward(x: B×C×T×H×W, t: B float time steps, context: B×L×text_width) -> predicted noise."""

    def __init__(self, cfg: UViTConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.width
        self.in_channels = cfg.channels + (LAYOUT_CHANNELS if cfg.layout else 0)
        self.patch_embed = nn.Conv3d(self.in_channels, d, kernel_size=cfg.patch, stride=cfg.patch)
        self.time_embed = nn.Sequential(nn.Linear(d, 4 * d), nn.SiLU(), nn.Linear(4 * d, d))
        self.context_embed = nn.Linear(cfg.text_width, d)
        n_extra = 1 + cfg.text_len
        if cfg.pos_embed == "learned":
            pos = torch.zeros(1, cfg.num_tokens, d)
            pos[0, n_extra:] = sincos_3d(cfg.grid, d)
            self.pos_embed = nn.Parameter(pos)  # learned, starting from space-time sin-cos
        else:
            self.extra_pos = nn.Parameter(torch.zeros(1, n_extra, d))  # time and text tokens
            self._pos_cache: dict = {}
        half = cfg.depth // 2
        a = cfg.adaln
        self.in_blocks = nn.ModuleList(Block(d, cfg.heads, cfg.mlp_ratio, adaln=a) for _ in range(half))
        self.mid_block = Block(d, cfg.heads, cfg.mlp_ratio, adaln=a)
        self.out_blocks = nn.ModuleList(Block(d, cfg.heads, cfg.mlp_ratio, skip=True, adaln=a) for _ in range(half))
        self.norm = nn.LayerNorm(d)
        pt, ph, pw = cfg.patch
        self.patch_dim = pt * ph * pw * cfg.channels
        self.decoder_pred = nn.Linear(d, self.patch_dim)
        conv_in = cfg.channels * (2 if cfg.input_skip else 1)
        self.final_layer = nn.Conv3d(conv_in, cfg.channels, 3, padding=1)
        self.apply(self._init)
        for blk in self.blocks():
            if blk.modulation is not None:
                nn.init.zeros_(blk.modulation[1].weight)
                nn.init.zeros_(blk.modulation[1].bias)

    def blocks(self) -> list[Block]:
        return [*self.in_blocks, self.mid_block, *self.out_blocks]

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def positions(self, grid: tuple[int, int, int], device) -> torch.Tensor:
        """1×N×D position codes of every token for a video of this token grid."""
        if self.cfg.pos_embed == "learned":
            if tuple(grid) != self.cfg.grid:
                raise ValueError(f"this model's learned positions fit the grid {self.cfg.grid}, not {tuple(grid)}")
            return self.pos_embed
        key = (tuple(grid), str(device))
        if key not in self._pos_cache:
            unit = self.cfg.grid[1]
            self._pos_cache[key] = sincos_positions(token_places(grid, unit), self.cfg.width).to(device)[None]
        return torch.cat([self.extra_pos, self._pos_cache[key].to(self.extra_pos.dtype)], dim=1)

    def unpatchify(self, x: torch.Tensor, grid: tuple[int, int, int] | None = None) -> torch.Tensor:
        cfg = self.cfg
        gt, gh, gw = grid or cfg.grid
        pt, ph, pw = cfg.patch
        b = x.shape[0]
        x = x.reshape(b, gt, gh, gw, cfg.channels, pt, ph, pw)
        x = x.permute(0, 4, 1, 5, 2, 6, 3, 7)
        return x.reshape(b, cfg.channels, gt * pt, gh * ph, gw * pw)

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor,
                maps: torch.Tensor | None = None) -> torch.Tensor:
        """maps: B×4×T×H×W layout channels (config `layout`), patchified with the video."""
        if (maps is not None) != self.cfg.layout:
            raise ValueError("layout maps are needed exactly when the config has layout")
        inp = x if maps is None else torch.cat([x, maps.to(x.dtype)], dim=1)
        pt, ph, pw = self.cfg.patch
        grid = (x.shape[2] // pt, x.shape[3] // ph, x.shape[4] // pw)
        patches = self.patch_embed(inp).flatten(2).transpose(1, 2)  # B×N×D
        t_tok = self.time_embed(timestep_embedding(t, self.cfg.width)).unsqueeze(1)
        c_tok = self.context_embed(context)
        h = torch.cat([t_tok, c_tok, patches], dim=1) + self.positions(grid, x.device)
        # the global condition for adaLN: time plus the mean of the text tokens (order-free, like the set)
        cond = (t_tok[:, 0] + c_tok.mean(dim=1)) if self.cfg.adaln else None
        skips = []
        for blk in self.in_blocks:
            h = blk(h, cond=cond)
            skips.append(h)
        h = self.mid_block(h, cond=cond)
        for blk in self.out_blocks:
            h = blk(h, skips.pop(), cond=cond)
        h = self.unpatchify(self.decoder_pred(self.norm(h))[:, 1 + self.cfg.text_len :], grid)
        if self.cfg.input_skip:
            h = torch.cat([h, x.to(h.dtype)], dim=1)
        return self.final_layer(h)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def forward_flops(cfg: UViTConfig) -> int:
    """Multiply-accumulate count ×2 of one forward pass at batch 1 (matmuls and convs; norms ignored)."""
    d, n = cfg.width, cfg.num_tokens
    hidden = int(d * cfg.mlp_ratio)
    per_block = n * (3 * d * d + d * d + 2 * d * hidden) + 2 * n * n * d
    half = cfg.depth // 2
    skip = half * n * 2 * d * d
    pt, ph, pw = cfg.patch
    patch_dim = pt * ph * pw * cfg.channels
    fh, fw = cfg.frame_shape()
    voxels = cfg.frames * fh * fw
    in_dim = pt * ph * pw * (cfg.channels + (LAYOUT_CHANNELS if cfg.layout else 0))
    embed = cfg.num_patches * in_dim * d + cfg.text_len * cfg.text_width * d + d * 4 * d * 2
    head = cfg.num_patches * d * patch_dim
    conv = voxels * cfg.channels * cfg.channels * 27 * (2 if cfg.input_skip else 1)
    modulation = (2 * half + 1) * d * 4 * d if cfg.adaln else 0
    macs = (2 * half + 1) * per_block + skip + embed + head + conv + modulation
    return 2 * macs
