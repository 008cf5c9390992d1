"""The demo project (no Qt): the seven-shot lantern festival storyboard, ready to Generate.

Made once in the user's data folder (`platformdirs.user_data_dir("vstudio")`, or
`$VSTUDIO_DATA_DIR`) so that a first `make run` opens a studio with shots in it.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from studio.errors import StudioError
from studio.project import store
from studio.project.preferences import Preferences, load_preferences
from studio.project.storyboard import load_storyboard

DATA_ENV = "VSTUDIO_DATA_DIR"
DEMO_STORYBOARD = Path(__file__).resolve().parents[2] / "assets" / "storyboards" / "lantern_festival.json"
DEMO_NAME = "Lantern festival.vstudio"


def data_dir() -> Path:
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir("vstudio"))


def demo_project_path() -> Path:
    return data_dir() / "projects" / DEMO_NAME


def ensure_demo_project(settings: Preferences | None = None) -> Path:
    """The demo project's folder, created from the bundled storyboard if it is not there yet.
    An existing demo is never overwritten (the user may have worked in it)."""
    folder = demo_project_path()
    if (folder / store.PROJECT_FILE).exists():
        return folder
    if not DEMO_STORYBOARD.is_file():
        raise StudioError("demo", f"the demo storyboard is missing: {DEMO_STORYBOARD}")
    s = settings if settings is not None else load_preferences()
    data = load_storyboard(DEMO_STORYBOARD, s.gen_defaults())
    return store.new_project(folder, data)
