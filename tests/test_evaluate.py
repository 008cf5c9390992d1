"""The evaluator: pixel-only measurements, the ground-truth ceiling, wrong labels, the CLI."""

import json
import sys
import types

import numpy as np
import pytest

from contract import vocabulary as vocab
from contract.prompt_parser import parse_prompt, scene_prompt
from model_runtime import evaluate as ev
from model_runtime import toyworld as tw


@pytest.fixture(scope="module")
def gt():
    """200 ground-truth clips at the native size, half from each split."""
    rng = np.random.default_rng(2024)
    scenes = [tw.sample_scene(rng, "heldout" if i % 2 else "train") for i in range(200)]
    clips = [tw.render(s, 1000 + i) for i, s in enumerate(scenes)]
    return scenes, clips, ev.evaluate_clips(clips, scenes)


def test_ground_truth_ceiling(gt):
    scenes, _, res = gt
    for attr, v in res["attributes"].items():
        assert v["scored"] >= 40, attr
        assert v["adherence"] >= 0.98, (attr, v)
    # every attribute is scored exactly where the world says it can be seen
    for attr in ev.ATTRS:
        assert res["attributes"][attr]["scored"] == sum(tw.is_scored(attr, s) for s in scenes)


def test_wrong_labels_are_rejected(gt):
    scenes, clips, res = gt
    checked = dict.fromkeys(ev.ATTRS[:-1], 0)
    for i, (scene, clip, rec) in enumerate(list(zip(scenes, clips, res["clips"], strict=True))[:60]):
        m = rec["measured"]
        for attr, n in (("background", 8), ("color", 7), ("size", 3), ("motion", 6), ("camera", 7), ("subject", 8)):
            wrong = (getattr(scene, attr) + 1 + i % (n - 1)) % n  # every other value, in turn
            other = tw.Scene(**{**scene.__dict__, attr: wrong})
            if tw.is_scored(attr, scene) and tw.is_scored(attr, other):
                assert ev.score_clip(clip, other, m)[attr] is False, (scene_prompt(scene), attr)
                checked[attr] += 1
    assert min(checked.values()) >= 10, checked


def test_score_needs_no_prompt_to_measure(gt):
    scenes, clips, res = gt
    m = ev.measure_clip(clips[0])
    assert m == res["clips"][0]["measured"]  # a pure function of the pixels
    assert m["background"] == scenes[0].background
    json.dumps(m)  # plain data


def test_camera_estimate_on_backgrounds():
    for b in range(len(vocab.BACKGROUNDS)):
        for camera, zoom, shift in [(1, 1.0, (0.5, 0)), (4, 1.0, (0, -0.5)), (5, 1.6, (0, 0)), (6, 1 / 1.6, (0, 0))]:
            f = tw.empty_frames(b, camera, seed=b).astype(np.float32)
            s, d = ev.estimate_camera(f, np.zeros(f.shape[:3], bool))
            S, D = ev._accumulate(s, d)
            assert abs(np.log(S[-1] / zoom)) < 0.08, (b, camera, S[-1])
            assert np.abs(D[-1] / 32 - shift).max() < 0.06, (b, camera, D[-1] / 32)
            assert ev.classify_camera(S, D, 32) == camera


def test_motion_classes_from_paths():
    t = np.linspace(0, 1, 16)
    flat = np.full(16, 0.0)
    assert ev.classify_motion(flat + 0.01 * np.sin(9 * t), flat) == 0
    assert ev.classify_motion(-0.5 * t, flat) == 1
    assert ev.classify_motion(0.5 * t, flat) == 2
    assert ev.classify_motion(flat, -0.5 * t) == 3
    assert ev.classify_motion(flat, 0.5 * t) == 4
    fall = np.minimum(0.6 * (t / 0.3) ** 2, 0.6)
    bounce = np.where(t < 0.3, fall, 0.6 - 2.0 * (t - 0.3) * (1 - (t - 0.3) / 0.6))
    assert ev.classify_motion(flat, bounce) == 5
    assert ev.classify_motion(np.full(16, np.nan), flat) is None


def test_a_clip_without_subject():
    clip = tw.empty_frames(3, 0, seed=0)
    m = ev.measure_clip(clip)
    assert m["visible_frames"] == 0 and m["color"] is None and m["motion"] is None
    assert m["background"] == 3 and m["camera"] == 0
    sc = ev.score_clip(clip, tw.Scene(0, 0, 3, 1, 0, 0), m)
    assert sc["background"] and sc["camera"]
    assert sc["color"] is False and sc["size"] is False and sc["motion"] is False


def test_flicker_is_inconsistent():
    scene = tw.Scene(0, 0, 0, 1, 0, 0)
    clip = tw.render(scene, 0)
    other = tw.render(tw.Scene(0, 2, 0, 1, 0, 0), 0)  # the same ball in green
    clip[1::2] = other[1::2]
    assert ev.score_clip(clip, scene)["consistency"] is False
    assert ev.score_clip(tw.render(scene, 0), scene)["consistency"] is True


def test_measure_rejects_bad_arrays():
    with pytest.raises(ValueError):
        ev.measure_clip(np.zeros((4, 32, 32), np.uint8))


# ---- CLI -------------------------------------------------------------------------------------------
def test_cli_ground_truth(tmp_path, capsys):
    out = tmp_path / "gt.json"
    assert ev.main(["--ground-truth", "--split", "train", "--n", "6", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["n"] == 6 and doc["settings"]["split"] == "train" and len(doc["clips"]) == 6
    assert set(doc["attributes"]) == set(ev.ATTRS)
    table = capsys.readouterr().out
    assert "background" in table and "adherence" in table
    # the same seed draws the same scenes
    assert ev.main(["--ground-truth", "--split", "train", "--n", "6", "--json", str(tmp_path / "b.json")]) == 0
    again = json.loads((tmp_path / "b.json").read_text())
    assert [c["prompt"] for c in again["clips"]] == [c["prompt"] for c in doc["clips"]]


class _Error(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


def _fake_pipeline(monkeypatch, fail: bool = False):
    """A stand-in for model_runtime.pipeline whose 'model' draws the ground truth of each prompt."""
    calls = {"batch": 0}

    class GenerationRequest:
        def __init__(self, prompt, seed=0, steps=20, sampler="dpmpp_2m", guidance=3.0, **_):
            self.prompt, self.seed = prompt, seed

    class Generator:
        def __init__(self, checkpoint=None, device="auto"):
            if fail:
                raise _Error("checkpoint", f"no checkpoint at {checkpoint}")
            self.info = {"model_id": "fake", "frames": 16, "size": 32}

        def generate_batch(self, reqs):
            calls["batch"] += 1
            return [tw.render(tw.complete_scene(parse_prompt(r.prompt), np.random.default_rng(r.seed)), r.seed)
                    for r in reqs]

    pipe = types.ModuleType("model_runtime.pipeline")
    pipe.Generator, pipe.GenerationRequest = Generator, GenerationRequest
    errors = types.ModuleType("model_runtime.errors")
    errors.RuntimeUserError = _Error
    monkeypatch.setitem(sys.modules, "model_runtime.pipeline", pipe)
    monkeypatch.setitem(sys.modules, "model_runtime.errors", errors)
    return calls


def test_cli_generates_with_the_model_in_batches(tmp_path, monkeypatch, capsys):
    calls = _fake_pipeline(monkeypatch)
    out = tmp_path / "m.json"
    assert ev.main(["--n", "10", "--batch", "4", "--lang", "zh", "--json", str(out)]) == 0
    assert calls["batch"] == 3
    doc = json.loads(out.read_text())
    assert doc["model"]["model_id"] == "fake"
    assert doc["clips"][0]["prompt"].startswith(("远景", "中景", "特写"))
    assert doc["attributes"]["background"]["adherence"] == 1.0


def test_cli_model_errors_are_one_line(monkeypatch, capsys):
    _fake_pipeline(monkeypatch, fail=True)
    assert ev.main(["--n", "2", "--checkpoint", "nowhere.safetensors"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: no checkpoint at nowhere.safetensors"


@pytest.mark.parametrize("args", [["--n", "0"], ["--split", "test"], ["--json", "/nonexistent/dir/x.json"],
                                  ["--batch", "0"]])
def test_cli_bad_arguments(args, capsys):
    assert_exit = None
    try:
        assert_exit = ev.main(["--ground-truth", *args])
    except SystemExit as e:
        assert_exit = e.code
    assert assert_exit == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
