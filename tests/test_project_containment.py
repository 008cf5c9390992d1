"""A project's files stay inside its folder: links that lead out are refused on open (naming them)
and never written through; stale temporary files of killed saves are swept on open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import StubClient
from project_helpers import sample_project

from studio.engine.generation import GenerationService
from studio.engine.queue import JobQueue
from studio.engine.takes import last_frame_png
from studio.errors import StudioError
from studio.media.frames import take_media_path
from studio.project import store
from studio.project.containment import sweep_leftovers
from studio.project.schema import JobState

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path):
    folder = store.new_project(tmp_path / "film.vstudio", sample_project(2, 1))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    return folder, outside


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*"))


@pytest.mark.parametrize("sub", ["media", "backups", "media/continuity", "autosave"])
def test_a_subfolder_linked_outside_is_refused_on_open_and_never_written(project, sub):
    folder, outside = project
    target = folder / sub
    if target.exists():
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, target)
    with pytest.raises(StudioError) as e:
        store.open_project(folder)
    assert e.value.kind == "project_link" and sub in e.value.message and "\n" not in e.value.message
    data = sample_project(2, 1)
    if sub in ("backups", "media", "autosave"):
        with pytest.raises(StudioError, match="leads outside"):
            (store.autosave if sub == "autosave" else store.save_project)(folder, data)
    assert files_in(outside) == []


def test_a_take_file_linked_outside_is_refused_on_open_and_not_read(project):
    folder, outside = project
    secret = outside / "secret.npy"
    np.save(secret, np.zeros((2, 4, 4, 3), np.uint8))
    data = store.open_project(folder)
    take = data.shots[0].takes[0]
    (folder / "media").mkdir(exist_ok=True)
    os.symlink(secret, folder / take.clip)
    with pytest.raises(StudioError) as e:
        store.open_project(folder)
    assert e.value.kind == "project_link" and take.clip in e.value.message
    with pytest.raises(StudioError, match="leads outside"):
        take_media_path(folder, take)


def test_links_inside_the_folder_and_a_folder_behind_a_link_are_fine(tmp_path):
    real = store.new_project(tmp_path / "real.vstudio", sample_project(1, 1))
    (real / "media" / "a.npy").write_bytes(b"x")
    os.symlink(real / "media" / "a.npy", real / "media" / "b.npy")  # a link that stays inside
    alias = tmp_path / "alias.vstudio"
    os.symlink(real, alias)  # the project itself lives behind a link
    assert store.open_project(alias).shots


def test_a_link_made_while_the_project_is_open_stops_generation_before_any_write(project):
    folder, outside = project
    data = store.open_project(folder)

    class Host:
        path, added = folder, []

        @property
        def data(self):
            return data

        def add_take(self, shot_id, take):
            return True

    client = StubClient()
    queue = JobQueue(client, folder / "media", folder)
    service = GenerationService(queue, Host())
    job = service.enqueue(data.shots[0].id, data.shots[0].params)  # queued while the worker starts
    (folder / "media").rename(folder / "media.old")
    os.symlink(outside, folder / "media")
    failed = []
    queue.on_failed.connect(lambda job, kind, message: failed.append(kind))
    client.ready()  # the job's request is built now: refused, nothing sent to the worker
    assert job.state == JobState.FAILED and failed == ["project_link"] and client.submitted == []
    with pytest.raises(StudioError, match="leads outside"):
        service.enqueue(data.shots[1].id, data.shots[1].params)
    assert files_in(outside) == []


def test_continuity_frames_are_not_written_through_a_link(project):
    folder, outside = project
    data = store.open_project(folder)
    take = data.shots[0].takes[0]
    np.save(folder / "media" / "frames.npy", np.zeros((4, 8, 8, 3), np.uint8))
    take.frames_file = "media/frames.npy"
    os.symlink(outside, folder / "media" / "continuity")
    with pytest.raises(StudioError, match="leads outside"):
        last_frame_png(folder, take)
    assert files_in(outside) == []


def test_stale_temporaries_are_swept_on_open_and_fresh_ones_kept(project):
    folder, _ = project
    stale = [folder / ".project.1a2b3c4d.partial.json", folder / ".project.json.x1y2.tmp",
             folder / "autosave" / ".project.99aa.partial.json", folder / "media" / ".s1-j1.partial.mp4"]
    fresh = folder / ".project.55ee.partial.json"
    for p in [*stale, fresh]:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a save")
    old = time.time() - 3600
    for p in stale:
        os.utime(p, (old, old))
    store.open_project(folder)
    assert [p.exists() for p in stale] == [False] * len(stale) and fresh.exists()
    assert (folder / "project.json").exists()
    assert sweep_leftovers(folder) == []


def test_headless_regenerate_with_media_linked_outside_writes_nothing_there(project, tmp_path):
    folder, outside = project
    (folder / "media").rename(folder / "media.old")
    os.symlink(outside, folder / "media")
    r = subprocess.run([sys.executable, "main.py", "render", str(folder), "-o", str(tmp_path / "film.mp4"),
                        "--regenerate", "--random-init"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "leads outside" in lines[0], r.stderr
    assert files_in(outside) == [] and not (tmp_path / "film.mp4").exists()
    assert json.loads((folder / "project.json").read_text())["shots"]
