"""The user's preferences (no Qt): defaults for new shots and projects, model, device, recent projects.

Not a project's own settings (`schema.ProjectSettings`: its raster and frame rate, saved with it).

Stored as JSON in `platformdirs.user_config_dir("vstudio")`, or in `$VSTUDIO_CONFIG_DIR` (tests).
A damaged preferences file must never stop the studio from starting: bad fields fall back to their
defaults, and `load_preferences_checked` says what was wrong so the UI can mention it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract.files import atomic_write
from contract.rules import DEFAULT_SAMPLER, MAX_GUIDANCE, MAX_STEPS
from studio.errors import StudioError
from studio.project.schema import SAMPLER_PATTERN, GenParams, ProjectSettings

CONFIG_ENV = "VSTUDIO_CONFIG_DIR"
PREFERENCES_FILE = "settings.json"  # the name users' existing files have
MAX_RECENT = 10
MAX_EXPORT_NAMES = 50  # projects whose last film name is remembered


class Preferences(BaseModel):
    # Unknown keys are ignored so an older build can read a newer build's preferences.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    checkpoint: str = ""  # the studio's default model; "" = the bundled default in assets/models/
    model_folders: list[str] = Field(default_factory=list)  # open models (diffusers folders) the user added
    offload: bool = False  # an open model's weights wait in RAM, each on the GPU only while it runs
    vae_tiling: bool = False  # an open model decodes its frames in tiles (less GPU memory, a little slower)
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    default_steps: int = Field(20, ge=1, le=MAX_STEPS)
    default_guidance: float = Field(3.0, ge=0, le=MAX_GUIDANCE)
    default_sampler: str = Field(DEFAULT_SAMPLER, pattern=SAMPLER_PATTERN)
    fps: float = Field(24.0, gt=0, le=240)
    width: int = Field(1280, ge=16, le=8192)
    height: int = Field(720, ge=16, le=8192)
    recent_projects: list[str] = Field(default_factory=list)
    # the export dialog starts where the last export went, under the name this project's last film had
    last_export_dir: str = ""
    last_export_names: dict[str, str] = Field(default_factory=dict)  # project folder -> film name (no extension)

    def savers(self) -> dict[str, bool]:
        """Memory savers for an open model (the diffusers backend; the bundled model ignores them)."""
        return {"offload": self.offload, "vae_tiling": self.vae_tiling}

    def gen_defaults(self) -> GenParams:
        """What a new shot starts from."""
        return GenParams(steps=self.default_steps, guidance=self.default_guidance, sampler=self.default_sampler)

    def project_settings(self) -> ProjectSettings:
        """What a new project starts with."""
        return ProjectSettings(fps=self.fps, width=self.width, height=self.height)


def config_dir() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(platformdirs.user_config_dir("vstudio"))


def preferences_path() -> Path:
    return config_dir() / PREFERENCES_FILE


def load_preferences_checked() -> tuple[Preferences, StudioError | None]:
    """Preferences and, when the file was damaged, what was wrong (the good fields are kept)."""
    path = preferences_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Preferences(), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        return Preferences(), StudioError("settings", f"{path} is unreadable ({type(e).__name__}); using defaults")
    if not isinstance(raw, dict):
        return Preferences(), StudioError("settings", f"{path} does not hold settings; using defaults")
    try:
        return Preferences.model_validate(raw), None
    except ValidationError as e:
        bad = {str(err["loc"][0]) for err in e.errors() if err.get("loc")}
        good = {k: v for k, v in raw.items() if k not in bad}
        try:
            s = Preferences.model_validate(good)
        except ValidationError:
            s = Preferences()
        return s, StudioError("settings", f"{path}: {', '.join(sorted(bad))} invalid; using the default")


def load_preferences() -> Preferences:
    return load_preferences_checked()[0]


def save_preferences(preferences: Preferences) -> None:
    path = preferences_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, preferences.model_dump_json(indent=1).encode("utf-8"))
    except OSError as e:
        raise StudioError("io", f"could not save settings to {path}: {e.strerror or e}") from None


def _key(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


def add_recent_project(path: str | Path, preferences: Preferences | None = None) -> Preferences:
    """Put a project folder first in the recent list (no duplicates, at most MAX_RECENT) and save."""
    s = preferences if preferences is not None else load_preferences()
    key = _key(path)
    s.recent_projects = [key] + [p for p in s.recent_projects if _key(p) != key][: MAX_RECENT - 1]
    save_preferences(s)
    return s


def remove_recent_project(path: str | Path, preferences: Preferences | None = None) -> Preferences:
    s = preferences if preferences is not None else load_preferences()
    key = _key(path)
    s.recent_projects = [p for p in s.recent_projects if _key(p) != key]
    save_preferences(s)
    return s


def recent_projects(preferences: Preferences | None = None, existing_only: bool = True) -> list[Path]:
    s = preferences if preferences is not None else load_preferences()
    paths = [Path(p) for p in s.recent_projects]
    return [p for p in paths if (p / "project.json").is_file()] if existing_only else paths


def export_target(project_dir: str | Path, fallback_name: str, preferences: Preferences | None = None) -> Path:
    """Where the export dialog proposes to write the film (no extension): the last export's folder
    (else beside the project) and this project's last film name (else `fallback_name`). A folder
    that is gone, or a name that is not a plain file name, falls back."""
    s = preferences if preferences is not None else load_preferences()
    folder = Path(s.last_export_dir).expanduser() if s.last_export_dir else None
    if folder is None or not folder.is_dir():
        folder = Path(project_dir).parent
    name = s.last_export_names.get(_key(project_dir), "")
    if not name or Path(name).name != name or name in (".", ".."):
        name = fallback_name
    return folder / name


def remember_export(film: str | Path, project_dir: str | Path, preferences: Preferences | None = None) -> Preferences:
    """Remember a finished film's folder and (per project) its name without the extension; save."""
    s = preferences if preferences is not None else load_preferences()
    film = Path(film).expanduser().resolve()
    key = _key(project_dir)
    names = {k: v for k, v in s.last_export_names.items() if k != key}
    names[key] = film.stem if film.suffix else film.name  # a PNG sequence is a folder
    s.last_export_names = dict(list(names.items())[-MAX_EXPORT_NAMES:])
    s.last_export_dir = str(film.parent)
    save_preferences(s)
    return s
