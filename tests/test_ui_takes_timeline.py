"""Takes review and the timeline: choose a take → it is on the timeline; trims and transitions
change the assembled duration exactly as the media assembly computes it; reorder by dragging."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from studio.media.assembly import assembled_duration
from studio.media.resolve import segments_from_project
from studio.project.schema import FrameTime, TransitionKind
from studio.ui.media_cache import TakeMediaCache
from studio.ui.take_browser import TakesPanel
from studio.ui.timeline import TimelinePanel
from studio.ui.timeline_items import EDGE_PX
from tests.ui_helpers import project_on_disk


def film_duration(doc) -> float:
    """What an export would run for: the media engineer's assembly over the project's timeline."""
    return assembled_duration(segments_from_project(doc.data, doc.path))


def settle():
    QApplication.processEvents()  # the timeline rebuilds on the next turn of the event loop


# -- takes ---------------------------------------------------------------------------------------------
@pytest.fixture
def takes_setup(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=2, takes_per_shot=3, on_timeline=False)
    media = TakeMediaCache(lambda: doc.path)
    takes = TakesPanel(doc, media)
    timeline = TimelinePanel(doc, media)
    for w in (takes, timeline):
        qtbot.addWidget(w)
        w.resize(900, 420)
        w.show()
    doc.set_current_shot(doc.shot_at(1).id)
    return doc, takes, timeline


def test_cards_show_every_take_playing(qtbot, takes_setup):
    doc, takes, _ = takes_setup
    shot = doc.shot_at(1)
    assert list(takes.cards) == [t.id for t in shot.takes]
    card = takes.cards[shot.takes[0].id]
    assert "seed 2 " in card.info.text() and "20\u00a0steps" in card.info.text()
    assert card.thumb.frames is not None
    before = card.thumb.index
    takes._advance()
    assert card.thumb.index == (before + 1) % len(card.thumb.frames)  # the thumbnail loops


def test_choosing_a_take_puts_it_on_the_timeline(qtbot, takes_setup):
    doc, takes, timeline = takes_setup
    shot = doc.shot_at(1)
    second = shot.takes[1].id
    assert timeline.scene.spans == []
    qtbot.mouseClick(takes.cards[second].use, Qt.MouseButton.LeftButton)
    assert doc.shot(shot.id).chosen_take == second
    settle()
    assert [(s.shot_id, s.take_id) for s in timeline.scene.spans] == [(shot.id, second)]
    assert timeline.scene.duration() == pytest.approx(2.0)
    assert takes.cards[second].use.text() == "✓ In use"
    # choosing the first shot's take lands before it (film order follows the shot list)
    doc.set_current_shot(doc.shot_at(0).id)
    first_take = doc.shot_at(0).takes[2].id
    qtbot.mouseClick(takes.cards[first_take].use, Qt.MouseButton.LeftButton)
    settle()
    assert [s.take_id for s in timeline.scene.spans] == [first_take, second]
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    settle()
    assert timeline.scene.spans == []


def test_rate_delete_and_compare(qtbot, takes_setup):
    doc, takes, _ = takes_setup
    shot = doc.shot_at(1)
    t0, t1, t2 = (t.id for t in shot.takes)
    stars = takes.cards[t1].stars
    qtbot.mouseClick(stars, Qt.MouseButton.LeftButton, pos=QPoint(15 * 3 + 7, 8))  # the 4th star
    assert doc.take(shot.id, t1).rating == 4
    assert takes.cards[t1].stars.rating == 4
    takes.cards[t2].setFocus()
    qtbot.keyClick(takes.cards[t2], Qt.Key.Key_2)
    assert doc.take(shot.id, t2).rating == 2
    pairs = []
    takes.compareRequested.connect(lambda s, a, b: pairs.append((s, a, b)))
    qtbot.mouseClick(takes.cards[t0].a, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(takes.cards[t2].b, Qt.MouseButton.LeftButton)
    assert pairs == [(shot.id, t0, t2)]
    assert takes.cards[t0].thumb.badge == "A"
    qtbot.mouseClick(takes.cards[t2].delete, Qt.MouseButton.LeftButton)
    assert [t.id for t in doc.shot(shot.id).takes] == [t0, t1]
    assert set(takes.cards) == {t0, t1} and takes.compare_b is None
    doc.undo_stack.undo()
    assert set(takes.cards) == {t0, t1, t2}


def test_double_click_asks_to_play(qtbot, takes_setup):
    doc, takes, _ = takes_setup
    got = []
    takes.playRequested.connect(lambda s, t: got.append((s, t)))
    tid = doc.shot_at(1).takes[0].id
    qtbot.mouseDClick(takes.cards[tid], Qt.MouseButton.LeftButton)
    assert got == [(doc.shot_at(1).id, tid)]


# -- timeline ----------------------------------------------------------------------------------------
@pytest.fixture
def film(qtbot, tmp_path):
    """Three 2-second clips, all cuts: a 6-second film."""
    doc = project_on_disk(tmp_path, n_shots=3, takes_per_shot=1)
    panel = TimelinePanel(doc, TakeMediaCache(lambda: doc.path))
    qtbot.addWidget(panel)
    panel.resize(1200, 200)
    with qtbot.waitExposed(panel):
        panel.show()
    panel.scene.set_zoom(100.0)  # 100 px per second: easy arithmetic
    return doc, panel


def view_point(panel, scene_x: float, scene_y: float) -> QPoint:
    return panel.view.mapFromScene(QPointF(scene_x, scene_y))


def drag(qtbot, panel, start: QPoint, end: QPoint) -> None:
    vp = panel.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 5):
        qtbot.mouseMove(vp, start + (end - start) * (k / 4))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    settle()


def test_layout_matches_assembly(qtbot, film):
    doc, panel = film
    spans = panel.scene.spans
    assert [s.start_s for s in spans] == [0.0, 2.0, 4.0]
    assert panel.scene.duration() == pytest.approx(6.0) == pytest.approx(film_duration(doc))
    item = panel.scene.clip_items[1]
    assert item.x() == pytest.approx(panel.scene.x_of(2.0))
    assert item.boundingRect().width() == pytest.approx(200.0)


def test_drag_out_edge_trims_with_the_mouse(qtbot, film):
    doc, panel = film
    sid = doc.clips()[0].shot_id
    item = panel.scene.clip_items[0]
    y = item.y() + 50
    edge = item.x() + item.boundingRect().width() - EDGE_PX / 2
    drag(qtbot, panel, view_point(panel, edge, y), view_point(panel, edge - 50, y))  # 0.5 s left
    clip = doc.clip_for(sid)
    assert clip.out_point == FrameTime(value=36, rate=24.0)  # 1.5 s at the project's 24 fps
    assert panel.scene.duration() == pytest.approx(5.5) == pytest.approx(film_duration(doc))
    assert panel.scene.spans[1].start_s == pytest.approx(1.5)  # the next clip follows
    doc.undo_stack.undo()
    settle()
    assert doc.clip_for(sid).out_point is None
    assert panel.scene.duration() == pytest.approx(6.0)


def test_in_trim_through_the_item_handlers_snaps_to_frames(qtbot, film):
    doc, panel = film
    sid = doc.clips()[2].shot_id
    item = panel.scene.clip_items[2]
    x0 = item.x() + 1
    item.begin_drag(1.0, x0)
    item.drag_to(x0 + 31.0)  # 0.31 s → 0.3125 s at 24 fps (frame 7.44 → 7)
    assert item.preview_in == pytest.approx(7 / 24)
    item.end_drag(x0 + 31.0)
    settle()
    assert doc.clip_for(sid).in_point == FrameTime(value=7, rate=24.0)
    assert panel.scene.duration() == pytest.approx(6.0 - 7 / 24) == pytest.approx(film_duration(doc))
    # a second drag on the same clip is its own undo step
    item = panel.scene.clip_items[2]
    x0 = item.x() + 1
    item.begin_drag(1.0, x0)
    item.end_drag(x0 + 25.0)
    settle()
    assert doc.clip_for(sid).in_point == FrameTime(value=13, rate=24.0)
    doc.undo_stack.undo()
    assert doc.clip_for(sid).in_point == FrameTime(value=7, rate=24.0)


def test_trim_never_goes_past_the_take(qtbot, film):
    doc, panel = film
    sid = doc.clips()[0].shot_id
    item = panel.scene.clip_items[0]
    right = item.x() + item.boundingRect().width() - 1
    item.begin_drag(item.boundingRect().width() - 1, right)
    item.end_drag(right + 500)  # dragging the out point beyond the take's end
    settle()
    assert doc.clip_for(sid).out_point is None  # still the take's end (2 s)
    assert film_duration(doc) == pytest.approx(6.0)


class FakeDialog:
    answer = (TransitionKind.CROSSFADE, 0.5)

    def __init__(self, kind, duration, parent=None):
        self.opened_with = (kind, duration)

    def exec(self):
        return 1

    def values(self):
        return self.answer


@pytest.mark.parametrize("kind, length, expected", [
    (TransitionKind.CROSSFADE, 0.5, 5.5),   # the clips overlap by the crossfade
    (TransitionKind.FADE_BLACK, 1.0, 6.0),  # out to black and in again inside each clip
    (TransitionKind.CUT, 0.0, 6.0),
])
def test_transition_edit_changes_assembled_duration(qtbot, film, kind, length, expected):
    doc, panel = film
    sid = doc.clips()[1].shot_id
    FakeDialog.answer = (kind, length)
    panel.scene.dialog_factory = FakeDialog
    marker = next(i for i in panel.scene.items() if type(i).__name__ == "TransitionItem" and i.span.shot_id == sid)
    centre = marker.mapToScene(marker.boundingRect().center())
    qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=view_point(panel, centre.x(), centre.y()))
    settle()
    assert doc.shot(sid).transition.kind == kind  # the cut into the clip is its shot's
    assert panel.scene.duration() == pytest.approx(expected) == pytest.approx(film_duration(doc))
    if kind == TransitionKind.CROSSFADE:
        assert panel.scene.spans[1].start_s == pytest.approx(1.5)


def test_transition_context_menu_actions(qtbot, film):
    doc, panel = film
    sid = doc.clips()[2].shot_id
    menu = panel.scene.transition_menu(sid)
    crossfade = next(a for a in menu.actions() if a.text() == "Crossfade").menu()
    next(a for a in crossfade.actions() if a.text() == "1 s").trigger()
    settle()
    transition = doc.shot(sid).transition
    assert (transition.kind, transition.duration) == ("crossfade", FrameTime(value=24, rate=24.0))
    assert film_duration(doc) == pytest.approx(5.0) == pytest.approx(panel.scene.duration())
    doc.undo_stack.undo()
    settle()
    assert film_duration(doc) == pytest.approx(6.0) == pytest.approx(panel.scene.duration())


def test_drag_clip_body_reorders(qtbot, film):
    doc, panel = film
    ids = [c.shot_id for c in doc.clips()]
    item = panel.scene.clip_items[0]
    y = item.y() + 50
    start = view_point(panel, item.x() + 100, y)  # the middle of the first clip
    drag(qtbot, panel, start, view_point(panel, panel.scene.x_of(5.5), y))  # past the third's centre
    assert [c.shot_id for c in doc.clips()] == [ids[1], ids[2], ids[0]]
    assert [s.shot_id for s in panel.scene.spans] == [ids[1], ids[2], ids[0]]
    doc.undo_stack.undo()
    settle()
    assert [s.shot_id for s in panel.scene.spans] == ids


def test_ruler_click_seeks_and_zoom_keeps_the_time_under_the_mouse(qtbot, film):
    doc, panel = film
    seeks = []
    panel.scene.seekRequested.connect(seeks.append)
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=view_point(panel, panel.scene.x_of(3.0), 10))
    assert seeks and seeks[-1] == pytest.approx(3.0, abs=0.02)
    assert panel.scene.playhead.x() == pytest.approx(panel.scene.x_of(seeks[-1]))
    panel.view.zoom_by(2.0, anchor_view_x=300)
    assert panel.scene.px_per_s == pytest.approx(200.0)
    t = panel.scene.s_of(panel.view.mapToScene(300, 0).x())
    assert t == pytest.approx(panel.scene.s_of(panel.view.mapToScene(300, 0).x()))
    panel.view.zoom_to_fit()
    assert panel.scene.x_of(panel.scene.duration()) <= panel.view.viewport().width()


def test_crossfaded_clips_sit_edge_to_edge_at_the_cut(qtbot, film):
    doc, panel = film
    sid = doc.clips()[1].shot_id
    doc.set_transition(sid, TransitionKind.CROSSFADE, 1.0)
    settle()
    a, b = panel.scene.clip_items[:2]
    # the film overlaps them by 1 s; on the track each hides 0.5 s under the transition box
    assert panel.scene.spans[1].start_s == pytest.approx(1.0)
    assert a.x() + a.boundingRect().right() == pytest.approx(b.x()) == pytest.approx(panel.scene.x_of(1.5))


def test_delete_key_takes_the_selected_clip_off_the_timeline(qtbot, film):
    doc, panel = film
    sid = doc.clips()[1].shot_id
    doc.set_current_shot(sid)
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)
    settle()
    assert doc.clip_for(sid) is None and doc.shot(sid).takes  # the takes stay with the shot
    assert panel.scene.duration() == pytest.approx(4.0)
    doc.undo_stack.undo()
    settle()
    assert panel.scene.duration() == pytest.approx(6.0)


def test_take_thumbnails_keep_the_takes_shape():
    from PySide6.QtCore import QRectF

    from studio.ui.take_browser import fit_rect

    box = QRectF(0, 0, 128, 128)
    wide = fit_rect(box, 256, 144)
    assert (wide.width(), wide.height()) == (128, 72) and wide.top() == 28  # letterboxed, not squeezed
    tall = fit_rect(box, 144, 256)
    assert (tall.width(), tall.height()) == (72, 128) and tall.left() == 28
    assert fit_rect(box, 32, 32) == box
