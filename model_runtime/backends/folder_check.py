"""Check a diffusers model folder before the backend loads it: contract.model_folder's one check (the
studio runs the same when a folder is added), then that this backend can drive its pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contract.model_folder import ModelFolderError, inspect_model_folder
from model_runtime.backends import diffusers_families as families
from model_runtime.errors import RuntimeUserError


def check_folder(path: str | Path) -> dict[str, Any]:
    """Raise RuntimeUserError(kind="model_folder", one line) for a folder the backend must not load;
    return its model_index.json."""
    try:
        info = inspect_model_folder(path)
    except ModelFolderError as e:
        raise RuntimeUserError(e.kind, e.message) from None
    if families.resolve(info.pipeline) is None:
        raise RuntimeUserError("model_folder", f"{info.pipeline} cannot be driven by this diffusers version "
                                               f"(its __call__ lacks {', '.join(families.GENERIC_ARGS[:5])}, ...)")
    return info.index
