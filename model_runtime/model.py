"""The denoiser as one module: text encoder + video U-ViT, called as model(x_t, t, token_ids)."""

from __future__ import annotations

import torch
from torch import nn

from model_runtime.subject_plan import Planner, PlanWindow, plan_error, plan_maps, plan_window
from model_runtime.text import PAD, VOCAB_SIZE, SmallTextEncoder
from model_runtime.uvit import UViT, UViTConfig, count_parameters, forward_flops


class VideoDiffusionModel(nn.Module):
    def __init__(self, cfg: UViTConfig):
        super().__init__()
        if cfg.vocab_size < VOCAB_SIZE:
            raise ValueError(f"vocab_size {cfg.vocab_size} is smaller than the tokenizer's {VOCAB_SIZE}")
        self.cfg = cfg
        self.text = SmallTextEncoder(cfg.vocab_size, cfg.text_width, cfg.text_layers)
        self.uvit = UViT(cfg)
        self.planner = Planner(cfg.vocab_size, cfg.frames) if cfg.layout else None

    def forward(self, x: torch.Tensor, t: torch.Tensor, ids: torch.Tensor, track: torch.Tensor | None = None,
                window: PlanWindow | None = None):
        """Predicts the network's target. With a layout config: `track` (B×T×7, training's annotated
        toyworld.subject_track) replaces the planner's plan and the call returns (prediction, planner
        error); without, the planner's plan is used (for a part of a long take or a continued shot, its
        `window`: subject_plan.plan_window), except for an empty prompt, which has none."""
        ctx = self.text(ids)
        if self.planner is None:
            if track is not None:
                raise ValueError("this model has no layout input")
            return self.uvit(x, t, ctx)
        h, w = x.shape[-2:]
        if track is None:
            return self.uvit(x, t, ctx, plan_maps(self.plan(ids, window), h, w))
        return self.uvit(x, t, ctx, plan_maps(track, h, w)), plan_error(self.planner(ids), track)

    def plan(self, ids: torch.Tensor, window: PlanWindow | None = None) -> torch.Tensor:
        """The planner's per-frame plan (B×T×7); for a `window` of a take, the plan of those frames
        (subject_plan.plan_window). All zeros (no plan) for an empty prompt."""
        planned = self.planner(ids)
        empty = (ids == PAD).all(dim=1)[:, None, None]
        planned = torch.where(empty, torch.zeros_like(planned), planned)
        return planned if window is None else plan_window(planned, window)

    def describe(self) -> dict:
        return {
            "parameters": count_parameters(self),
            "flops_per_forward": forward_flops(self.cfg),
            "tokens": self.cfg.num_tokens,
        }
