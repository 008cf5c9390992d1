"""The generation service (studio.engine.generation): requests from the project, jobs that wait for
the take they continue, finished clips → takes; and the package boundaries it keeps."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from engine_helpers import StubClient

from contract import protocol as P
from studio.engine.generation import GenerationService
from studio.engine.queue import JobQueue
from studio.project.choice import add_take
from studio.project.schema import GenParams, JobState, Mode, ProjectData, Shot

ROOT = Path(__file__).resolve().parents[1]


class Host:
    """A project outside Qt, as the headless renderer keeps one."""

    def __init__(self, data: ProjectData, path: Path):
        self.data, self.path, self.added = data, path, []

    def add_take(self, shot_id, take) -> bool:
        shot = next(s for s in self.data.shots if s.id == shot_id)
        add_take(self.data, shot, take, choose=True)
        self.added.append((shot_id, take))
        return True


def params(**kw) -> GenParams:
    return GenParams(**{"prompt": "a red ball", "steps": 4, **kw})


@pytest.fixture
def setup(tmp_path):
    shots = [Shot(params=params()), Shot(params=params(continue_from_previous=True)),
             Shot(params=params(mode=Mode.EXTEND))]
    host = Host(ProjectData(shots=shots), tmp_path)
    client = StubClient()
    queue = JobQueue(client, tmp_path / "media", tmp_path)
    return client, queue, GenerationService(queue, host), host, shots


def finish(client: StubClient, folder: Path, color: int) -> None:
    """The worker's part: a clip whose last frame is `color` in blue, written where the job asked."""
    sub = client.submitted[-1]
    out = Path(sub.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = np.zeros((16, 32, 32, 3), np.uint8)
    frames[-1, ..., 2] = color
    files = {"frames": str(out / f"{sub.stem}.npy"), "video": str(out / f"{sub.stem}.mp4")}
    np.save(files["frames"], frames)
    Path(files["video"]).write_bytes(b"")
    client.current_job = None
    client._state(client.state.READY)
    client.on_done.emit(P.ClipDone(sub.job_id, files, {"seed": 1, "fps": 8.0, "frames": 16, "width": 32,
                                                       "height": 32}))


def test_a_shot_that_continues_the_previous_waits_for_its_new_take(setup, tmp_path):
    client, queue, service, host, shots = setup
    a = service.enqueue(shots[0].id, shots[0].params)
    b = service.enqueue(shots[1].id, shots[1].params)  # no take on shot 1 yet: it waits, no error
    c = service.enqueue(shots[2].id, shots[2].params)
    assert queue.waits_on(b) is a and queue.waits_on(c) is b and queue.waits_on(a) is None
    client.ready()
    assert [s.job_id for s in client.submitted] == [a.id]
    finish(client, tmp_path / "media", 200)
    # shot 1's take is in; shot 2 runs from its last frame
    assert host.added[0][0] == shots[0].id and a.state == JobState.DONE
    sub = client.submitted[-1]
    assert sub.job_id == b.id and sub.request["mode"] == "i2v"
    png = cv2.cvtColor(cv2.imread(sub.request["image"]), cv2.COLOR_BGR2RGB)
    assert png[..., 2].min() == 200
    finish(client, tmp_path / "media", 90)
    sub = client.submitted[-1]  # shot 3 extends shot 2's new take, frame for frame
    assert sub.job_id == c.id and sub.request["mode"] == "extend"
    assert np.load(sub.request["video"])[-1, 0, 0, 2] == 90


def test_when_the_take_it_waits_for_fails_the_shot_says_why(setup, tmp_path):
    client, queue, service, host, shots = setup
    a = service.enqueue(shots[0].id, shots[0].params)
    b = service.enqueue(shots[1].id, shots[1].params)
    failed = []
    queue.on_failed.connect(lambda job, kind, message: failed.append((job.id, kind, message)))
    client.ready()
    client.error("internal", "the GPU fell off")
    assert a.state == JobState.FAILED and b.state == JobState.FAILED
    assert failed[-1][0] == b.id and "needs a chosen take on the shot before" in failed[-1][2]


def test_an_independent_shot_does_not_wait(setup):
    client, queue, service, host, shots = setup
    later = Shot(params=params(prompt="a blue box"))
    host.data.shots.append(later)
    a = service.enqueue(shots[0].id, shots[0].params)
    d = service.enqueue(later.id, later.params)
    assert queue.waits_on(d) is None
    client.ready()
    client.error("internal", "x")
    assert client.submitted[-1].job_id == d.id and a.state == JobState.FAILED


def test_a_clip_outside_the_project_is_a_failed_take_not_a_crash(setup, tmp_path):
    client, queue, service, host, shots = setup
    failed = []
    service.on_take_failed.connect(lambda job, e: failed.append(e.kind))
    service.enqueue(shots[0].id, shots[0].params)
    client.ready()
    client.done(fps=8.0)  # the stub's files are at /media/…, outside the project
    assert failed == ["media_outside_project"] and host.added == []


def test_a_clip_without_a_frame_rate_is_refused(setup, tmp_path):
    client, queue, service, host, shots = setup
    failed = []
    service.on_take_failed.connect(lambda job, e: failed.append(e.kind))
    service.enqueue(shots[0].id, shots[0].params)
    client.ready()
    sub = client.submitted[-1]
    (tmp_path / "media").mkdir(exist_ok=True)
    files = {"video": str(tmp_path / "media" / f"{sub.stem}.mp4")}
    client.current_job = None
    client.on_done.emit(P.ClipDone(sub.job_id, files, json.loads('{"seed": 1}')))
    assert failed == ["bad_clip"] and host.added == []


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_packages_keep_to_their_sides():
    # model_runtime never imports studio; studio never model_runtime (the worker's spawn entry is a
    # string, importlib'd in the child); the engine never calls up into the widgets
    for path in (ROOT / "model_runtime").rglob("*.py"):
        assert not any(n.split(".")[0] == "studio" for n in _imports(path)), path
    for path in (ROOT / "studio").rglob("*.py"):
        assert not any(n.split(".")[0] == "model_runtime" for n in _imports(path)), path
    for path in (ROOT / "studio" / "engine").rglob("*.py"):
        assert not any(n.startswith("studio.ui") or n.startswith("PySide6") for n in _imports(path)), path
    # the GUI and the headless renderer generate through the same service
    assert "studio.engine.generation" in _imports(ROOT / "studio" / "ui" / "generation.py")
    assert "studio.engine.generation" in _imports(ROOT / "studio" / "headless_jobs.py")
