"""The models a project can generate with (no Qt, no torch): the bundled U-ViT checkpoints in
assets/models and the open models (local diffusers folders) the user added in Settings → Models.

A folder is checked the moment it is added (contract.model_folder: index, pipeline class, components,
no pickled weights, nothing cut short) and refused with one line; one that went bad later is still
listed, with what is wrong, so a project that names it says why it cannot generate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contract.model_folder import ModelFolderError, inspect_model_folder
from studio.errors import StudioError
from studio.project.bundled_models import DEFAULT_NAME, bundled_models
from studio.project.preferences import Preferences
from studio.project.schema import ProjectSettings

MAX_FOLDERS = 50


@dataclass(frozen=True)
class ModelChoice:
    path: str  # what ProjectSettings.model / Preferences.checkpoint hold ("" = the bundled default)
    label: str
    kind: str  # "bundled" | "folder"
    problem: str = ""  # a folder that no longer checks out: why


def model_choices(preferences: Preferences) -> list[ModelChoice]:
    out = [ModelChoice("" if m.name == DEFAULT_NAME else m.path, m.label, "bundled") for m in bundled_models()]
    for folder in preferences.model_folders:
        try:
            info = inspect_model_folder(folder)
            out.append(ModelChoice(folder, info.label, "folder"))
        except ModelFolderError as e:
            out.append(ModelChoice(folder, f"{Path(folder).name} — unusable", "folder", e.message))
    return out


def add_model_folder(preferences: Preferences, folder: str | Path) -> Preferences:
    """Preferences with `folder` among the open models; StudioError (one line) for a bad folder."""
    try:
        info = inspect_model_folder(folder)
    except ModelFolderError as e:
        raise StudioError(e.kind, e.message) from None
    path = str(info.path.resolve())
    if path in preferences.model_folders:
        return preferences
    if len(preferences.model_folders) >= MAX_FOLDERS:
        raise StudioError("model_folder", f"at most {MAX_FOLDERS} model folders; remove one first")
    return preferences.model_copy(update={"model_folders": [*preferences.model_folders, path]})


def effective_model(settings: ProjectSettings, preferences: Preferences) -> str:
    """The model a project generates with: its own, else the studio's default ("" = bundled default)."""
    return settings.model or preferences.checkpoint
