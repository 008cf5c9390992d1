"""The denoiser as one module: text encoder + video U-ViT, called as model(x_t, t, token_ids)."""

from __future__ import annotations

import torch
from torch import nn

from model_runtime.text import VOCAB_SIZE, SmallTextEncoder
from model_runtime.uvit import UViT, UViTConfig, count_parameters, forward_flops


class VideoDiffusionModel(nn.Module):
    def __init__(self, cfg: UViTConfig):
        super().__init__()
        if cfg.vocab_size < VOCAB_SIZE:
            raise ValueError(f"vocab_size {cfg.vocab_size} is smaller than the tokenizer's {VOCAB_SIZE}")
        self.cfg = cfg
        self.text = SmallTextEncoder(cfg.vocab_size, cfg.text_width, cfg.text_layers)
        self.uvit = UViT(cfg)

    def forward(self, x: torch.Tensor, t: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return self.uvit(x, t, self.text(ids))

    def describe(self) -> dict:
        return {
            "parameters": count_parameters(self),
            "flops_per_forward": forward_flops(self.cfg),
            "tokens": self.cfg.num_tokens,
        }
