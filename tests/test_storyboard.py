"""Storyboard import: the sample JSON and CSV give the same shots; bad files give one clear line."""

from __future__ import annotations

import json

import pytest
from project_helpers import SAMPLE_CSV, SAMPLE_JSON

from studio.errors import StudioError
from studio.project.schema import Camera, FrameTime, GenParams, Mode, Motion, ShotSize, TransitionKind, at_fps
from studio.project.storyboard import load_storyboard


def test_sample_json_and_csv_give_the_same_shots():
    a = load_storyboard(SAMPLE_JSON)
    b = load_storyboard(SAMPLE_CSV)
    assert len(a.shots) == len(b.shots) == 7
    assert [s.params for s in a.shots] == [s.params for s in b.shots]
    assert [s.transition for s in a.shots] == [s.transition for s in b.shots]
    # JSON carries the film's settings; CSV has none: defaults, titled after the file
    assert (a.title, a.settings.fps, a.settings.width, a.settings.height) == ("Lantern festival", 24, 1280, 720)
    assert b.title == "lantern_festival" and b.settings.fps == 24


def test_sample_values_are_mapped():
    shots = load_storyboard(SAMPLE_JSON).shots
    first, second = shots[0].params, shots[1].params
    # seconds in the file, exact frames at the storyboard's 24 fps in the project
    assert first.prompt.startswith("wide shot of a red lantern") and first.seed == 11
    assert first.duration == FrameTime(value=72, rate=24.0)
    assert shots[0].transition.kind == TransitionKind.CUT and shots[0].transition.duration.value == 0
    assert not first.continue_from_previous
    assert second.continue_from_previous and second.duration == FrameTime(value=48, rate=24.0) and second.seed == 12
    assert (shots[1].transition.kind, shots[1].transition.duration) == (TransitionKind.CROSSFADE, at_fps(0.5))
    assert (shots[3].transition.kind, shots[3].transition.duration) == (TransitionKind.FADE_BLACK, at_fps(1.0))
    assert shots[4].params.prompt == "远景，一个熊猫静止，草地，镜头向左平移"
    # no shot leaves a timeline clip: there are no takes yet
    assert load_storyboard(SAMPLE_JSON).timeline.clips == []


def test_per_shot_overrides(tmp_path):
    board = {"shots": [
        {"prompt": "a ball", "camera": "pan_left", "shot_size": "Close-Up", "steps": 12, "guidance": 4.5,
         "negative_prompt": "blurry", "sampler": "DDIM", "motion": "bouncing", "mode": "text-to-video",
         "notes": "hero"},
        {"prompt": "a ball", "camera": "zooms in", "shot_size": "wide", "transition": "crossfade",
         "mode": "extend", "continue_from_previous": "yes"},
    ]}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(board))
    s1, s2 = load_storyboard(path).shots
    assert (s1.params.camera, s1.params.shot_size, s1.params.motion) == (Camera.PAN_LEFT, ShotSize.CLOSE_UP,
                                                                        Motion.BOUNCING)
    assert (s1.params.steps, s1.params.guidance, s1.params.sampler) == (12, 4.5, "ddim")
    assert s1.params.negative_prompt == "blurry" and s1.notes == "hero"
    assert s2.params.mode == Mode.EXTEND and s2.params.continue_from_previous
    assert (s2.transition.kind, s2.transition.duration.seconds) == (TransitionKind.CROSSFADE, 0.5)  # default length
    # defaults fill what the file leaves out, but never what it says
    d1, _ = load_storyboard(path, GenParams(steps=50, guidance=7.0, prompt="ignored")).shots
    assert (d1.params.steps, d1.params.guidance, d1.params.prompt) == (12, 4.5, "a ball")
    _, d2 = load_storyboard(path, GenParams(steps=50, guidance=7.0)).shots
    assert (d2.params.steps, d2.params.guidance) == (50, 7.0)


BAD_JSON = {
    "malformed": ('{"shots": [{"prompt": "a"},]}', "is not valid JSON (line 1"),
    "unknown field": ('{"shots": [{"prompt": "a", "colour": "red"}]}', "shot 1: unknown field 'colour'"),
    "unknown top field": ('{"name": "x", "shots": [{"prompt": "a"}]}', "unknown field 'name'"),
    "unknown camera": ('{"shots": [{"prompt": "a"}, {"prompt": "b", "camera": "spin"}]}',
                       "shot 2: unknown camera 'spin' (use one of:"),
    "zero duration": ('{"shots": [{"prompt": "a", "duration": 0}]}', "shot 1: duration must be more than 0"),
    "negative duration": ('{"shots": [{"prompt": "a"}, {"prompt": "b", "duration": -2}]}',
                          "shot 2: duration must be more than 0"),
    "text duration": ('{"shots": [{"prompt": "a", "duration": "long"}]}', "shot 1: duration must be a number"),
    "missing prompt": ('{"shots": [{"duration": 2}]}', "shot 1: prompt is missing"),
    "no shots": ('{"title": "x", "shots": []}', "\"shots\" must be a non-empty list"),
    "not an object": ("[1, 2]", "must hold a JSON object"),
    "bad transition": ('{"shots": [{"prompt": "a"}, {"prompt": "b", "transition": "wipe"}]}',
                       "shot 2: unknown transition 'wipe'"),
    "continue first": ('{"shots": [{"prompt": "a", "continue_from_previous": true}]}',
                       "shot 1: continue_from_previous needs a previous shot"),
    "steps too high": ('{"shots": [{"prompt": "a", "steps": 5000}]}', "shot 1: steps:"),
    "bad fps": ('{"fps": -1, "shots": [{"prompt": "a"}]}', "fps:"),
    "fractional seed": ('{"shots": [{"prompt": "a", "seed": 1.5}]}', "shot 1: seed must be a whole number"),
}

BAD_CSV = {
    "unknown column": ("prompt,duration,colour\na,2,red\n", "unknown column 'colour'"),
    "no prompt column": ("duration,seed\n2,1\n", "there is no prompt column"),
    "zero duration": ("prompt,duration\na,2\nb,0\n", "line 3 (shot 2): duration must be more than 0"),
    "unknown value": ("prompt,shot_size\na,huge\n", "line 2 (shot 1): unknown shot_size 'huge'"),
    "extra cells": ("prompt,duration\na,2,3\n", "line 2 has more cells than the header"),
    "unterminated quote": ('prompt,duration\n"a,2\n', "is not valid CSV"),
    "bad bool": ("prompt,continue_from_previous\na,\nb,maybe\n", "continue_from_previous must be true or false"),
    "empty": ("", "is empty"),
    "header only": ("prompt,duration\n", "has no shots"),
    "duplicate column": ("prompt,prompt\na,b\n", "column 'prompt' appears twice"),
}


@pytest.mark.parametrize(("suffix", "case"), [(".json", c) for c in BAD_JSON] + [(".csv", c) for c in BAD_CSV])
def test_bad_storyboards_give_one_clear_line(tmp_path, suffix, case):
    text, words = (BAD_JSON if suffix == ".json" else BAD_CSV)[case]
    path = tmp_path / f"board{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudioError) as e:
        load_storyboard(path)
    assert e.value.kind == "storyboard"
    assert words in e.value.message, e.value.message
    assert "\n" not in e.value.message


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(StudioError, match="storyboard not found"):
        load_storyboard(tmp_path / "none.json")
    (tmp_path / "board.txt").write_text("prompt\na\n")
    with pytest.raises(StudioError, match="unknown storyboard format"):
        load_storyboard(tmp_path / "board.txt")
    (tmp_path / "bin.csv").write_bytes(b"prompt\n\xff\xfe\n")
    with pytest.raises(StudioError, match="not UTF-8"):
        load_storyboard(tmp_path / "bin.csv")


def test_times_are_frames_at_the_project_rate(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"fps": 30, "shots": [
        {"prompt": "a", "duration": 2.51, "transition": "crossfade", "transition_duration": 0.3},
        {"prompt": "b"}]}))
    a, b = load_storyboard(path).shots
    assert a.params.duration == FrameTime(value=75, rate=30.0)  # 75.3 frames: the nearest
    assert a.transition.duration == FrameTime(value=9, rate=30.0)
    assert b.params.duration == FrameTime(value=60, rate=30.0)  # the default 2 s, at the film's rate
    # imported into a project of another rate, its rate is used
    a25, _ = load_storyboard(path, fps=25.0).shots
    assert (a25.params.duration, a25.transition.duration) == (FrameTime(value=63, rate=25.0),
                                                              FrameTime(value=8, rate=25.0))
    # CSV carries no fps: the default project's, or the project's it goes into
    csv = tmp_path / "b.csv"
    csv.write_text("prompt,duration\na,2.5\n")
    assert load_storyboard(csv).shots[0].params.duration == FrameTime(value=60, rate=24.0)
    assert load_storyboard(csv, fps=50.0).shots[0].params.duration == FrameTime(value=125, rate=50.0)
    # less than a frame is refused, with the field named
    csv.write_text("prompt,duration\na,0.01\n")
    with pytest.raises(StudioError, match="duration: should be at least one frame long"):
        load_storyboard(csv)


def test_the_sample_storyboard_imports_as_before():
    """Its durations and transitions are whole frames at its 24 fps, so no time moves."""
    raw = json.loads(SAMPLE_JSON.read_text())
    for shot, entry in zip(load_storyboard(SAMPLE_JSON).shots, raw["shots"], strict=True):
        assert shot.params.duration.seconds == entry["duration"]
        cut = entry.get("transition", "cut") == "cut"
        assert shot.transition.duration.seconds == (0.0 if cut else entry["transition_duration"])


def test_csv_with_bom_and_blank_lines(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffprompt,duration\r\na red ball,2\r\n,\r\nblue star,3\r\n".encode())
    shots = load_storyboard(path).shots
    assert [s.params.prompt for s in shots] == ["a red ball", "blue star"]
