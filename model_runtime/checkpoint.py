"""Checkpoints: safetensors weights + a JSON config beside them + the weights' content hash.

Loading never unpickles. Every way a checkpoint can be wrong (missing, truncated, not safetensors,
hash or shape mismatch) is a CheckpointError with one line naming the file and the fault.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from contract.files import atomic_path
from model_runtime.errors import CheckpointError
from model_runtime.model import VideoDiffusionModel
from model_runtime.uvit import UViTConfig

FORMAT = "vstudio-uvit-1"
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"
DEFAULT_NAME = "vstudio-toy"


def default_checkpoint() -> Path:
    return ASSETS / f"{DEFAULT_NAME}.safetensors"


def paths_for(path: str | os.PathLike) -> tuple[Path, Path]:
    """Accepts the .safetensors, the .json or the stem; returns (weights, config)."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def autoencoder_path(model_path: str | os.PathLike, name: str) -> Path:
    """A latent model's autoencoder: NAME.safetensors beside the model's own weights. A name is a
    plain file stem (no folders), so a config cannot point anywhere else on disk."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise CheckpointError(f"{model_path}: bad autoencoder name {name!r} (a file stem beside the model)")
    return paths_for(model_path)[0].parent / f"{name}.safetensors"


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, write) -> None:
    """`write(temp_path)` then swap it in atomically (contract.files.atomic_path; kept for callers
    that pass a writer function)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        write(str(tmp))


def save(model: VideoDiffusionModel, path: str | os.PathLike, meta: dict | None = None, half: bool = False) -> str:
    """Writes weights then config (atomically, each); returns the content hash."""
    weights, config = paths_for(path)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    atomic_write_bytes(weights, lambda tmp: save_file(state, tmp, metadata={"format": FORMAT}))
    digest = file_hash(weights)
    doc = {"format": FORMAT, "config": model.cfg.to_dict(), "sha256": digest, "dtype": str(dtype).removeprefix("torch."),
           "meta": meta or {}}
    atomic_write_bytes(config, lambda tmp: Path(tmp).write_text(json.dumps(doc, indent=2)))
    return digest


def read_doc(config: Path, fmt: str, parse):
    """A checkpoint's JSON beside its weights -> (parse(doc["config"]), doc). Every fault (missing,
    not JSON, another format, a config `parse` rejects) is a CheckpointError naming the file."""
    if not config.exists():
        raise CheckpointError(f"{config}: config file is missing (a checkpoint is NAME.safetensors + NAME.json)")
    try:
        doc = json.loads(config.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{config}: config is not valid JSON ({e.msg if hasattr(e, 'msg') else e})") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise CheckpointError(f"{config}: not a {fmt} checkpoint config")
    try:
        return parse(doc["config"]), doc
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{config}: bad {'autoencoder' if 'autoencoder' in fmt else 'model'} config ({e})") from None


def read_config(path: str | os.PathLike) -> tuple[UViTConfig, dict]:
    return read_doc(paths_for(path)[1], FORMAT, UViTConfig.from_dict)


def load_weights(module: torch.nn.Module, weights: Path, doc: dict) -> str:
    """Fills `module` from a safetensors file, after checking it against its config's hash and its
    tensors against the module's names and shapes; returns the file's hash. Every fault is a
    CheckpointError naming the file."""
    digest = file_hash(weights)
    if doc.get("sha256") and doc["sha256"] != digest:
        raise CheckpointError(f"{weights}: content hash does not match its config (truncated or replaced file)")
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({str(e).splitlines()[0][:120]})") from None
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        what = f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
        raise CheckpointError(f"{weights}: weights do not match the config ({what}, {len(missing)} missing, {len(extra)} extra)")
    for k, v in expected.items():
        if state[k].shape != v.shape:
            raise CheckpointError(f"{weights}: weights do not match the config ({k} is {tuple(state[k].shape)}, "
                                  f"expected {tuple(v.shape)})")
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    return digest


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[VideoDiffusionModel, dict]:
    """Returns (model in eval mode, info with model_id, checkpoint_hash, meta)."""
    weights, config = paths_for(path)
    if not weights.exists():
        raise CheckpointError(f"{weights}: checkpoint weights not found")
    cfg, doc = read_config(path)
    model = VideoDiffusionModel(cfg)
    digest = load_weights(model, weights, doc)
    model.to(device).eval()
    info = {"model_id": weights.stem, "checkpoint_hash": digest, "meta": doc.get("meta", {}), "path": str(weights)}
    return model, info
