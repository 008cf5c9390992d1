"""Settings → Models: an open model folder is checked when added (one line when bad), listed beside
the bundled models, picked per project (saved with it), and the engine follows the project's model."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from contract.protocol import WorkerReady
from studio.engine.client import EngineState
from studio.errors import StudioError
from studio.project.model_choices import add_model_folder, effective_model, model_choices
from studio.project.preferences import Preferences
from studio.project.schema import ProjectSettings


def model_folder(root, name="Wan-tiny", pipeline="WanPipeline"):
    import numpy as np
    from safetensors.numpy import save_file

    folder = root / name
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": pipeline, "vae": ["diffusers", "AutoencoderKLWan"]}))
    (folder / "vae").mkdir()
    (folder / "vae" / "config.json").write_text("{}")
    save_file({"w": np.zeros((2, 2), np.float32)}, str(folder / "vae" / "diffusion_pytorch_model.safetensors"))
    return folder


def test_a_folder_is_checked_when_added_and_listed(tmp_path):
    good = model_folder(tmp_path)
    prefs = add_model_folder(Preferences(), good)
    assert prefs.model_folders == [str(good.resolve())]
    assert add_model_folder(prefs, good) is prefs  # added once
    choices = model_choices(prefs)
    assert choices[-1].kind == "folder" and "WanPipeline" in choices[-1].label and not choices[-1].problem
    with pytest.raises(StudioError) as e:
        add_model_folder(prefs, model_folder(tmp_path, "sd", "StableDiffusionPipeline"))
    assert e.value.kind == "model_folder" and "not a video pipeline" in e.value.message
    (good / "model_index.json").unlink()  # a folder that went bad later: still listed, saying why
    assert "no model_index.json" in model_choices(prefs)[-1].problem


def test_the_project_model_wins_over_the_studio_default():
    prefs = Preferences(checkpoint="/models/default.safetensors")
    assert effective_model(ProjectSettings(), prefs) == "/models/default.safetensors"
    assert effective_model(ProjectSettings(model="/models/wan"), prefs) == "/models/wan"


def test_the_dialog_adds_a_folder_and_picks_it_for_the_project(qtbot, tmp_path, monkeypatch):
    from studio.ui import preferences_dialog as pd

    good = model_folder(tmp_path)
    changes = {}

    def set_project_settings(**kw):
        changes.update(kw)
        doc.settings = doc.settings.model_copy(update=kw)

    doc = SimpleNamespace(title="t", settings=ProjectSettings(), set_project_settings=set_project_settings)
    monkeypatch.setattr(pd.prefs, "save_preferences", lambda p: None)
    dlg = pd.PreferencesDialog(doc, Preferences())
    qtbot.addWidget(dlg)
    monkeypatch.setattr(pd.QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "nope"))
    dlg._add_folder()
    assert not dlg.error.isHidden() and "not found" in dlg.error.text()
    monkeypatch.setattr(pd.QFileDialog, "getExistingDirectory", lambda *a, **k: str(good))
    dlg._add_folder()
    assert dlg.project_model.currentData() == str(good.resolve()) and dlg.error.isHidden()
    dlg.apply()
    assert changes["model"] == str(good.resolve()) and dlg.preferences.model_folders == [str(good.resolve())]
    assert dlg.engine_changed


class FakeClient:
    def __init__(self):
        self.options = SimpleNamespace(checkpoint=None, device="auto", savers={})
        self.state = EngineState.READY
        self.switched = []

    async def switch_model(self, checkpoint, device, savers=None):
        self.switched.append((checkpoint, device))
        self.options = SimpleNamespace(checkpoint=checkpoint, device=device, savers=dict(savers or {}))
        return WorkerReady(protocol_version=2, model_id="m", checkpoint_hash="", device=device, memory_bytes=0,
                           frames=16, width=32, height=32, fps=8.0)


def test_the_engine_follows_the_projects_model_when_idle(qtbot):
    from studio.ui.generation import GenerationController

    queue = SimpleNamespace(client=FakeClient(), running=None)
    ctl = GenerationController.__new__(GenerationController)
    ctl.queue, ctl._pending_model = queue, None
    ctl.message = SimpleNamespace(emit=lambda m: None)
    ctl.engineChanged = SimpleNamespace(emit=lambda: None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        queue.running = object()  # busy: the switch waits
        ctl.sync_model("/models/wan", "cuda")
        assert ctl._pending_model == ("/models/wan", "cuda", {}) and queue.client.switched == []
        queue.running = None
        ctl._engine_state(EngineState.READY)  # idle again: it switches now
        loop.run_until_complete(asyncio.sleep(0.01))
        assert queue.client.switched == [("/models/wan", "cuda")] and ctl._pending_model is None
        ctl.sync_model("/models/wan", "cuda")  # already there: nothing to do
        loop.run_until_complete(asyncio.sleep(0.01))
        assert len(queue.client.switched) == 1
        ctl.sync_model("/models/wan", "cuda", {"offload": True, "vae_tiling": False})  # new savers: reload
        loop.run_until_complete(asyncio.sleep(0.01))
        assert len(queue.client.switched) == 2 and queue.client.options.savers["offload"]
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_the_inspector_offers_only_what_the_model_can_do(qtbot):
    from contract.capabilities import Capabilities
    from studio.project.document import ProjectDocument
    from studio.project.storyboard import load_storyboard
    from studio.ui.inspector import Inspector
    from tests.project_helpers import SAMPLE_JSON

    doc = ProjectDocument(load_storyboard(SAMPLE_JSON))
    ins = Inspector(doc)
    qtbot.addWidget(ins)
    doc.set_current_shot(doc.shot_at(0).id)
    steps_before = doc.shot_at(0).params.steps
    wan = Capabilities(family="wan", modes=("t2v",), fps=16.0, frames=81, frame_step=4, frame_offset=1,
                       steps=(1, 10, 5), guidance=(1.0, 20.0, 5.0))
    ins.set_capabilities(wan)
    enabled = {str(ins.mode.itemData(i)): ins.mode.model().item(i).isEnabled() for i in range(ins.mode.count())}
    assert enabled == {"t2v": True, "i2v": False, "extend": False, "v2v": False}
    assert not ins.sampler.isEnabled() and ins.steps.maximum() == 10 and ins.guidance.minimum() == 1.0
    assert doc.shot_at(0).params.steps == steps_before  # narrowing the range edited nothing
    doc.set_params(doc.shot_at(0).id, prompt="a heron lands on a misty river")
    assert ins.unknown.text() == ""  # an open model reads any words: no toy-vocabulary warning
    ins.set_capabilities(None)  # no model known: everything again
    assert "does not know" in ins.unknown.text()
    assert all(ins.mode.model().item(i).isEnabled() for i in range(ins.mode.count())) and ins.sampler.isEnabled()
