"""The settings' model picker: the checkpoints shipped in assets/models, read from their configs alone."""

import json
from types import SimpleNamespace

from studio.project.bundled_models import DEFAULT_NAME, bundled_models
from studio.project.preferences import Preferences
from studio.project.schema import ProjectSettings


def _model(folder, name, config, weights=True, fmt="vstudio-uvit-1"):
    (folder / f"{name}.json").write_text(json.dumps({"format": fmt, "config": config}))
    if weights:
        (folder / f"{name}.safetensors").write_bytes(b"x")


def test_lists_models_with_what_they_make_default_first(tmp_path):
    _model(tmp_path, "zz-latent", {"aspects": {"16:9": [18, 32], "9:16": [32, 18]}, "autoencoder": "ae"})
    _model(tmp_path, DEFAULT_NAME, {"size": 32})
    _model(tmp_path, "no-weights", {"size": 32}, weights=False)
    _model(tmp_path, "ae", {"latent_channels": 8}, fmt="vstudio-autoencoder-1")  # not a diffusion model
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "broken.safetensors").write_bytes(b"x")
    models = bundled_models(tmp_path)
    assert [m.name for m in models] == [DEFAULT_NAME, "zz-latent"]
    assert models[0].label.endswith("32×32 px") and "16:9 · 9:16" in models[1].label
    assert models[1].path == str(tmp_path / "zz-latent.safetensors")


def test_the_settings_picker_fills_the_model_path(qtbot):
    from studio.ui.preferences_dialog import PreferencesDialog

    doc = SimpleNamespace(title="t", settings=ProjectSettings())
    dlg = PreferencesDialog(doc, Preferences(checkpoint="/some/custom.safetensors"))
    qtbot.addWidget(dlg)
    labels = [dlg.bundled.itemText(i) for i in range(dlg.bundled.count())]
    assert labels[0] == "Bundled models…" and any(DEFAULT_NAME in t for t in labels[1:])
    dlg._pick_bundled(1)  # the default is the empty setting
    assert dlg.checkpoint.text() == "" and dlg.bundled.currentIndex() == 0
