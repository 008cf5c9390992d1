"""The main window as a whole: title and dirty marker, undo actions, generate through the real job
queue (with a stand-in worker), crash recovery, transport shortcuts, film/timeline sync, main.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from contract import protocol as P
from studio.engine.client import EngineState
from studio.engine.events import Event
from studio.engine.queue import JobQueue
from studio.project.preferences import Preferences
from studio.project.schema import ShotStatus
from studio.ui.generation import GenerationController
from studio.ui.main_window import MainWindow
from tests.ui_helpers import project_on_disk, take_frames

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("VSTUDIO_CONFIG_DIR", str(tmp_path / "config"))


class FakeClient:
    """What JobQueue needs of EngineClient, without a worker process."""

    def __init__(self):
        for name in ("on_ready", "on_progress", "on_preview", "on_done", "on_error", "on_state_changed"):
            setattr(self, name, Event(name))
        self.state = EngineState.READY
        self.info = P.WorkerReady(protocol_version=P.PROTOCOL_VERSION, model_id="toy", checkpoint_hash="abc",
                                  device="cpu", memory_bytes=1 << 30, frames=16, width=32, height=32, fps=8.0)
        self.last_error = None
        self.submitted: list[tuple[str, dict, Path, str]] = []

    def submit(self, job_id, request, out_dir, stem, preview_interval_s=0.0):
        self.submitted.append((job_id, request, Path(out_dir), stem))
        self.state = EngineState.BUSY

    def cancel(self, job_id):
        return True

    def finish(self, tag: int = 99):
        """The worker writes the clip and reports it done."""
        job_id, request, out_dir, stem = self.submitted[-1]
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {"frames": str(out_dir / f"{stem}.npy"), "video": str(out_dir / f"{stem}.mp4"),
                 "poster": str(out_dir / f"{stem}.png"), "metadata": str(out_dir / f"{stem}.json")}
        np.save(files["frames"], take_frames(tag))
        meta = {"seed": request["seed"], "model_id": "toy", "checkpoint_hash": "abc", "frames": 16, "width": 32,
                "height": 32, "fps": 8.0, "timings": {"generate_s": 1.0}, "created": 1.0}
        Path(files["metadata"]).write_text(json.dumps(meta))
        self.state = EngineState.READY
        self.on_done.emit(P.ClipDone(job_id, files, meta))

    def fail(self, message: str, kind: str = "generation"):
        job_id = self.submitted[-1][0]
        self.state = EngineState.READY
        self.on_error.emit(P.JobError(job_id, kind, message))


def make_window(qtbot, doc, **kw) -> MainWindow:
    w = MainWindow(doc, Preferences(), **kw)
    w.ask = lambda *a, **k: QMessageBox.StandardButton.Discard
    qtbot.addWidget(w)
    return w


def show_active(qtbot, w):
    with qtbot.waitActive(w):
        w.show()
        w.activateWindow()


def test_title_shows_project_and_dirty_marker(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    w = make_window(qtbot, doc)
    assert w.windowTitle().startswith("Test[*] — Test.vstudio")
    assert not w.isWindowModified()
    doc.set_params(doc.shot_at(0).id, steps=31)
    assert w.isWindowModified()
    w.act_undo.trigger()
    assert doc.shot_at(0).params.steps == 20 and not w.isWindowModified()
    w.act_redo.trigger()
    assert doc.shot_at(0).params.steps == 31
    assert w.save() and not w.isWindowModified()


def test_stale_edit_shows_in_list_inspector_and_timeline(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    w = make_window(qtbot, doc)
    sid = doc.shot_at(1).id
    doc.set_current_shot(sid)
    w.inspector.guidance.setValue(5.0)
    m = w.shots.model
    assert m.data(m.index(1, 6)) == "stale"
    assert w.inspector.status.text() == "stale"
    QApplication.processEvents()
    assert [c.stale for c in w.timeline.scene.clip_items] == [False, True, False]
    w.act_undo.trigger()
    assert m.data(m.index(1, 6)) == "ready"


def test_generate_without_engine_says_so(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    w = make_window(qtbot, doc)
    doc.set_current_shot(doc.shot_at(0).id)
    w.act_generate.trigger()
    assert "not running" in w.statusBar().currentMessage()


def test_generate_runs_through_the_queue_into_a_new_take(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=2, takes_per_shot=1, on_timeline=False)
    client = FakeClient()
    queue = JobQueue(client, doc.path / "media", doc.path)
    gen = GenerationController(doc, queue)
    w = make_window(qtbot, doc, generation=gen, queue=queue)
    a, b = doc.shot_ids()
    doc.set_params(a, seed_locked=True)  # a locked seed goes to the worker as it is
    w.shots.select_ids([a, b])
    w.act_generate.trigger()
    assert doc.status(a) == ShotStatus.GENERATING  # the engine was idle: the first starts at once
    assert doc.status(b) == ShotStatus.QUEUED
    assert [j.shot_id for j in doc.data.queue] == [a, b]  # the queue is saved with the project
    assert client.submitted[0][1]["seed"] == doc.shot(a).params.seed
    client.finish(tag=77)
    shot = doc.shot(a)
    assert len(shot.takes) == 2
    new = shot.takes[-1]
    assert new.frames_file.startswith("media/") and new.frames == 16
    assert shot.chosen_take == new.id  # the shot had no chosen take: the first result is used
    assert doc.status(a) == ShotStatus.READY
    assert doc.status(b) == ShotStatus.GENERATING
    client.fail("out of memory")
    assert doc.status(b) == ShotStatus.FAILED and doc.shot(b).error == "out of memory"
    QApplication.processEvents()
    assert [s.shot_id for s in w.timeline.scene.spans] == [a]  # the new take is on the timeline


def test_unlocked_seed_rolls_a_new_seed_per_take(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=1)
    client = FakeClient()
    gen = GenerationController(doc, JobQueue(client, doc.path / "media", doc.path))
    sid = doc.shot_ids()[0]
    doc.set_params(sid, seed_locked=False)
    gen.generate([sid])
    client.finish()
    gen.generate([sid])
    seeds = [r["seed"] for _j, r, _o, _s in client.submitted]
    assert len(seeds) == 2 and seeds[0] != seeds[1]  # (equal only with odds of 1 in 2**31)


def test_recovery_is_offered_after_a_crash(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    folder = doc.path
    doc.set_params(doc.shot_at(0).id, prompt="recovered prompt")
    assert doc.autosave_now() is None  # the studio died after this autosave
    from studio.project.document import ProjectDocument

    asked = []
    for answer, expected in ((QMessageBox.StandardButton.No, "a red ball moving left, shot 1"),
                             (QMessageBox.StandardButton.Yes, "recovered prompt")):
        fresh = ProjectDocument()
        w = make_window(qtbot, fresh)
        w.ask = lambda *args, answer=answer: (asked.append(args[1]), answer)[1]
        assert w.open_project(folder, ask=False)
        assert fresh.shot_at(0).params.prompt == expected
    assert asked == ["Recover unsaved work?"] * 2


def test_transport_shortcuts_work_from_anywhere_in_the_window(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    w = make_window(qtbot, doc)
    show_active(qtbot, w)
    doc.set_current_shot(doc.shot_at(0).id)
    assert w.viewer.mode == "shot" and w.player.count == 48  # 2 s take at 24 fps
    w.shots.view.setFocus()
    qtbot.keyClick(w.shots.view, Qt.Key.Key_Right)
    qtbot.keyClick(w.shots.view, Qt.Key.Key_Right)
    assert w.player.position == 2
    qtbot.keyClick(w.shots.view, Qt.Key.Key_I)
    assert w.player.mark_in == 2
    qtbot.keyClick(w.shots.view, Qt.Key.Key_Space)
    assert w.player.playing
    qtbot.keyClick(w.shots.view, Qt.Key.Key_K)
    assert not w.player.playing
    # typing in the prompt keeps its keys: a space is text, not play
    w.inspector.prompt.setFocus()
    qtbot.keyClick(w.inspector.prompt, Qt.Key.Key_Space)
    assert not w.player.playing and w.inspector.prompt.toPlainText() == " a red ball moving left, shot 1"


def test_ruler_scrub_shows_the_film_at_that_time(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    w = make_window(qtbot, doc)
    scene = w.timeline.scene
    scene.seek_to_x(scene.x_of(2.5))
    assert w.viewer.mode == "film"
    assert w.player.count == 144  # 6 s at 24 fps
    assert w.player.position == 60
    assert w.player.timecode_text() == "00:00:02:12"
    frame = w.player.view.image()
    # 2.5 s is 0.5 s into the second take: its frame 4 (red = 40), take tag 20 (green)
    assert frame.pixelColor(frame.width() // 2, frame.height() // 2).green() == pytest.approx(20, abs=3)
    w.player.step(24)
    assert scene.playhead.x() == pytest.approx(scene.x_of(3.5))


def test_main_py_keeps_qt_and_torch_out_of_the_render_path():
    code = ("import sys, main\n"
            "try:\n    rc = main.main(['render', '--help'])\nexcept SystemExit as e:\n    rc = e.code\n"
            "print('RESULT', rc, 'PySide6' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    result = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    if (ROOT / "studio" / "headless.py").exists():
        assert result == ["RESULT 0 False False"], out.stderr  # the renderer's own --help
    else:
        assert result == ["RESULT 1 False False"] and "not built yet" in out.stderr


def test_restore_takes_over_saved_jobs_and_clears_orphaned_states(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=3, on_timeline=False)
    a, b, c = doc.shot_ids()
    client = FakeClient()
    client.state = EngineState.STARTING  # nothing runs until the worker is ready
    queue = JobQueue(client, doc.path / "media", doc.path)
    first = GenerationController(doc, queue)
    first.generate([a])
    doc.mark_queued([c])  # c was queued, but its job is not in the saved queue any more
    assert doc.save() is None
    from studio.project.document import ProjectDocument

    reopened = ProjectDocument()
    assert reopened.open(doc.path) is None
    # opening already set the saved states right (the orphaned queued one is back to draft): clean
    assert [reopened.status(s) for s in (a, b, c)] == [ShotStatus.QUEUED, ShotStatus.DRAFT, ShotStatus.DRAFT]
    assert not reopened.is_dirty()
    gen = GenerationController(reopened, JobQueue(FakeClient(), doc.path / "media", doc.path))
    gen.restore()
    assert [j.shot_id for j in gen.queue.jobs] == [a]
    assert reopened.status(a) == ShotStatus.GENERATING  # the ready fake engine started it
    assert reopened.status(c) == ShotStatus.DRAFT
    assert reopened.status(b) == ShotStatus.DRAFT


def test_export_gets_the_films_in_out_marks(qtbot, tmp_path, monkeypatch):
    from studio.ui.export_dialog import ExportDialog

    opened = []
    monkeypatch.setattr(ExportDialog, "exec", lambda dlg: opened.append(dlg) or 0)
    doc = project_on_disk(tmp_path)  # 3 shots of 2 s: a 6 s film at 24 fps
    w = make_window(qtbot, doc)
    w.viewer.show_film()
    w.player.set_mark_in(48)
    w.player.set_mark_out(132)
    w.export()
    dlg = opened[-1]
    assert dlg.range.isEnabled() and dlg.range.currentText() == "In–Out (00:00:02:00 – 00:00:05:12)"
    assert dlg.span(dlg.settings()) == (48, 133)  # the out frame is shown, so it is exported
    assert dlg.preset.currentText() == "Project (640×360, 24 fps)" and dlg.preferences is w.preferences
    # marks on a shot's take are not the film's: the dialog offers the whole film
    w.viewer.show_shot(doc.shot_at(1).id)
    w.player.set_mark_in(2)
    w.player.set_mark_out(10)
    w.export()
    assert not opened[-1].range.isEnabled() and opened[-1].span(opened[-1].settings()) is None
