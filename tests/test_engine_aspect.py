"""The film's aspect reaches the model: a project asks a model of several aspects for the one nearest
its raster (so a 16:9 film is filled, not pillarboxed), and a model of one size is asked for none."""

import pytest

from contract.aspects import nearest_aspect
from studio.engine.params import request_from_params, validate_request
from studio.engine.takes import shot_request
from studio.errors import StudioError
from studio.project.schema import GenParams, ProjectData, ProjectSettings, Shot

ALL = {"16:9": [144, 256], "9:16": [256, 144], "1:1": [192, 192]}


@pytest.mark.parametrize("w,h,want", [(1920, 1080, "16:9"), (1280, 720, "16:9"), (1080, 1920, "9:16"),
                                      (1080, 1080, "1:1"), (1440, 1080, "1:1"), (2560, 1080, "16:9")])
def test_nearest_aspect(w, h, want):
    assert nearest_aspect(w, h, ALL) == want


def test_no_choice_means_no_aspect():
    assert nearest_aspect(1920, 1080, {}) is None and nearest_aspect(1920, 1080, None) is None
    assert nearest_aspect(1920, 1080, ["1:1"]) == "1:1"
    assert "aspect" not in request_from_params(GenParams(prompt="x"), None, 8.0)


@pytest.mark.parametrize("w,h,aspects,want", [(1920, 1080, ALL, "16:9"), (1080, 1920, ALL, "9:16"),
                                              (1920, 1080, {}, None)])
def test_shot_request_asks_for_the_projects_aspect(tmp_path, w, h, aspects, want):
    shot = Shot(params=GenParams(prompt="a red ball"))
    project = ProjectData(title="t", shots=[shot], settings=ProjectSettings(width=w, height=h))
    req = shot_request(project, tmp_path, shot.id, shot.params, 8.0, aspects)
    assert req.get("aspect") == want
    validate_request(req, 16, list(aspects) or None)


def test_an_aspect_the_model_does_not_make_is_refused():
    with pytest.raises(StudioError, match="no '4:3' frames"):
        validate_request({"prompt": "x", "aspect": "4:3"})
    with pytest.raises(StudioError, match="no '9:16' frames"):
        validate_request({"prompt": "x", "aspect": "9:16"}, 16, ["16:9"])


def test_a_worker_with_a_latent_model_reports_and_makes_every_aspect(tmp_path):
    """End to end through a real worker: the ready message lists the native size of each aspect, and
    a job that asks for 9:16 gets portrait frames at that size."""
    import asyncio
    import json

    import numpy as np
    from engine_helpers import Recorder, run, tiny_options

    from studio.engine.client import EngineClient
    from tests.conftest import ROOT

    cfg = json.loads((ROOT / "configs" / "toy_latent.json").read_text())["model"]
    cfg.update(frames=8, width=32, depth=1, heads=2, text_width=16, text_layers=1)
    loop = asyncio.new_event_loop()
    client = EngineClient(tiny_options(config=cfg))
    rec = Recorder(client)
    try:
        info = run(loop, client.start())
        assert info.aspects == ALL and (info.height, info.width) == (144, 256)
        client.submit("portrait", {"prompt": "a red ball", "steps": 1, "aspect": "9:16"}, tmp_path, "p")
        _, done, _ = run(loop, rec.wait_for("on_done", "portrait"))
        assert np.load(done.files["frames"]).shape == (8, 256, 144, 3)
    finally:
        run(loop, client.stop())
        loop.close()
