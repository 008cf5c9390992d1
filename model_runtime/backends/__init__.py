"""Model backends: the bundled U-ViT (model_runtime.pipeline.Generator) and open video models loaded
from a local diffusers folder (model_runtime.backends.diffusers_video.DiffusersGenerator). Both take
a contract.request.GenerationRequest and report their contract.capabilities.Capabilities in
`info["capabilities"]`; the worker and the CLIs pick one by what the model path is."""

from __future__ import annotations

from pathlib import Path

UVIT = "model_runtime.pipeline:Generator"
DIFFUSERS = "model_runtime.backends.diffusers_video:DiffusersGenerator"


def generator_spec(path: str | None) -> str:
    """"module:Class" of the backend for a model path: a folder (a diffusers model, with its
    model_index.json) or anything else (a U-ViT .safetensors checkpoint; None: the bundled model)."""
    if path is not None and Path(path).is_dir():
        return DIFFUSERS
    return UVIT
