"""ProjectDocument: every edit undoes and redoes exactly, status rules, timeline, files, signals."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from project_helpers import SAMPLE_CSV, SAMPLE_JSON, make_take, sample_project
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from studio.project import store
from studio.project.document import AUTOSAVE_INTERVAL_MS, ProjectDocument
from studio.project.schema import FrameTime, GenParams, ProjectData, ShotStatus, TransitionKind, at_fps
from studio.project.status import ENGINE_STATES, derive_status, derived_status


def dump(doc: ProjectDocument) -> dict:
    return doc.data.model_dump()


def check_invariants(doc: ProjectDocument) -> None:
    """What every widget may assume: a clip exactly for each chosen take, statuses derived."""
    chosen = {s.id: s.chosen_take for s in doc.data.shots if s.chosen_take is not None}
    assert {c.shot_id: c.take_id for c in doc.clips()} == chosen
    assert len(doc.clips()) == len(chosen)
    for s in doc.data.shots:
        assert s.status == derive_status(s)
        if s.status not in ENGINE_STATES:
            assert s.status == derived_status(s)


def check_undo_redo(doc: ProjectDocument, before: dict, after: dict) -> None:
    """Undo gives back `before` exactly, redo gives `after` exactly (twice, to catch stale state)."""
    for _ in range(2):
        doc.undo_stack.undo()
        assert dump(doc) == before
        check_invariants(doc)
        doc.undo_stack.redo()
        assert dump(doc) == after
        check_invariants(doc)


def prompts(doc):
    return [s.params.prompt for s in doc.data.shots]


@pytest.fixture
def doc(qtbot):
    d = ProjectDocument()
    d.add_shots([GenParams(prompt=p) for p in "abcde"])
    d.undo_stack.clear()
    return d


def test_add_shots_undo_redo(doc):
    before = dump(doc)
    new_id = doc.add_shot(GenParams(prompt="x", steps=33), row=2)
    assert prompts(doc) == ["a", "b", "x", "c", "d", "e"]
    assert doc.shot(new_id).params.steps == 33 and doc.row_of(new_id) == 2
    check_undo_redo(doc, before, dump(doc))
    # no params: the document's defaults (set by the app from the user's settings)
    doc.default_params = GenParams(steps=7, guidance=5.0)
    sid = doc.add_shot()
    assert doc.shot_at(doc.shot_count() - 1).id == sid and doc.shot(sid).params.steps == 7


def test_duplicate_shots_undo_redo(doc):
    ids = doc.shot_ids()
    doc.set_notes(ids[1], "keep me")
    before = dump(doc)
    copies = doc.duplicate_shots([ids[3], ids[1]])
    assert prompts(doc) == ["a", "b", "c", "d", "b", "d", "e"]  # after the last selected, in list order
    assert doc.shot(copies[0]).notes == "keep me" and doc.shot(copies[0]).takes == []
    assert len(set(doc.shot_ids())) == 7  # fresh ids
    check_undo_redo(doc, before, dump(doc))


def test_delete_shots_undo_redo(doc):
    ids = doc.shot_ids()
    before = dump(doc)
    doc.delete_shots([ids[0], ids[2], ids[4]])
    assert prompts(doc) == ["b", "d"]
    check_undo_redo(doc, before, dump(doc))


@pytest.mark.parametrize(
    ("picked", "to_row", "expected"),
    [
        ([1, 3], 0, "bdace"),  # multi-select to the top
        ([0, 1], 5, "cdeab"),  # to the end
        ([4], 2, "abecd"),  # up
        ([0, 2, 4], 4, "bdace"),  # scattered selection, dropped before the last shot
    ],
)
def test_move_shots_undo_redo(doc, picked, to_row, expected):
    ids = doc.shot_ids()
    before = dump(doc)
    doc.move_shots([ids[i] for i in picked], to_row)
    assert "".join(prompts(doc)) == expected
    check_undo_redo(doc, before, dump(doc))


def test_move_that_changes_nothing_is_not_an_undo_step(doc):
    ids = doc.shot_ids()
    doc.move_shots([ids[1], ids[2]], 1)
    assert doc.undo_stack.count() == 0


def test_edit_params_of_several_shots_undo_redo(doc):
    ids = doc.shot_ids()
    before = dump(doc)
    assert doc.set_params(ids[1:3], steps=40, camera="zooms in") is None
    assert [s.params.steps for s in doc.data.shots] == [20, 40, 40, 20, 20]
    assert doc.shot(ids[2]).params.camera == "zooms in"
    check_undo_redo(doc, before, dump(doc))


def test_typing_merges_into_one_undo_step(doc):
    sid = doc.shot_ids()[0]
    before = dump(doc)
    for text in ("a r", "a re", "a red", "a red ball"):
        doc.set_params(sid, prompt=text)
    assert doc.undo_stack.count() == 1
    after = dump(doc)
    check_undo_redo(doc, before, after)
    # another field starts a new step; so does the same field on another shot
    doc.set_params(sid, steps=30)
    doc.set_params(doc.shot_ids()[1], prompt="other")
    assert doc.undo_stack.count() == 3
    # typing back to the original text leaves nothing to undo
    doc2 = ProjectDocument()
    s2 = doc2.add_shot(GenParams(prompt="x"))
    doc2.undo_stack.clear()
    doc2.set_params(s2, prompt="xy")
    doc2.set_params(s2, prompt="x")
    assert doc2.undo_stack.count() == 0 and not doc2.is_dirty()


def test_invalid_param_changes_nothing(doc):
    before = dump(doc)
    err = doc.set_params(doc.shot_ids(), steps=0)
    assert err is not None and "steps" in err.message and "\n" not in err.message
    err = doc.set_params(doc.shot_ids(), colour="red")
    assert err is not None and "colour" in err.message
    assert dump(doc) == before and doc.undo_stack.count() == 0


def test_notes_merge_and_undo(doc):
    sid = doc.shot_ids()[0]
    before = dump(doc)
    for text in ("n", "no", "not", "note"):
        doc.set_notes(sid, text)
    assert doc.undo_stack.count() == 1 and doc.shot(sid).notes == "note"
    check_undo_redo(doc, before, dump(doc))


# --- takes, status and the timeline -----------------------------------------------------------------
def add_takes(doc, sid, n=2, frames=16):
    shot = doc.shot(sid)
    takes = [make_take(shot.params, k, frames=frames) for k in range(n)]
    for t in takes:
        assert doc.add_take(sid, t)
    return takes


def test_engine_takes_are_not_undo_steps_but_dirty_the_document(doc):
    sid = doc.shot_ids()[0]
    doc.mark_queued([sid])
    assert doc.shot(sid).status == ShotStatus.QUEUED
    doc.mark_generating(sid)
    assert doc.status(sid) == ShotStatus.GENERATING
    takes = add_takes(doc, sid)
    assert doc.undo_stack.count() == 0 and doc.is_dirty()
    # the first take is chosen automatically, so the timeline fills as shots render
    assert doc.shot(sid).chosen_take == takes[0].id
    assert [(c.shot_id, c.take_id) for c in doc.clips()] == [(sid, takes[0].id)]
    assert doc.shot(sid).status == ShotStatus.READY
    other = doc.shot_ids()[1]
    doc.mark_failed(other, "out of memory")
    assert doc.shot(other).status == ShotStatus.FAILED and doc.shot(other).error == "out of memory"
    doc.clear_engine_status([other])
    assert doc.shot(other).status == ShotStatus.DRAFT and doc.shot(other).error == ""
    assert not doc.add_take("no such shot", takes[0])


def test_stale_when_params_change_and_ready_again_on_undo(doc):
    sid = doc.shot_ids()[0]
    add_takes(doc, sid)
    assert doc.shot(sid).status == ShotStatus.READY and not doc.is_stale(sid)
    doc.set_params(sid, seed=99)
    assert doc.is_stale(sid) and doc.shot(sid).status == ShotStatus.STALE
    doc.undo_stack.undo()
    assert not doc.is_stale(sid) and doc.shot(sid).status == ShotStatus.READY
    doc.undo_stack.redo()
    assert doc.shot(sid).status == ShotStatus.STALE
    # editing back by hand to the take's params is ready again, too
    doc.set_params(sid, seed=0)
    assert doc.shot(sid).status == ShotStatus.READY
    # seed_locked does not change pixels: not stale
    doc.set_params(sid, seed_locked=False)
    assert doc.shot(sid).status == ShotStatus.READY
    # choosing a take made with the current params un-stales, undoing the choice re-stales
    doc.set_params(sid, prompt="something else")
    assert doc.status(sid) == ShotStatus.STALE
    fresh = make_take(doc.shot(sid).params, 7)
    doc.add_take(sid, fresh)  # not chosen: the shot has a chosen take already
    assert doc.status(sid) == ShotStatus.STALE
    doc.choose_take(sid, fresh.id)
    assert doc.status(sid) == ShotStatus.READY
    doc.undo_stack.undo()
    assert doc.status(sid) == ShotStatus.STALE


def test_choose_take_puts_the_clip_on_the_timeline(doc):
    a, b, c = doc.shot_ids()[:3]
    ta = add_takes(doc, a)
    tc = add_takes(doc, c)
    tb = [make_take(doc.shot(b).params, 5), make_take(doc.shot(b).params, 6)]
    for t in tb:
        doc.add_take(b, t, choose=False)
    assert [cl.shot_id for cl in doc.clips()] == [a, c]
    before = dump(doc)
    doc.choose_take(b, tb[1].id)
    # the clip lands in shot order (the cut into it is the shot's transition)
    assert [(cl.shot_id, cl.take_id) for cl in doc.clips()] == [(a, ta[0].id), (b, tb[1].id), (c, tc[0].id)]
    check_undo_redo(doc, before, dump(doc))
    # choosing another take of the same shot updates its clip in place, keeping the trim
    doc.trim_clip(b, 0.5, 1.5)
    doc.choose_take(b, tb[0].id)
    clip = doc.clip_for(b)
    assert (clip.take_id, clip.in_point, clip.out_point) == (tb[0].id, at_fps(0.5), at_fps(1.5))
    assert doc.clip_index(b) == 1
    # un-choosing removes the clip
    before = dump(doc)
    doc.choose_take(b, None)
    assert doc.clip_for(b) is None and doc.shot(b).status == ShotStatus.DRAFT
    check_undo_redo(doc, before, dump(doc))


def test_rate_and_delete_take_undo_redo(doc):
    sid = doc.shot_ids()[0]
    takes = add_takes(doc, sid, 3)
    before = dump(doc)
    doc.rate_take(sid, takes[1].id, 4)
    assert doc.take(sid, takes[1].id).rating == 4
    check_undo_redo(doc, before, dump(doc))
    before = dump(doc)
    doc.delete_take(sid, takes[0].id)  # the chosen one: the clip goes too
    assert [t.id for t in doc.shot(sid).takes] == [takes[1].id, takes[2].id]
    assert doc.shot(sid).chosen_take is None and doc.clip_for(sid) is None
    check_undo_redo(doc, before, dump(doc))


def test_undo_delete_take_after_the_engine_chose_another(doc):
    sid = doc.shot_ids()[0]
    first = add_takes(doc, sid, 1)[0]
    before = dump(doc)
    doc.delete_take(sid, first.id)
    late = make_take(doc.shot(sid).params, 9)
    doc.add_take(sid, late)  # arrives while nothing is chosen: chosen automatically
    assert doc.clip_for(sid).take_id == late.id
    doc.undo_stack.undo()
    assert doc.shot(sid).chosen_take == first.id and doc.clip_for(sid).take_id == first.id
    assert [t.id for t in doc.shot(sid).takes] == [first.id, late.id]
    check_invariants(doc)
    assert dump(doc)["timeline"] == before["timeline"]


def test_delete_shot_takes_its_clip_and_undo_restores_both(doc):
    ids = doc.shot_ids()
    for sid in ids[:3]:
        add_takes(doc, sid, 1)
    doc.move_clip(ids[0], 2)
    before = dump(doc)
    doc.delete_shots([ids[0], ids[1]])
    assert [c.shot_id for c in doc.clips()] == [ids[2]]
    check_undo_redo(doc, before, dump(doc))


def test_timeline_reorder_trim_and_transition(doc):
    ids = doc.shot_ids()
    for sid in ids[:3]:
        add_takes(doc, sid, 1, frames=16)  # 2 s at 8 fps
    before = dump(doc)
    doc.move_clip(ids[2], 0)
    assert [c.shot_id for c in doc.clips()] == [ids[2], ids[0], ids[1]]
    check_undo_redo(doc, before, dump(doc))

    before = dump(doc)
    for out in (1.9, 1.8, 1.6):  # dragging the out handle: one undo step
        assert doc.trim_clip(ids[1], 0.25, out) is None
    assert doc.undo_stack.count() == 2
    clip = doc.clip_for(ids[1])
    # seconds in, exact frames at the project's 24 fps stored: 1.6 s is 38.4 frames, 38 kept
    assert (clip.in_point, clip.out_point) == (FrameTime(value=6, rate=24.0), FrameTime(value=38, rate=24.0))
    check_undo_redo(doc, before, dump(doc))
    for bad in ((-1, None), (1.0, 0.5), (0.0, 2.5), (2.0, None), (0.5, 0.51), (float("nan"), None)):
        err = doc.trim_clip(ids[1], *bad)
        assert err is not None and "\n" not in err.message
    assert doc.clip_for(ids[1]).out_point == FrameTime(value=38, rate=24.0)
    assert doc.trim_clip(ids[4], 0, 1) is not None  # no clip yet

    before = dump(doc)
    assert doc.set_transition(ids[1], "crossfade", 0.75) is None
    assert doc.shot(ids[1]).transition.kind == TransitionKind.CROSSFADE
    assert doc.shot(ids[1]).transition.duration == FrameTime(value=18, rate=24.0)
    check_undo_redo(doc, before, dump(doc))
    doc.set_transition(ids[1], "cut")
    assert doc.shot(ids[1]).transition.duration.value == 0
    assert doc.set_transition(ids[1], "wipe") is not None
    assert doc.set_transition(ids[1], "crossfade", 99) is not None
    assert doc.set_transition(ids[1], "crossfade", -1) is not None
    # a transition set before any take exists is the one its clip uses once a take is chosen
    doc.set_transition(ids[4], "fade_black", 1.0)
    add_takes(doc, ids[4], 1)
    assert doc.clip_for(ids[4]) is not None and doc.shot(ids[4]).transition.kind == TransitionKind.FADE_BLACK
    assert "transition" not in dump(doc)["timeline"]["clips"][0]  # stored once, on the shot


def test_times_typed_in_seconds_are_frames_at_the_project_rate(doc):
    sid = doc.shot_ids()[0]
    assert doc.set_params(sid, duration=2.5) is None
    assert doc.shot(sid).params.duration == FrameTime(value=60, rate=24.0)
    assert doc.set_params(sid, duration=0.01) is not None  # less than a frame
    assert doc.set_params(sid, duration=float("inf")) is not None
    add_takes(doc, sid, 1)
    doc.set_project_settings(fps=30)
    # the same time typed again keeps the shot's frames: not a change, not stale
    count = doc.undo_stack.count()
    assert doc.set_params(sid, duration=2.5) is None
    assert doc.undo_stack.count() == count and doc.status(sid) == ShotStatus.READY
    assert doc.set_params(sid, duration=2.1) is None
    assert doc.shot(sid).params.duration == FrameTime(value=63, rate=30.0)
    assert doc.status(sid) == ShotStatus.STALE
    assert doc.trim_clip(sid, 0.1, 1.0) is None
    assert doc.clip_for(sid).in_point == FrameTime(value=3, rate=30.0)
    assert doc.set_transition(sid, "crossfade", 0.2) is None
    assert doc.shot(sid).transition.duration == FrameTime(value=6, rate=30.0)


def test_an_out_point_at_the_end_of_a_take_off_the_project_grid_stays_inside_it(doc):
    sid = doc.shot_ids()[0]
    doc.set_project_settings(fps=25)
    add_takes(doc, sid, 1, frames=15)  # 1.875 s at 8 fps: 46.875 frames at 25 fps
    assert doc.trim_clip(sid, 0.0, 1.875) is None
    assert doc.clip_for(sid).out_point == FrameTime(value=46, rate=25.0)  # not 47, past the end
    assert doc.trim_clip(sid, 0.0, 1.9) is not None


def test_trim_without_merge_starts_its_own_undo_step(doc):
    sid = doc.shot_ids()[0]
    add_takes(doc, sid, 1, frames=16)  # 2 s at 8 fps
    doc.undo_stack.clear()
    assert doc.trim_clip(sid, 0.0, 1.8, merge=False) is None  # one drag, committed on release
    assert doc.trim_clip(sid, 0.0, 1.5, merge=False) is None  # a second drag: not merged into it
    assert doc.undo_stack.count() == 2
    assert doc.trim_clip(sid, 0.0, 1.25) is None  # a live update merges into the drag's step
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    assert doc.clip_for(sid).out_point == at_fps(1.8)
    doc.undo_stack.undo()
    assert doc.clip_for(sid).out_point is None


def test_title_and_project_settings_undo(doc):
    before = dump(doc)
    doc.set_title("Night market")
    assert doc.set_project_settings(fps=30, width=640, height=360) is None
    assert doc.settings.fps == 30 and doc.title == "Night market"
    assert doc.set_project_settings(fps=0) is not None
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert dump(doc) == before


def test_import_storyboard_append_and_replace(qtbot, doc):
    before = dump(doc)
    assert doc.import_storyboard(SAMPLE_CSV) is None
    assert doc.shot_count() == 12 and prompts(doc)[:5] == list("abcde")
    assert doc.shot_at(6).transition.kind == TransitionKind.CROSSFADE
    check_undo_redo(doc, before, dump(doc))
    doc.undo_stack.undo()
    assert doc.import_storyboard(SAMPLE_JSON, replace=True) is None
    assert doc.title == "Lantern festival" and doc.shot_count() == 7
    check_undo_redo(doc, before, dump(doc))
    with qtbot.waitSignal(doc.errorOccurred) as sig:
        err = doc.import_storyboard(SAMPLE_JSON.with_name("missing.json"))
    assert err is not None and sig.args[0] == "storyboard"


# --- files -----------------------------------------------------------------------------------------------
def test_save_reopen_round_trip_and_dirty_state(qtbot, tmp_path):
    doc = ProjectDocument()
    assert doc.new(tmp_path / "film") is None
    assert doc.path.name == "film.vstudio" and not doc.is_dirty() and doc.title == "film"
    with qtbot.waitSignal(doc.dirtyChanged) as sig:
        doc.import_storyboard(SAMPLE_JSON)
    assert sig.args == [True]
    for sid in doc.shot_ids()[:4]:
        add_takes(doc, sid, 2)
    doc.set_params(doc.shot_ids()[0], steps=31)  # stale
    doc.trim_clip(doc.shot_ids()[1], 0.5, None)
    with qtbot.waitSignal(doc.dirtyChanged) as sig:
        assert doc.save() is None
    assert sig.args == [False]
    other = ProjectDocument()
    assert other.open(doc.path) is None
    assert other.data.model_dump() == doc.data.model_dump()
    assert other.shot(doc.shot_ids()[0]).status == ShotStatus.STALE
    # undo back to the saved state is clean again
    doc.set_title("changed")
    assert doc.is_dirty()
    doc.undo_stack.undo()
    assert not doc.is_dirty()


def test_autosave_timer_and_recovery_after_crash(qtbot, tmp_path):
    doc = ProjectDocument()
    doc.new(tmp_path / "film")
    doc.import_storyboard(SAMPLE_JSON)
    doc.save()
    assert AUTOSAVE_INTERVAL_MS == 60_000
    assert not doc._autosave.isActive()  # clean: no autosave
    doc.set_title("after the save")
    assert doc._autosave.isActive() and doc._autosave.interval() == 60_000
    with qtbot.waitSignal(doc.autosaved):
        doc._autosave.timeout.emit()  # what the timer does after 60 s
    # nothing changed since: the next tick writes nothing; a merged typing edit is a change
    with qtbot.assertNotEmitted(doc.autosaved):
        doc._autosave.timeout.emit()
    sid = doc.shot_ids()[0]
    doc.set_params(sid, prompt="a red lantern")
    doc.set_params(sid, prompt="a red lantern rising")  # merges into the step before
    with qtbot.waitSignal(doc.autosaved):
        doc._autosave.timeout.emit()
    edited = doc.data.model_dump()
    # crash: the document is dropped without saving; a new session finds the autosave
    assert ProjectDocument.recovery_available(doc.path)
    fresh = ProjectDocument()
    with qtbot.waitSignal(fresh.recoveryAvailable) as sig:
        assert fresh.open(doc.path) is None
    assert sig.args == [str(doc.path)] and fresh.title == "Lantern festival"
    assert fresh.open(doc.path, recover=True) is None
    assert fresh.data.model_dump() == edited and fresh.is_dirty()
    assert fresh.save() is None
    assert not ProjectDocument.recovery_available(doc.path)
    assert store.open_project(doc.path).title == "after the save"
    assert not fresh._autosave.isActive()


def test_failed_open_keeps_the_current_project(qtbot, tmp_path):
    doc = ProjectDocument(sample_project())
    before = dump(doc)
    bad = tmp_path / "bad.vstudio"
    bad.mkdir()
    (bad / "project.json").write_text('{"schema_version": 9}')
    with qtbot.waitSignal(doc.errorOccurred) as sig:
        err = doc.open(bad)
    assert err.kind == "project_too_new" and sig.args[0] == "project_too_new"
    assert dump(doc) == before and doc.path is None
    assert doc.save() is not None  # no folder yet: an error value, not an exception
    assert doc.save_as(tmp_path / "good") is None and doc.path.name == "good.vstudio"
    assert not doc.is_dirty()


# --- binding: the row signals drive a Qt table model correctly ----------------------------------------------
class ShotTable(QAbstractTableModel):
    """What D2's model does: forward the document's signal pairs to begin*/end*."""

    def __init__(self, doc):
        super().__init__()
        self.doc = doc
        doc.shotsAboutToBeInserted.connect(lambda r, n: self.beginInsertRows(QModelIndex(), r, r + n - 1))
        doc.shotsInserted.connect(lambda r, n: self.endInsertRows())
        doc.shotsAboutToBeRemoved.connect(lambda r, n: self.beginRemoveRows(QModelIndex(), r, r + n - 1))
        doc.shotsRemoved.connect(lambda r, n: self.endRemoveRows())
        doc.shotsAboutToBeReset.connect(self.beginResetModel)
        doc.shotsReset.connect(self.endResetModel)
        doc.shotsAboutToBeMoved.connect(self.layoutAboutToBeChanged.emit)
        doc.shotsMoved.connect(self.layoutChanged.emit)

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self.doc.shot_count()

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 2

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            shot = self.doc.shot_at(index.row())
            return shot.params.prompt if index.column() == 0 else str(shot.status)
        return None


def test_row_signals_keep_a_table_model_consistent(qtbot, qtmodeltester, doc):
    model = ShotTable(doc)
    qtmodeltester.check(model)
    ids = doc.shot_ids()
    rows_seen = []
    doc.shotsInserted.connect(lambda r, n: rows_seen.append(("ins", r, n)))
    doc.shotsRemoved.connect(lambda r, n: rows_seen.append(("del", r, n)))
    doc.add_shots([GenParams(prompt="x"), GenParams(prompt="y")], row=1)
    doc.delete_shots([ids[0], ids[3]])
    doc.move_shots([ids[4]], 0)
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.duplicate_shots([ids[1]])
    doc.import_storyboard(SAMPLE_JSON, replace=True)
    doc.undo_stack.undo()
    assert rows_seen[:3] == [("ins", 1, 2), ("del", 5, 1), ("del", 0, 1)]  # d sits at row 5 after the insert
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == prompts(doc)
    qtmodeltester.check(model)


def test_shot_and_timeline_signals(qtbot, doc):
    sid = doc.shot_ids()[0]
    with qtbot.waitSignal(doc.shotChanged) as sig:
        doc.set_params(sid, steps=12)
    assert sig.args == [sid]
    with qtbot.waitSignals([doc.takesChanged, doc.timelineChanged, doc.shotChanged]):
        add_takes(doc, sid, 1)
    with qtbot.waitSignal(doc.timelineChanged):
        doc.trim_clip(sid, 0.5, None)
    with qtbot.waitSignal(doc.currentShotChanged) as sig:
        doc.set_current_shot(sid)
    assert sig.args == [sid]
    with qtbot.waitSignal(doc.currentShotChanged) as sig:
        doc.delete_shots([sid])
    assert sig.args == [""]


def test_load_data_resets_everything(qtbot):
    doc = ProjectDocument()
    doc.add_shot()
    with qtbot.waitSignals([doc.shotsAboutToBeReset, doc.shotsReset, doc.titleChanged]):
        doc.load_data(sample_project(), None)
    assert doc.undo_stack.count() == 0 and not doc.is_dirty()
    assert isinstance(doc.data, ProjectData) and doc.shot_count() == 3


# --- random edit sequences: undo walks back through every state, redo forward again ------------------------
OPS = st.lists(st.tuples(st.sampled_from(
    ["add", "dup", "del", "move", "param", "text", "notes", "choose", "unchoose", "rate", "deltake",
     "clip", "trim", "transition", "title"]), st.integers(0, 1000), st.integers(0, 1000)), max_size=14)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_edits_undo_and_redo_exactly(qtbot, ops):
    doc = ProjectDocument(sample_project(n_shots=4, takes_per_shot=3))
    states = {doc.undo_stack.index(): dump(doc)}
    for op, a, b in ops:
        ids = doc.shot_ids()
        sid = ids[a % len(ids)] if ids else None
        shot = doc.shot(sid) if sid else None
        take = shot.takes[b % len(shot.takes)] if shot and shot.takes else None
        if op == "add":
            doc.add_shot(GenParams(prompt=f"new {a}"), row=b % (len(ids) + 1))
        elif op == "dup" and ids:
            doc.duplicate_shots(ids[a % len(ids)::3])
        elif op == "del" and ids:
            doc.delete_shots(ids[a % len(ids)::2])
        elif op == "move" and ids:
            doc.move_shots(ids[a % len(ids)::2], b % (len(ids) + 1))
        elif op == "param" and ids:
            doc.set_params(ids[:1 + a % len(ids)], steps=1 + b % 50, seed=a)
        elif op == "text" and sid:
            doc.set_params(sid, prompt=shot.params.prompt + "x")
        elif op == "notes" and sid:
            doc.set_notes(sid, shot.notes + "n")
        elif op == "choose" and take:
            doc.choose_take(sid, take.id)
        elif op == "unchoose" and sid:
            doc.choose_take(sid, None)
        elif op == "rate" and take:
            doc.rate_take(sid, take.id, b % 6)
        elif op == "deltake" and take:
            doc.delete_take(sid, take.id)
        elif op == "clip" and doc.clips():
            doc.move_clip(doc.clips()[a % len(doc.clips())].shot_id, b)
        elif op == "trim" and doc.clips():
            doc.trim_clip(doc.clips()[a % len(doc.clips())].shot_id, (b % 10) / 10, 1.0 + (a % 10) / 10)
        elif op == "transition" and sid:
            doc.set_transition(sid, ["cut", "crossfade", "fade_black"][b % 3], 0.1 + (a % 20) / 10)
        elif op == "title":
            doc.set_title(f"title {a}")
        check_invariants(doc)
        states[doc.undo_stack.index()] = dump(doc)  # a merged edit replaces its step's state
    final = doc.undo_stack.index()
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
        assert dump(doc) == states[doc.undo_stack.index()]
        check_invariants(doc)
    assert dump(doc) == states[0] and not doc.is_dirty()
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
        assert dump(doc) == states[doc.undo_stack.index()]
    assert doc.undo_stack.index() == final


def test_set_queue_persists_jobs_and_skips_no_change(qtbot, doc):
    from studio.project.schema import Job

    jobs = [Job(shot_id=doc.shot_ids()[0], params=doc.shot_at(0).params)]
    with qtbot.waitSignal(doc.queueChanged):
        doc.set_queue(jobs)
    assert doc.data.queue == jobs and doc.is_dirty() and doc.undo_stack.count() == 0
    with qtbot.assertNotEmitted(doc.queueChanged):
        doc.set_queue(list(jobs))
