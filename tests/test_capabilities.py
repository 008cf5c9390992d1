"""A model's Capabilities (contract.capabilities): the frame and size rules, the request checks, and
the studio asking an open model for what it can make (legal frame counts, its own sizes, one part)."""

from __future__ import annotations

import pytest
from engine_helpers import StubClient, ready_message

from contract.capabilities import Capabilities
from contract.request import GenerationRequest, RequestError
from studio.engine.estimates import planned_steps
from studio.engine.generation import GenerationService
from studio.engine.queue import JobQueue
from studio.errors import StudioError
from studio.project.schema import GenParams, Mode, ProjectData, ProjectSettings, Shot, at_fps

WAN = Capabilities(family="wan", modes=("t2v",), fps=16.0, frames=81, frame_step=4, frame_offset=1, min_frames=5,
                   max_frames=161, size_multiple=16, min_side=128, max_side=1280, default_size=(480, 832),
                   steps=(1, 100, 30), guidance=(1.0, 20.0, 5.0))
LTX = Capabilities(family="ltx", modes=("t2v", "i2v"), fps=24.0, frames=121, frame_step=8, frame_offset=1,
                   min_frames=9, max_frames=257, size_multiple=32, default_size=(512, 768))


@pytest.mark.parametrize(("caps", "asked", "legal"), [(WAN, 1, 5), (WAN, 32, 33), (WAN, 81, 81), (WAN, 500, 161),
                                                      (LTX, 48, 49), (LTX, 121, 121)])
def test_legal_frame_counts(caps, asked, legal):
    assert caps.legal_frames(asked) == legal and caps.frames_ok(legal)


def test_sizes_keep_the_multiple_and_the_aspect():
    h, w = WAN.size_for("16:9")
    assert w == 832 and h % 16 == 0 and abs(w / h - 16 / 9) < 0.05
    h, w = WAN.size_for("9:16")
    assert h == 832 and w % 16 == 0
    assert LTX.size_for(width=1000, height=500) == (512, 992)
    assert Capabilities.from_dict(WAN.to_dict()) == WAN


@pytest.mark.parametrize(("change", "words"), [
    ({"mode": "i2v", "image": "x.png"}, "cannot do image-to-video"),
    ({"frames": 32}, "ask 33, not 32"),
    ({"width": 840, "height": 480}, "no 840×480 frames"),
    ({"steps": 200}, "takes 1 to 100 steps"),
    ({"guidance": 0.5}, "guidance from 1 to 20"),
])
def test_a_request_beyond_the_model_is_refused(change, words):
    req = GenerationRequest(prompt="a boat", **{"frames": 33, **change})
    with pytest.raises(RequestError) as e:
        req.validate_for(WAN)
    assert words in e.value.message
    GenerationRequest(prompt="a boat", frames=33, width=832, height=480).validate_for(WAN)


def test_the_studio_asks_an_open_model_for_what_it_can_make(tmp_path):
    shot = Shot(params=GenParams(prompt="a red boat", duration=at_fps(2.0), steps=30, guidance=5.0))
    project = ProjectData(settings=ProjectSettings(width=1920, height=1080), shots=[shot])

    class Host:
        data, path = project, tmp_path

        def add_take(self, shot_id, take):
            return True

    client = StubClient()
    queue = JobQueue(client, tmp_path / "media", tmp_path)
    service = GenerationService(queue, Host())
    client.ready(fps=16.0, frames=81, capabilities=WAN.to_dict())
    job = service.enqueue(shot.id, shot.params)
    req = client.submitted[-1].request
    assert job.state.value == "running"
    assert req["frames"] == 33 and (req["height"], req["width"]) == WAN.size_for("16:9")  # 2 s at 16 fps → 4k+1
    assert planned_steps(shot.params, client.info) == [30]  # one run, no chain
    i2v = Shot(params=GenParams(prompt="x", mode=Mode.IMAGE_TO_VIDEO, reference_image="media/a.png"))
    project.shots.append(i2v)
    (tmp_path / "media").mkdir(exist_ok=True)
    (tmp_path / "media" / "a.png").write_bytes(b"")
    with pytest.raises(StudioError, match="cannot do image-to-video"):
        service.enqueue(i2v.id, i2v.params)


def test_the_bundled_model_still_chains(tmp_path):
    ready = ready_message()
    p = GenParams(prompt="x", duration=at_fps(4.0), steps=20)
    assert planned_steps(p, ready) == [20, 20, 20]  # 32 frames at 8 fps: 16 + 12 + 12 → three parts
