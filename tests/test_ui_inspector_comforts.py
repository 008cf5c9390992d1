"""The inspector and the player as an editor uses them (issue 17, items 2 and 4): the generation
settings are on screen without scrolling, "Generate N takes" asks for N takes, Duration tells a
trimmed clip's real length, a locked seed warns before repeating a take, and marking in/out never
moves the panels."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.engine.queue import JobQueue
from studio.project.preferences import Preferences
from studio.ui.generation import GenerationController
from studio.ui.inspector import Inspector
from studio.ui.main_window import MainWindow
from studio.ui.media_cache import TakeMediaCache
from studio.ui.theme import STYLESHEET
from studio.ui.timeline import TimelinePanel
from tests.test_ui_main_window import FakeClient
from tests.ui_helpers import project_on_disk


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("VSTUDIO_CONFIG_DIR", str(tmp_path / "config"))


def default_window(qtbot, doc) -> MainWindow:
    """The window a new user gets: the engine's render queue docked under the inspector, the
    studio's stylesheet, the default size (which fits a 1600×1000 screen)."""
    client = FakeClient()
    queue = JobQueue(client, doc.path / "media", doc.path)
    w = MainWindow(doc, Preferences(), generation=GenerationController(doc, queue), queue=queue)
    w.ask = lambda *a, **k: QMessageBox.StandardButton.Discard
    w.setStyleSheet(STYLESHEET)
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    qtbot.wait(100)  # the docks settle on the next turns of the event loop
    assert w.width() <= 1600 and w.height() <= 1000
    return w


def fully_shown(widget, viewport) -> bool:
    """The whole widget is painted on screen: inside the scroll area's viewport, nothing clipped."""
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    inside = viewport.rect().contains(QRect(top_left, widget.size()))
    return widget.isVisible() and inside and widget.visibleRegion().boundingRect() == widget.rect()


def generation_widgets(ins: Inspector) -> list:
    return [ins.seed, ins.dice, ins.seed_locked, ins.seed_note, ins.steps, ins.guidance, ins.sampler,
            ins.takes, ins.generate_takes]


def test_generation_settings_are_on_screen_without_scrolling(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    w = default_window(qtbot, doc)
    ins = w.inspector
    viewport = ins.scroll.viewport()
    assert w.queue_dock is not None and w.queue_dock.isVisible()
    assert ins.scroll.verticalScrollBar().value() == 0
    assert all(fully_shown(x, viewport) for x in generation_widgets(ins))
    assert fully_shown(ins.duration, viewport)
    assert not fully_shown(ins.notes, viewport)  # the check can fail: the notes are further down
    # Still so with the "parameters changed" warning over the form (a stale shot).
    ins.steps.setValue(ins.steps.value() + 5)
    qtbot.wait(50)
    assert ins.status.text() == "stale" and not ins.stale_note.isHidden()
    assert all(fully_shown(x, viewport) for x in generation_widgets(ins))


def test_generate_n_takes_asks_for_n_takes_of_the_shot(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=2, takes_per_shot=1)
    queue = JobQueue(FakeClient(), doc.path / "media", doc.path)
    generation = GenerationController(doc, queue)
    ins = Inspector(doc)
    qtbot.addWidget(ins)
    ins.show()
    sid = doc.shot_at(1).id
    doc.set_current_shot(sid)
    # the line the main window uses to connect it
    ins.generateTakesRequested.connect(lambda n: generation.generate([doc.current_shot_id], takes=n))
    ins.takes.setFocus()
    ins.takes.selectAll()
    qtbot.keyClicks(ins.takes, "4")
    assert ins.generate_takes.text() == "Generate 4 takes"
    assert "rolls its own random seed" in ins.generate_takes.toolTip()
    with qtbot.waitSignal(ins.generateTakesRequested) as got:
        qtbot.mouseClick(ins.generate_takes, Qt.MouseButton.LeftButton)
    assert got.args == [4]
    jobs = queue.snapshot()
    assert len(jobs) == 4 and {j.shot_id for j in jobs} == {sid}

    qtbot.mouseClick(ins.seed_locked, Qt.MouseButton.LeftButton)  # locked: the seeds count up
    seed = doc.shot(sid).params.seed
    assert f"seeds {seed}, {seed + 1}, …" in ins.generate_takes.toolTip()
    ins.takes.setValue(2)
    assert ins.generate_takes.text() == "Generate 2 takes"
    qtbot.mouseClick(ins.generate_takes, Qt.MouseButton.LeftButton)
    assert [j.params.seed for j in queue.snapshot()[4:]] == [seed, seed + 1]


def test_a_trimmed_clip_shows_its_length_beside_duration(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)  # 2-second takes, untrimmed, Duration 2 s
    ins = Inspector(doc)
    timeline = TimelinePanel(doc, TakeMediaCache(lambda: doc.path))
    for x in (ins, timeline):
        qtbot.addWidget(x)
    timeline.resize(1200, 200)
    timeline.show()
    timeline.scene.set_zoom(100.0)  # 100 px per second
    sid = doc.shot_at(0).id
    doc.set_current_shot(sid)
    assert ins.duration.text() == "2.00 s" and ins.timeline_length.text() == ""

    item = timeline.scene.clip_items[0]  # drag its out edge 0.5 s to the left
    right = item.x() + item.boundingRect().width() - 1
    item.begin_drag(item.boundingRect().width() - 1, right)
    item.end_drag(right - 50)
    QApplication.processEvents()
    assert ins.timeline_length.text() == "· 1.50 s on the timeline"
    assert "0.00 s to 1.50 s" in ins.timeline_length.toolTip()
    assert ins.duration.text() == "2.00 s"  # what the next take is asked for is unchanged

    item = timeline.scene.clip_items[0]  # and its in edge 0.25 s to the right
    item.begin_drag(1.0, item.x() + 1)
    item.end_drag(item.x() + 26)
    QApplication.processEvents()
    assert ins.timeline_length.text() == "· 1.25 s on the timeline"
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert ins.timeline_length.text() == ""
    # a longer Duration than the take that was made: the timeline's length is said too
    ins.duration.setValue(3.0)
    assert ins.timeline_length.text() == "· 2.00 s on the timeline"


def test_a_locked_seed_warns_before_repeating_a_take(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=1, takes_per_shot=1)  # take 1 made with the shot's settings
    ins = Inspector(doc)
    qtbot.addWidget(ins)
    ins.show()
    doc.set_current_shot(doc.shot_at(0).id)
    assert ins.seed_note.text() == "Unlocked: each take rolls a new seed"
    qtbot.mouseClick(ins.seed_locked, Qt.MouseButton.LeftButton)
    assert ins.seed_note.text() == "Locked: the next take repeats take 1"
    ins.steps.setFocus()
    ins.steps.selectAll()
    qtbot.keyClicks(ins.steps, "30")
    qtbot.keyClick(ins.steps, Qt.Key.Key_Return)
    assert "repeats" not in ins.seed_note.text()
    assert ins.seed_note.text() == "Locked: takes count up from seed 1"
    doc.undo_stack.undo()  # the same steps again: the same frames again
    assert ins.seed_note.text() == "Locked: the next take repeats take 1"
    qtbot.mouseClick(ins.dice, Qt.MouseButton.LeftButton)  # a new seed makes new frames
    assert "repeats" not in ins.seed_note.text()


def test_marking_in_and_out_leaves_every_panel_where_it_was(qtbot, tmp_path):
    doc = project_on_disk(tmp_path)
    w = default_window(qtbot, doc)
    panels = [w.shots_dock, w.inspector_dock, w.timeline_dock, w.queue_dock, w.player, w.takes]

    def geometry():
        qtbot.wait(100)
        return [p.geometry() for p in panels]

    before = geometry()
    w.player.seek(3)
    w.act_in.trigger()
    w.player.seek(40)
    w.act_out.trigger()
    assert "IN 00:00:00:03" in w.player.marks_label.text()
    assert "OUT 00:00:01:" in w.player.marks_label.text()
    assert geometry() == before
    w.act_l.trigger()  # shuttling shows its speed
    w.act_l.trigger()
    assert w.player.speed_label.text() != ""
    w.act_k.trigger()
    assert geometry() == before
    w.act_clear_marks.trigger()
    assert w.player.marks_label.text() == ""
    assert geometry() == before


def test_the_inspectors_generate_takes_button_queues_them_in_the_window(qtbot, tmp_path):
    from engine_helpers import StubClient

    from studio.engine.queue import JobQueue
    from studio.ui.generation import GenerationController
    from studio.ui.main_window import MainWindow
    from tests.ui_helpers import project_on_disk

    doc = project_on_disk(tmp_path, n_shots=2, takes_per_shot=1, on_timeline=False)
    queue = JobQueue(StubClient(), doc.path / "media", doc.path)
    window = MainWindow(doc, generation=GenerationController(doc, queue), queue=queue)
    qtbot.addWidget(window)
    second = doc.shot_ids()[1]
    doc.set_current_shot(second)
    window.inspector.generateTakesRequested.emit(3)
    assert [j.shot_id for j in queue.jobs] == [second] * 3
    from PySide6.QtWidgets import QMessageBox

    for job in queue.pending():  # nothing left to ask about when the window closes
        queue.cancel(job.id)
    window.ask = lambda *a, **k: QMessageBox.StandardButton.Discard
