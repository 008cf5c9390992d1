"""The user's preferences (config folder from $VSTUDIO_CONFIG_DIR) and the demo project."""

from __future__ import annotations

import json

import pytest

from studio.project import demo, preferences, store
from studio.project.schema import TransitionKind


@pytest.fixture(autouse=True)
def dirs(tmp_path, monkeypatch):
    monkeypatch.setenv(preferences.CONFIG_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(demo.DATA_ENV, str(tmp_path / "data"))
    return tmp_path


def test_defaults_when_there_is_no_file(dirs):
    s, err = preferences.load_preferences_checked()
    assert err is None and s == preferences.Preferences()
    assert preferences.preferences_path() == dirs / "config" / "settings.json"


def test_round_trip(dirs):
    s = preferences.Preferences(checkpoint="assets/models/toy.safetensors", device="cuda:0", default_steps=30,
                                default_guidance=4.0, default_sampler="ddim", fps=30, width=640, height=360)
    preferences.save_preferences(s)
    assert preferences.load_preferences() == s
    assert s.gen_defaults().steps == 30 and s.gen_defaults().sampler == "ddim"
    assert (s.project_settings().fps, s.project_settings().width) == (30, 640)


def test_an_existing_settings_file_still_loads(dirs):
    # Users' preferences were saved as config/settings.json before the module was called preferences.
    (dirs / "config").mkdir()
    (dirs / "config" / "settings.json").write_text(json.dumps(
        {"checkpoint": "mine.safetensors", "default_steps": 7, "recent_projects": ["/x/a.vstudio"]}))
    s, err = preferences.load_preferences_checked()
    assert err is None and (s.checkpoint, s.default_steps, s.recent_projects) == ("mine.safetensors", 7, ["/x/a.vstudio"])


def test_damaged_file_falls_back_field_by_field(dirs):
    path = preferences.preferences_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"default_steps": 0, "device": "tpu", "fps": 12, "from_the_future": 1}))
    s, err = preferences.load_preferences_checked()
    assert s.fps == 12 and s.default_steps == 20 and s.device == "auto"
    assert err is not None and "default_steps" in err.message and "device" in err.message
    path.write_text("{ not json")
    s, err = preferences.load_preferences_checked()
    assert s == preferences.Preferences() and err.kind == "settings"


def test_recent_projects(dirs):
    for i in range(12):
        (dirs / f"p{i}.vstudio").mkdir()
        (dirs / f"p{i}.vstudio" / "project.json").write_text("{}")
        preferences.add_recent_project(dirs / f"p{i}.vstudio")
    preferences.add_recent_project(dirs / "p5.vstudio")  # opened again: moves to the front, no duplicate
    recent = preferences.recent_projects()
    assert len(recent) == preferences.MAX_RECENT
    assert recent[0].name == "p5.vstudio" and recent[1].name == "p11.vstudio"
    assert len({str(p) for p in recent}) == len(recent)
    (dirs / "p11.vstudio" / "project.json").unlink()  # gone from disk: not offered
    assert "p11.vstudio" not in [p.name for p in preferences.recent_projects()]
    preferences.remove_recent_project(dirs / "p5.vstudio")
    assert "p5.vstudio" not in [p.name for p in preferences.recent_projects(existing_only=False)]


def test_demo_project_is_made_once(dirs):
    s = preferences.Preferences(default_steps=12)
    folder = demo.ensure_demo_project(s)
    assert folder.parent.parent == dirs / "data" and folder.name.endswith(".vstudio")
    data = store.open_project(folder)
    assert data.title == "Lantern festival" and len(data.shots) == 7
    assert all(shot.params.steps == 12 and shot.params.prompt for shot in data.shots)
    assert data.shots[3].transition.kind == TransitionKind.FADE_BLACK
    # the user's work in it is never overwritten
    data.title = "my edits"
    store.save_project(folder, data)
    assert demo.ensure_demo_project() == folder
    assert store.open_project(folder).title == "my edits"


def test_bundled_storyboard_matches_the_shared_sample():
    from project_helpers import SAMPLE_JSON

    assert demo.DEMO_STORYBOARD.read_bytes() == SAMPLE_JSON.read_bytes()


def test_the_last_export_folder_and_names(dirs):
    project, other = dirs / "a.vstudio", dirs / "b.vstudio"
    assert preferences.export_target(project, "A") == dirs / "A"  # nothing remembered: beside the project
    (dirs / "out").mkdir()
    preferences.remember_export(dirs / "out" / "cut.mp4", project)
    preferences.remember_export(dirs / "out" / "frames", other)  # a PNG sequence is a folder
    s = preferences.load_preferences()
    assert s.last_export_dir == str(dirs / "out")
    assert preferences.export_target(project, "A", s) == dirs / "out" / "cut"
    assert preferences.export_target(other, "B", s) == dirs / "out" / "frames"
    assert preferences.export_target(dirs / "c.vstudio", "C", s) == dirs / "out" / "C"
    # a hand-edited name that is a path, or a folder that is gone, falls back
    s.last_export_names[str(project.resolve())] = "../../etc/x"
    assert preferences.export_target(project, "A", s) == dirs / "out" / "A"
    (dirs / "out").rmdir()
    assert preferences.export_target(other, "B", s) == dirs / "frames"
    for i in range(preferences.MAX_EXPORT_NAMES + 5):  # bounded, the newest kept
        preferences.remember_export(dirs / f"f{i}.mp4", dirs / f"p{i}.vstudio", s)
    assert len(s.last_export_names) == preferences.MAX_EXPORT_NAMES
    assert preferences.export_target(dirs / "p54.vstudio", "x", s) == dirs / "f54"
