"""Opening projects saved by older builds: every value comes through, at exact frames.

tests/data/project_v2.json was saved by the schema-2 build (commit e72ceb6) through its
ProjectDocument: the lantern storyboard imported at 24 fps, the project then set to 30 fps, takes
added by the engine path (one shot with two, a different one chosen), trims, transitions, a
running, a queued and a failed job.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from project_helpers import DATA

from studio.errors import StudioError
from studio.project import store
from studio.project.migrations import LEGACY_TAKE_FPS, MIGRATIONS
from studio.project.schema import SCHEMA_VERSION, FrameTime, JobState, ShotStatus, TransitionKind

V2 = DATA / "project_v2.json"
FPS = 30.0


def frames(n: int, rate: float = FPS) -> FrameTime:
    return FrameTime(value=n, rate=rate)


def project_folder(tmp_path: Path, d: dict | None = None) -> Path:
    folder = tmp_path / "old.vstudio"
    (folder / "media").mkdir(parents=True)
    if d is None:
        shutil.copyfile(V2, folder / "project.json")
    else:
        (folder / "project.json").write_text(json.dumps(d))
    return folder


def v2_dict() -> dict:
    return json.loads(V2.read_text())


def test_every_migration_is_there():
    assert set(MIGRATIONS) == set(range(1, SCHEMA_VERSION)) and SCHEMA_VERSION == 4


def test_a_schema_2_project_opens_with_every_value_in_frames(tmp_path):
    folder = project_folder(tmp_path)
    before = (folder / "project.json").read_bytes()
    data = store.open_project(folder)
    assert (folder / "project.json").read_bytes() == before  # opening does not rewrite the file
    assert data.schema_version == SCHEMA_VERSION
    assert data.title == "Lantern festival"
    assert (data.settings.fps, data.settings.width, data.settings.height) == (30.0, 1280, 720)
    shots = data.shots
    # durations in seconds -> frames at the project's 30 fps; 2.55 s is 76.5 frames: ties go to
    # the even frame (Python's round); 0.01 s is less than a frame and keeps one
    assert [s.params.duration for s in shots] == [frames(90), frames(60), frames(60), frames(76),
                                                  frames(90), frames(60), frames(1)]
    # takes keep the params they were made with (shot 4 was 3 s when its take was made: stale)
    assert [[t.params.duration for t in s.takes] for s in shots] == [
        [frames(90), frames(90)], [frames(60)], [frames(60)], [frames(90)], [frames(90)], [], []]
    assert [[(t.id, t.fps, t.frames, t.rating) for t in s.takes] for s in shots][:2] == [
        [("take1a", 8.0, 16, 4), ("take1b", 8.0, 24, 0)], [("take2a", 8.0, 16, 0)]]
    take = shots[0].takes[1]
    assert (take.clip, take.poster, take.frames_file) == ("media/shot1_b.mp4", "media/shot1_b.png",
                                                          "media/shot1_b.npy")
    assert (take.model_id, take.checkpoint_hash, take.width, take.height) == ("vstudio-toy-v2", "ab" * 32, 256, 144)
    assert take.timings == {"total_s": 12.5, "first_preview_s": 0.8} and take.created == 1764000001.0
    assert [s.chosen_take for s in shots] == ["take1b", "take2a", "take3a", "take4a", "take5a", None, None]
    # transitions: on the shots only, in frames (0.75 s is 22.5 frames: the even one)
    assert [(s.transition.kind.value, s.transition.duration) for s in shots] == [
        ("cut", frames(0)), ("crossfade", frames(22)), ("cut", frames(0)), ("fade_black", frames(30)),
        ("crossfade", frames(15)), ("fade_black", frames(12)), ("crossfade", frames(15))]
    # trims: 0.25 s is 7.5 frames (-> 8), 0.31 s is 9.3 (-> 9), 2.9 s 87, 1.6 s 48, 0.5 s 15
    clips = data.timeline.clips
    assert [(c.shot_id, c.take_id) for c in clips] == [(s.id, s.chosen_take) for s in shots[:5]]
    assert [(c.in_point, c.out_point) for c in clips] == [
        (frames(8), frames(87)), (frames(9), frames(48)), (frames(15), None), (frames(0), None), (frames(0), None)]
    assert not any(hasattr(c, "transition") for c in clips)
    # the queue: the running job runs again, the others keep their state; params migrated too
    assert [(j.id, j.shot_id, j.state, j.progress, j.params.duration) for j in data.queue] == [
        ("job1", shots[5].id, JobState.QUEUED, 0.0, frames(60)),
        ("job2", shots[6].id, JobState.QUEUED, 0.0, frames(1)),
        ("job3", shots[4].id, JobState.FAILED, 0.0, frames(90))]
    assert data.queue[2].error == "worker died (exit code -9)"
    assert [s.status for s in shots] == [ShotStatus.READY, ShotStatus.READY, ShotStatus.READY, ShotStatus.STALE,
                                         ShotStatus.FAILED, ShotStatus.QUEUED, ShotStatus.QUEUED]
    assert shots[4].error == "worker died (exit code -9)"
    assert shots[1].params.continue_from_previous and shots[0].params.seed == 11


def test_a_migrated_project_saves_as_the_current_schema_and_reopens_unchanged(tmp_path):
    folder = project_folder(tmp_path)
    data = store.open_project(folder)
    store.save_project(folder, data)
    saved = json.loads((folder / "project.json").read_text())
    assert saved["schema_version"] == 4
    assert saved["shots"][1]["params"]["duration"] == {"value": 60, "rate": 30.0}
    assert saved["timeline"]["clips"][1] == {"shot_id": data.shots[1].id, "take_id": "take2a",
                                             "in_point": {"value": 9, "rate": 30.0},
                                             "out_point": {"value": 48, "rate": 30.0}}
    again = store.open_project(folder)
    assert again.model_dump() == data.model_dump()
    assert store.list_backups(folder)  # the schema-2 file is kept as a backup


def test_the_clip_transition_wins_over_the_shot_one(tmp_path):
    d = v2_dict()
    d["timeline"]["clips"][1]["transition"] = {"kind": "fade_black", "duration": 1.25}  # the editor's last
    data = store.open_project(project_folder(tmp_path, d))
    assert data.shots[1].transition.kind == TransitionKind.FADE_BLACK
    assert data.shots[1].transition.duration == frames(38)  # 37.5 frames: the even one


def test_a_take_without_fps_reads_its_metadata_else_the_legacy_rate(tmp_path):
    d = v2_dict()
    del d["shots"][0]["takes"][0]["fps"]  # take1a: its metadata says 12 fps
    del d["shots"][1]["takes"][0]["fps"]  # take2a: no metadata file
    d["shots"][2]["takes"][0]["fps"] = 0.0  # take3a: unreadable metadata
    folder = project_folder(tmp_path, d)
    (folder / "media" / "shot1_a.json").write_text(json.dumps({"fps": 12.0, "frames": 16}))
    (folder / "media" / "shot3_a.json").write_text("{not json")
    data = store.open_project(folder)
    assert [s.takes[0].fps for s in data.shots[:4]] == [12.0, LEGACY_TAKE_FPS, LEGACY_TAKE_FPS, 8.0]
    # read from the project bytes alone (no folder), the legacy rate is all there is
    loaded = store.load_project_bytes(json.dumps(d).encode())
    assert loaded.shots[0].takes[0].fps == LEGACY_TAKE_FPS


def test_rounding_never_leaves_a_trim_with_nothing_in_it(tmp_path):
    d = v2_dict()
    d["timeline"]["clips"][0].update(in_s=0.5, out_s=0.51)  # both round to frame 15 at 30 fps
    data = store.open_project(project_folder(tmp_path, d))
    assert (data.timeline.clips[0].in_point, data.timeline.clips[0].out_point) == (frames(15), frames(16))


def test_a_schema_1_project_is_migrated_through_2(tmp_path):
    d = v2_dict()
    d["schema_version"] = 1
    for shot in d["shots"]:
        del shot["transition"]  # schema 1 had transitions on timeline clips only
    data = store.open_project(project_folder(tmp_path, d))
    assert data.schema_version == SCHEMA_VERSION
    assert [(s.transition.kind.value, s.transition.duration) for s in data.shots] == [
        ("cut", frames(0)), ("crossfade", frames(22)), ("cut", frames(0)), ("fade_black", frames(30)),
        ("crossfade", frames(15)), ("cut", frames(0, 24.0)), ("cut", frames(0, 24.0))]  # no clip: default


@pytest.mark.parametrize("damage", [
    lambda d: d["timeline"]["clips"][0].update(in_s="soon"),
    lambda d: d["shots"][0]["params"].update(duration=-1.0),
    lambda d: d["shots"][5]["transition"].update(duration=99.0),  # no clip: the shot's own
    lambda d: d.update(timeline=[1, 2]),
    lambda d: d["shots"][0].update(takes={"a": 1}),
])
def test_a_damaged_schema_2_file_is_one_line_error(tmp_path, damage):
    d = v2_dict()
    damage(d)
    with pytest.raises(StudioError) as e:
        store.open_project(project_folder(tmp_path, d))
    assert e.value.kind.startswith("project_") and "\n" not in e.value.message
