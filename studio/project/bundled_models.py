"""The model checkpoints shipped in assets/models, for the settings' model picker. Reads only their
JSON configs (the studio never loads torch): a name and what the model makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[2] / "assets" / "models"
DEFAULT_NAME = "vstudio-toy"  # what an empty checkpoint setting means (model_runtime.checkpoint)
MODEL_FORMAT = "vstudio-uvit-1"


@dataclass(frozen=True)
class BundledModel:
    name: str
    path: str  # absolute path of the .safetensors
    label: str  # e.g. "vstudio-toy-v2 — latent, 16:9 · 9:16 · 1:1"


def bundled_models(folder: Path = MODELS_DIR) -> list[BundledModel]:
    """Every diffusion checkpoint in `folder` whose weights and config are both there, the default first."""
    out = []
    for cfg_path in sorted(folder.glob("*.json")):
        weights = cfg_path.with_suffix(".safetensors")
        try:
            doc = json.loads(cfg_path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT or not weights.is_file():
            continue
        cfg = doc.get("config") if isinstance(doc.get("config"), dict) else {}
        aspects = cfg.get("aspects") if isinstance(cfg.get("aspects"), dict) else {}
        if aspects:
            what = "latent, " + " · ".join(str(a) for a in aspects)
        else:
            what = f"{cfg.get('size', '?')}×{cfg.get('size', '?')} px"
        out.append(BundledModel(cfg_path.stem, str(weights), f"{cfg_path.stem} — {what}"))
    out.sort(key=lambda m: (m.name != DEFAULT_NAME, m.name))
    return out
