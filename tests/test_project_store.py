"""Project folders on disk: round trips, backups, autosave/recovery, and refusing bad files."""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_helpers import folder_snapshot, sample_project

from studio.errors import StudioError
from studio.project import store
from studio.project.schema import SCHEMA_VERSION, ProjectData


@pytest.fixture
def saved(tmp_path):
    data = sample_project()
    folder = store.new_project(tmp_path / "film", data)
    return folder, data


def test_new_project_makes_the_folder_layout(tmp_path):
    folder = store.new_project(tmp_path / "film")
    assert folder.name == "film.vstudio"
    for sub in ("media", "backups", "autosave"):
        assert (folder / sub).is_dir()
    assert json.loads((folder / "project.json").read_text())["schema_version"] == SCHEMA_VERSION
    with pytest.raises(StudioError) as e:
        store.new_project(tmp_path / "film.vstudio")
    assert e.value.kind == "project_exists"


def test_save_and_reopen_round_trip(saved):
    folder, data = saved
    again = store.open_project(folder)
    assert again.model_dump() == data.model_dump()
    # the path to project.json opens the same project
    assert store.open_project(folder / "project.json").model_dump() == data.model_dump()
    # and a second save of what was read gives the same bytes
    before = (folder / "project.json").read_bytes()
    store.save_project(folder, again)
    assert (folder / "project.json").read_bytes() == before


def test_backups_keep_the_last_five_saves(saved):
    folder, data = saved
    written = [(folder / "project.json").read_bytes()]
    for i in range(7):
        data.title = f"version {i}"
        store.save_project(folder, data)
        written.append((folder / "project.json").read_bytes())
    backups = store.list_backups(folder)
    assert len(backups) == store.KEEP_BACKUPS
    # the backups are exactly the five saves before the current one, oldest first
    assert [b.read_bytes() for b in backups] == written[-6:-1]
    assert not list(folder.glob(".*partial*"))  # no temporary file left (contract.files names)


def test_autosave_and_recovery_after_a_crash(saved):
    folder, data = saved
    assert not store.recovery_available(folder)
    edited = data.model_copy(deep=True)
    edited.title = "edited after the last save"
    gone = edited.shots.pop()
    edited.timeline.clips = [c for c in edited.timeline.clips if c.shot_id != gone.id]
    store.autosave(folder, edited)
    # crash: the process ends here without saving; a new session opens the folder
    assert store.recovery_available(folder)
    assert store.open_project(folder).model_dump() == data.model_dump()  # open still gives the save
    recovered = store.recover(folder)
    assert recovered.model_dump() == edited.model_dump()
    # saving the recovered project makes it the project and retires the autosave
    store.save_project(folder, recovered)
    assert not store.recovery_available(folder)
    assert not store.autosave_file(folder).exists()
    assert store.open_project(folder).title == "edited after the last save"


def test_autosave_older_than_the_save_is_not_offered(saved):
    folder, data = saved
    changed = data.model_copy(update={"title": "older"})
    store.autosave(folder, changed)
    old = time.time() - 3600
    os.utime(store.autosave_file(folder), (old, old))
    assert not store.recovery_available(folder)
    # an autosave identical to the save is not worth offering either
    store.autosave(folder, data)
    assert not store.recovery_available(folder)


def test_save_as_copies_media_and_refuses_a_used_folder(saved, tmp_path):
    folder, data = saved
    (folder / "media" / "take_0.mp4").write_bytes(b"fake video")
    dest = store.save_as(data, folder, tmp_path / "copy")
    assert dest.name == "copy.vstudio"
    assert (dest / "media" / "take_0.mp4").read_bytes() == b"fake video"
    assert store.open_project(dest).model_dump() == data.model_dump()
    with pytest.raises(StudioError) as e:
        store.save_as(data, folder, dest)
    assert e.value.kind == "project_exists"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_failed_save_leaves_the_old_file_and_no_temp(saved, monkeypatch):
    folder, data = saved
    before = (folder / "project.json").read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", boom)
    data.title = "never written"
    with pytest.raises(StudioError) as e:
        store.save_project(folder, data)
    assert e.value.kind == "io" and "No space left" in e.value.message
    assert (folder / "project.json").read_bytes() == before
    assert not list(folder.glob(".*partial*"))


def _valid_dict() -> dict:
    return json.loads(store.dump_project(sample_project()))


def _with(mutate) -> bytes:
    d = _valid_dict()
    mutate(d)
    return json.dumps(d).encode()


BAD_FILES = {
    "not json": (b'{\n "title": "x",\n oops\n}', "project_corrupt", "project.json is not valid JSON (line 3)"),
    "truncated": (store.dump_project(sample_project())[:200], "project_corrupt", "project.json is truncated"),
    "empty": (b"", "project_corrupt", "project.json is empty"),
    "not an object": (b"[1, 2]", "project_corrupt", "does not hold a project"),
    "no version": (_with(lambda d: d.pop("schema_version")), "project_corrupt", "has no schema_version"),
    "future version": (_with(lambda d: d.update(schema_version=7)), "project_too_new",
                       f"project.json was written by a newer version (schema 7; this build reads up to {SCHEMA_VERSION})"),
    "absolute media path": (_with(lambda d: d["shots"][0]["takes"][0].update(clip="/etc/passwd")),
                            "project_unsafe_path", "shots[0].takes[0].clip: media path '/etc/passwd' is absolute"),
    "escaping media path": (_with(lambda d: d["shots"][1]["takes"][1].update(poster="media/../../x.png")),
                            "project_unsafe_path", "shots[1].takes[1].poster: media path"),
    "windows drive path": (_with(lambda d: d["shots"][0]["params"].update(reference_image="C:\\x.png")),
                           "project_unsafe_path", "shots[0].params.reference_image"),
    "field out of range": (_with(lambda d: d["shots"][2]["params"].update(steps=0)), "project_invalid",
                           "project.json: shots[2].params.steps: Input should be greater than or equal to 1"),
    "unknown field": (_with(lambda d: d.update(colour="red")), "project_invalid", "colour"),
    "dangling chosen take": (_with(lambda d: d["shots"][0].update(chosen_take="nope")), "project_invalid",
                             "shots[0].chosen_take 'nope' is not one of its takes"),
    "clip of no shot": (_with(lambda d: d["timeline"]["clips"][0].update(shot_id="ghost")), "project_invalid",
                        "timeline.clips[0].shot_id 'ghost' is not a shot"),
    "NaN": (b'{"schema_version": 2, "settings": {"fps": NaN}}', "project_corrupt", "NaN"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_project_files_are_refused_and_nothing_changes(tmp_path, case):
    raw, kind, words = BAD_FILES[case]
    folder = tmp_path / "bad.vstudio"
    for sub in ("media", "backups", "autosave"):
        (folder / sub).mkdir(parents=True)
    (folder / "project.json").write_bytes(raw)
    before = folder_snapshot(folder)
    with pytest.raises(StudioError) as e:
        store.open_project(folder)
    assert e.value.kind == kind
    assert words in e.value.message
    assert "\n" not in e.value.message and len(e.value.message) < 300
    assert folder_snapshot(folder) == before


def test_missing_project(tmp_path):
    with pytest.raises(StudioError) as e:
        store.open_project(tmp_path / "nowhere.vstudio")
    assert e.value.kind == "project_missing"
    (tmp_path / "empty.vstudio").mkdir()
    with pytest.raises(StudioError) as e:
        store.open_project(tmp_path / "empty.vstudio")
    assert e.value.kind == "project_missing" and "project.json" in e.value.message
    assert list((tmp_path / "empty.vstudio").iterdir()) == []


# --- fuzzing: damaged files only ever give StudioError ---------------------------------------------------
VALID = store.dump_project(sample_project(n_shots=3, takes_per_shot=2))
VALID_DICT = json.loads(VALID)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p in _paths(VALID_DICT) if p]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["../x", "/abs", "media/ok.mp4", "cut", "t2v", "7"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def json_mutation(draw):
    d = json.loads(VALID)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = d
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(json_values)
            elif isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent.pop(path[-1])
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return json.dumps(d).encode()


@st.composite
def byte_flips(draw):
    raw = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(raw) - 1))
        raw[i] = draw(st.integers(0, 255))
    return bytes(raw)


truncations = st.integers(0, len(VALID) - 1).map(lambda n: VALID[:n])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(byte_flips(), truncations, json_mutation()))
def test_random_damage_never_crashes_the_loader(raw):
    try:
        data = store.load_project_bytes(raw)
    except StudioError as e:
        assert e.kind.startswith("project_") and e.message and "\n" not in e.message
    else:
        # whatever loads is a consistent project that saves and loads again unchanged
        assert isinstance(data, ProjectData)
        assert store.load_project_bytes(store.dump_project(data)).model_dump() == data.model_dump()


def test_statuses_are_made_true_on_open(tmp_path):
    d = _valid_dict()
    shots = d["shots"]
    shots[0]["status"] = "generating"  # its job is still in the queue: queued again
    shots[1]["status"] = "generating"  # no job: the crash ended it; back to what its takes say
    shots[2]["status"] = "stale"  # but its params equal its chosen take's: ready
    d["queue"] = [{"shot_id": shots[0]["id"], "params": shots[0]["params"], "state": "running"}]
    data = store.load_project_bytes(json.dumps(d).encode())
    assert [s.status for s in data.shots] == ["queued", "ready", "ready"]
    assert [j.state for j in data.queue] == ["queued"]  # as JobQueue.restore_queue: it runs again
    shots[2]["params"]["seed"] = 77
    shots[2]["status"] = "ready"
    assert store.load_project_bytes(json.dumps(d).encode()).shots[2].status == "stale"
