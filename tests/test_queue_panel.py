"""The queue dock (offscreen): it shows the queue's jobs, state, progress, ETA and preview, and its
buttons act on the queue. The engine is a stub the test drives; the queue is the real one."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import StubClient
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from studio.engine.queue import JobQueue
from studio.project.schema import GenParams, JobState, at_fps
from studio.ui.queue_panel import QueuePanel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def setup(qtbot, tmp_path):
    client = StubClient()
    queue = JobQueue(client, tmp_path / "media")
    window = QMainWindow()
    panel = QueuePanel(queue, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    qtbot.addWidget(window)
    window.show()
    yield client, queue, panel
    window.close()  # keeps `window` (and the dock it owns) alive until the test is over


def test_rows_follow_the_queue_and_show_estimates(setup):
    client, queue, panel = setup
    a = queue.enqueue("s1", GenParams(prompt="a red ball at sunset", steps=20))
    b = queue.enqueue("s2", GenParams(prompt="a blue box", steps=20, duration=at_fps(4.0)))
    assert [r.job_id for r in panel.rows()] == [a.id, b.id]
    row = panel.row(a.id)
    assert row.title_label.text() == "a red ball at sunset"
    assert row.state_label.text() == "Queued" and row.eta_label.text() == ""  # no calibration yet
    assert panel.status_label.text() == "Engine stopped"
    client.ready(sec_per_step=0.5, peak_memory_bytes=300 << 20)  # a starts running; b waits
    assert panel.row(b.id).eta_label.text() == "≈ 30 s · 300.0 MB"  # 0.5 s × 20 steps × 3 clips
    assert panel.status_label.text().startswith("Engine busy")
    # a is running: it has no place in line to change; b waits and can move up
    assert not panel.row(a.id).up_button.isEnabled() and not panel.row(a.id).down_button.isEnabled()
    assert panel.row(b.id).up_button.isEnabled()


def test_running_job_shows_progress_eta_and_a_playing_preview(setup, qtbot):
    client, queue, panel = setup
    client.ready()
    job = queue.enqueue("s1", GenParams(prompt="a panda", steps=10))
    row = panel.row(job.id)
    client.progress(4, 10, eta=12.4)
    assert row.state_label.text() == "Generating · step 4/10"
    assert row.progress_bar.value() == 400
    assert row.eta_label.text() == "12 s left"
    frames = np.zeros((4, 32, 32, 3), np.uint8)
    for t in range(4):
        frames[t, :, :, t % 3] = 60 * (t + 1)  # each frame a different colour
    client.preview(4, 10, frames)
    assert row.preview_label.pixmap() is not None and not row.preview_label.pixmap().isNull()
    assert panel.preview_playing
    first = row.preview_label.pixmap().toImage().pixelColor(10, 10)
    qtbot.waitUntil(lambda: row.preview_label.pixmap().toImage().pixelColor(10, 10) != first, timeout=2000)
    client.done()
    assert row.state_label.text() == "Done" and row.progress_bar.value() == 1000
    assert not panel.preview_playing


def test_cancel_button_cancels_the_running_job(setup, qtbot):
    client, queue, panel = setup
    client.ready()
    job = queue.enqueue("s1", GenParams(prompt="a star", steps=10))
    row = panel.row(job.id)
    client.progress(1, 10)
    assert row.cancel_button.isEnabled() and not row.retry_button.isEnabled()
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert client.cancelled == [job.id]
    assert row.state_label.text() == "Cancelling…" and not row.cancel_button.isEnabled()
    client.error("cancelled", "cancelled")  # the worker acknowledges
    assert job.state == JobState.CANCELLED
    assert row.state_label.text() == "Cancelled" and row.retry_button.isEnabled()
    qtbot.mouseClick(row.retry_button, Qt.MouseButton.LeftButton)
    assert job.state == JobState.RUNNING and len(client.submitted) == 2


def test_cancel_queued_and_move_buttons(setup, qtbot):
    client, queue, panel = setup
    a, b, c = (queue.enqueue(f"s{i}", GenParams(prompt=f"shot {i}")) for i in range(3))
    qtbot.mouseClick(panel.row(c.id).up_button, Qt.MouseButton.LeftButton)
    assert [j.id for j in queue.jobs] == [a.id, c.id, b.id]
    assert [r.job_id for r in panel.rows()] == [a.id, c.id, b.id]
    layout_order = [panel._list_layout.itemAt(i).widget().job_id for i in range(3)]
    assert layout_order == [a.id, c.id, b.id]
    qtbot.mouseClick(panel.row(a.id).down_button, Qt.MouseButton.LeftButton)
    assert [j.id for j in queue.jobs] == [c.id, a.id, b.id]
    qtbot.mouseClick(panel.row(b.id).cancel_button, Qt.MouseButton.LeftButton)
    assert b.state == JobState.CANCELLED and panel.row(b.id).state_label.text() == "Cancelled"
    client.ready()
    assert client.submitted[0].job_id == c.id


def test_failure_reason_is_shown(setup):
    client, queue, panel = setup
    client.ready()
    job = queue.enqueue("s1", GenParams(prompt="a car"))
    client.error("worker_died", "worker died (exit code -9)")  # retried once by itself
    assert job.state == JobState.RUNNING
    client.error("worker_died", "worker died (exit code -9)")
    assert panel.row(job.id).state_label.text() == "Failed: worker died (exit code -9)"


def test_removed_jobs_lose_their_rows_and_errors_show_one_line(setup):
    client, queue, panel = setup
    a = queue.enqueue("s1", GenParams(prompt="a"))
    queue.cancel(a.id)
    queue.remove(a.id)
    assert panel.rows() == [] and panel.row(a.id) is None
    b = queue.enqueue("s2", GenParams(prompt="b"))
    client.ready()
    client.done()
    panel.retry(b.id)  # a done job cannot be retried: the panel says why, in one line
    assert panel.message_label.isVisibleTo(panel) and "only a failed or cancelled job" in panel.message_label.text()


def _on_screen(panel) -> list[str]:
    """Job ids in the order the rows are laid out."""
    lay = panel._list_layout
    return [lay.itemAt(i).widget().job_id for i in range(lay.count()) if lay.itemAt(i).widget() is not None]


def test_the_running_job_leads_finished_ones_trail_and_can_be_cleared(setup):
    client, queue, panel = setup
    client.ready()
    jobs = [queue.enqueue(f"s{i}", GenParams(prompt=f"shot {i}")) for i in range(4)]
    client.done()  # s0 done, s1 running
    client.error("internal", "x")  # s1 failed, s2 running
    assert _on_screen(panel) == [jobs[2].id, jobs[3].id, jobs[1].id, jobs[0].id]
    assert panel.clear_button.isEnabled()
    panel.clear_button.click()
    assert [j.id for j in queue.jobs] == [jobs[2].id, jobs[3].id] and _on_screen(panel) == [jobs[2].id, jobs[3].id]
    assert not panel.clear_button.isEnabled()


def test_a_finished_job_after_a_restart_shows_its_clips_poster(qtbot, tmp_path):
    import cv2

    from studio.project.schema import Job

    client = StubClient()
    queue = JobQueue(client, tmp_path / "media")
    done = Job(shot_id="s1", params=GenParams(prompt="x"), state=JobState.DONE, progress=1.0)
    (tmp_path / "media").mkdir()
    poster = np.zeros((64, 64, 3), np.uint8)
    poster[..., 2] = 255  # red in BGR
    cv2.imwrite(str(tmp_path / "media" / f"{queue.stem_for(done)}.png"), poster)
    queue.restore_queue([done])  # no live preview: the studio was restarted
    window = QMainWindow()
    panel = QueuePanel(queue, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    qtbot.addWidget(window)
    image = panel.row(done.id).preview_label.pixmap().toImage()
    assert not image.isNull() and image.pixelColor(image.width() // 2, image.height() // 2).red() > 200


def test_quitting_with_jobs_asks(qtbot, tmp_path):
    from studio.project.document import ProjectDocument
    from studio.ui.main_window import MainWindow

    client = StubClient()
    queue = JobQueue(client, tmp_path / "media")
    window = MainWindow(ProjectDocument(), queue=queue)
    qtbot.addWidget(window)
    queue.enqueue("s1", GenParams(prompt="x"))
    asked = []
    window.ask = lambda *a, **k: asked.append(a[2]) or a[-1]  # the default button: Cancel
    assert not window.close() and "1 job is still queued" in asked[0]
    queue.clear_finished()
    queue.cancel(queue.jobs[0].id)
    assert window.close()
