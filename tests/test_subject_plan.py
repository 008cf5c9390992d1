"""Subject plans: the annotated track matches the renderer, the maps draw it, the model plans it."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from model_runtime import toyworld as tw
from model_runtime.model import VideoDiffusionModel
from model_runtime.subject_plan import CHANNELS, PLAN_DIM, plan_error, plan_maps
from model_runtime.text import PAD, Tokenizer
from model_runtime.uvit import UViTConfig

# the tests' tiny model (configs/tiny_test.json) with the layout input
TINY = {**json.loads((Path(__file__).resolve().parent.parent / "configs" / "tiny_test.json").read_text())["model"],
        "layout": True}


def test_annotated_box_covers_the_rendered_subject_tightly():
    rng = np.random.default_rng(0)
    for _ in range(24):
        scene = tw.sample_scene(rng, "train")
        seed = int(rng.integers(2**30))
        lay = tw.subject_track(scene, seed)
        assert lay.shape == (16, PLAN_DIM) and (lay[:, 5] > 0).all()
        clip = tw.render(scene, seed).astype(int)
        empty = tw.empty_frames(scene.background, scene.camera, seed).astype(int)
        subject = np.abs(clip - empty).max(axis=-1) > 20  # T×H×W: where the subject changed the frame
        box = plan_maps(torch.from_numpy(lay)[None], 32)[0, 3].numpy()
        assert (box[subject] > 0).mean() >= 0.95, scene
        assert subject.sum() >= 0.4 * (box > 0.5).sum(), scene  # the box is not much bigger than the subject


def test_maps_draw_the_camera_and_nothing_for_no_layout():
    pan = tw.subject_track(tw.Scene(0, 0, 7, 1, 0, 2), seed=1)  # camera pans right: the world slides left
    zoom = tw.subject_track(tw.Scene(0, 0, 7, 1, 0, 5), seed=1)  # zooms in
    maps = plan_maps(torch.from_numpy(np.stack([pan, zoom, np.zeros_like(pan)])), 32)
    assert maps.shape == (3, CHANNELS, 16, 32, 32)
    assert bool((maps[:2, 0] == 1).all()) and bool((maps[2] == 0).all())
    wx = maps[0, 1]
    # world x (2 per frame width) of every pixel grows by 2 * 0.5 H from the first frame to the last
    torch.testing.assert_close(wx[-1] - wx[0], torch.full((32, 32), 1.0), atol=1e-5, rtol=0)
    span = lambda f: float(maps[1, 1, f, 0, -1] - maps[1, 1, f, 0, 0])  # noqa: E731
    assert span(0) / span(15) == pytest.approx(1.6, rel=1e-4)


def test_model_plans_from_the_prompt_and_an_empty_prompt_has_no_layout():
    torch.manual_seed(0)
    cfg = UViTConfig(**TINY)
    model = VideoDiffusionModel(cfg).eval()
    f, n = cfg.frames, cfg.size
    tok = Tokenizer(cfg.text_len)
    ids = torch.tensor([tok.pad(tok.tokenize("a red ball moving left, camera pans right").ids), [PAD] * cfg.text_len])
    x, t = torch.randn(2, 3, f, n, n), torch.tensor([999.0, 999.0])
    with torch.no_grad():
        ctx = model.text(ids)
        planned = model.planner(ids)
        assert planned.shape == (2, f, PLAN_DIM) and bool((planned[:, :, 5:] > 0).all())
        want = torch.stack([plan_maps(planned[:1], n)[0], torch.zeros(CHANNELS, f, n, n)])
        torch.testing.assert_close(model(x, t, ids), model.uvit(x, t, ctx, want))
        # given a layout (training's annotation), the model follows it and scores the planner against it
        pred, err = model(x, t, ids, planned)
        torch.testing.assert_close(pred[:1], model.uvit(x, t, ctx, want)[:1])
        assert float(err) == 0.0
        pred, err = model(x, t, ids, planned + 0.5)
        assert float(err) == pytest.approx(0.25, rel=1e-5)


def test_plan_error_ignores_rows_without_a_layout():
    lay = torch.rand(2, 4, PLAN_DIM) + 0.1
    none = torch.zeros(1, 4, PLAN_DIM)
    mixed = torch.cat([lay[:1], none])
    assert float(plan_error(torch.cat([lay[:1] + 1.0, lay[:1] + 5.0]), mixed)) == pytest.approx(1.0)
    assert float(plan_error(torch.cat([lay[:1], lay[:1] + 3.0]), mixed)) == 0.0
    assert float(plan_error(lay, torch.zeros_like(lay))) == 0.0


def test_a_long_take_spreads_one_clips_plan_over_all_its_frames():
    from model_runtime.subject_plan import spread_plan

    plan = torch.from_numpy(np.stack([tw.subject_track(tw.Scene(0, 0, 0, 1, 2, 1), 3)]))  # moving right, pan left
    assert torch.equal(spread_plan(plan, 16), plan)
    take = spread_plan(plan, 48)
    assert take.shape == (1, 48, 7)
    assert torch.allclose(take[:, 0], plan[:, 0]) and torch.allclose(take[:, -1], plan[:, -1], atol=1e-6)
    steps = take[0, 1:, 3] - take[0, :-1, 3]  # the subject moves at a third of the speed, steadily
    assert torch.allclose(steps, steps.mean().expand_as(steps), atol=1e-5)


def test_chain_parts_open_where_the_part_before_left_off():
    """The known frames that open a part are planned where the previous part had them: the same
    frame content (subject offset from the camera and its size, in frame units) after re-centring."""
    from model_runtime.subject_plan import PlanWindow, plan_window

    def take_window(layout, first, length):
        return plan_window(layout, PlanWindow(first, length))

    plan = torch.from_numpy(np.stack([tw.subject_track(tw.Scene(0, 0, 0, 1, 3, 5), 3)]))  # moving up, zoom in
    k, total = 4, 40
    a, b = take_window(plan, 0, total), take_window(plan, 12, total)

    def seen(lay):  # what a frame shows: subject centre from the camera centre, and size, × zoom
        z = lay[..., 2].exp()
        return torch.stack([(lay[..., 3] - lay[..., 0]) * z, (lay[..., 4] - lay[..., 1]) * z, lay[..., 5] * z], -1)

    assert torch.allclose(seen(a)[:, 16 - k:], seen(b)[:, :k], atol=1e-5)
    assert torch.equal(take_window(plan, 0, 16), plan)  # a one-clip take is its plan
    assert abs(float(b[0, :, 0].mean())) < 1e-6 and abs(float(b[0, :, 2].mean())) < 1e-6  # re-centred
    empty = torch.zeros(1, 16, 7)
    assert torch.equal(take_window(empty, 12, total), empty)  # no layout stays none


def test_a_continued_shot_plans_its_subject_where_the_frame_it_opens_on_has_it():
    from model_runtime.subject_plan import PlanWindow, plan_window

    plan = torch.from_numpy(np.stack([tw.subject_track(tw.Scene(7, 0, 2, 1, 0, 5), 3)]))  # a still lantern, zoom in
    u, v, h = 0.3, -0.2, 0.2  # the image shows it up right and small
    out = plan_window(plan, PlanWindow(anchor=(u, v, h)))
    z = out[0, :, 2].exp()
    assert torch.allclose((out[0, 0, 3] - out[0, 0, 0]) * z[0], torch.tensor(u), atol=1e-5)
    assert torch.allclose((out[0, 0, 4] - out[0, 0, 1]) * z[0], torch.tensor(v), atol=1e-5)
    assert torch.allclose(out[0, 0, 5] * z[0], torch.tensor(h), atol=1e-5)
    assert torch.allclose(out[0, -1, 5], plan[0, -1, 5])  # eases to the planned size by the end
    assert torch.equal(out[..., :3], plan[..., :3])  # the camera is the plan's
    assert torch.equal(plan_window(torch.zeros(1, 16, 7), PlanWindow(anchor=(u, v, h))), torch.zeros(1, 16, 7))
