"""Shot list and inspector, driven as a user would: add, duplicate, delete, reorder, edit, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from studio.project.document import ProjectDocument
from studio.project.schema import ShotStatus
from studio.project.storyboard import load_storyboard
from studio.ui import shot_list as sl
from studio.ui import shot_table_model as cols
from studio.ui.inspector import Inspector
from studio.ui.media_cache import TakeMediaCache
from tests.project_helpers import SAMPLE_JSON
from tests.ui_helpers import project_on_disk


@pytest.fixture
def doc(qtbot):
    d = ProjectDocument(load_storyboard(SAMPLE_JSON))
    return d


def make_panel(qtbot, doc):
    panel = sl.ShotListPanel(doc, TakeMediaCache(lambda: doc.path))
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    with qtbot.waitActive(panel):  # shortcuts need an active window
        panel.show()
        panel.activateWindow()
    return panel


def prompts(doc):
    return [s.params.prompt for s in doc.data.shots]


def click_row(qtbot, panel, row, modifier=Qt.KeyboardModifier.NoModifier):
    view = panel.view
    rect = view.visualRect(panel.model.index(row, cols.COL_PROMPT))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def tool_button(panel, action):
    from PySide6.QtWidgets import QToolButton

    return next(b for b in panel.findChildren(QToolButton) if b.defaultAction() is action)


def test_rows_show_the_shots(qtbot, doc):
    panel = make_panel(qtbot, doc)
    m = panel.model
    assert m.rowCount() == 7
    assert m.data(m.index(0, cols.COL_NUM)) == "1"
    assert m.data(m.index(0, cols.COL_PROMPT)).startswith("wide shot of a red lantern")
    assert m.data(m.index(0, cols.COL_DURATION)) == "3 s"
    assert m.data(m.index(0, cols.COL_STATUS)) == "draft"
    # Size and camera: what the prompt says, until they are set on the shot
    assert m.data(m.index(0, cols.COL_SIZE)) == "Wide"
    assert m.data(m.index(0, cols.COL_CAMERA)) == "Tilt up"


def test_add_shot_after_selection_with_undo_redo(qtbot, doc):
    panel = make_panel(qtbot, doc)
    click_row(qtbot, panel, 1)
    assert doc.current_shot_id == doc.shot_at(1).id
    qtbot.mouseClick(tool_button(panel, panel.act_add), Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == 8
    new_id = doc.shot_at(2).id
    assert doc.shot_at(2).params.prompt == ""
    assert panel.selected_ids() == [new_id]  # the new shot is selected, ready to type
    assert panel.model.data(panel.model.index(2, cols.COL_NUM)) == "3"
    doc.undo_stack.undo()
    assert panel.model.rowCount() == 7 and doc.shot(new_id) is None
    doc.undo_stack.redo()
    assert panel.model.rowCount() == 8 and doc.row_of(new_id) == 2


def test_duplicate_with_ctrl_d_and_delete_with_del(qtbot, doc):
    panel = make_panel(qtbot, doc)
    click_row(qtbot, panel, 0)
    click_row(qtbot, panel, 2, Qt.KeyboardModifier.ControlModifier)  # multi-select
    assert len(panel.selected_ids()) == 2
    before = prompts(doc)
    qtbot.keyClick(panel.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert prompts(doc) == before[:3] + [before[0], before[2]] + before[3:]
    assert len(panel.selected_ids()) == 2  # the copies
    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)
    assert prompts(doc) == before
    doc.undo_stack.undo()  # undo the delete
    assert len(prompts(doc)) == 9
    doc.undo_stack.undo()  # undo the duplicate
    assert prompts(doc) == before


def test_reorder_with_keys_and_by_drop(qtbot, doc):
    panel = make_panel(qtbot, doc)
    ids = doc.shot_ids()
    click_row(qtbot, panel, 0)
    qtbot.keyClick(panel.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert doc.shot_ids() == [ids[1], ids[0]] + ids[2:]
    assert panel.selected_ids() == [ids[0]]  # the selection follows the moved shot
    assert panel.view.currentIndex().row() == 1
    doc.undo_stack.undo()
    assert doc.shot_ids() == ids
    # drag rows 0 and 1 and drop them before row 4 (an internal move)
    m = panel.model
    mime = m.mimeData([m.index(0, 0), m.index(1, 0)])
    m.dropMimeData(mime, Qt.DropAction.MoveAction, 4, 0, QModelIndex())
    assert doc.shot_ids() == [ids[2], ids[3], ids[0], ids[1]] + ids[4:]
    assert m.rowCount() == 7  # nothing was deleted by the view
    doc.undo_stack.undo()
    assert doc.shot_ids() == ids


def test_cell_edits_go_through_the_document(qtbot, doc):
    panel = make_panel(qtbot, doc)
    m = panel.model
    assert m.setData(m.index(3, cols.COL_DURATION), 4.5)
    assert doc.shot_at(3).params.duration.seconds == 4.5
    assert m.setData(m.index(3, cols.COL_SIZE), "close-up")
    assert m.data(m.index(3, cols.COL_SIZE)) == "Close-up"
    assert not m.setData(m.index(3, cols.COL_DURATION), -1.0)  # refused by the document, nothing changes
    assert doc.shot_at(3).params.duration.seconds == 4.5
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.shot_at(3).params.duration.seconds == 3.0


def test_generate_actions_emit_the_kind(qtbot, doc):
    panel = make_panel(qtbot, doc)
    got = []
    panel.generateRequested.connect(got.append)
    click_row(qtbot, panel, 0)
    panel.act_gen_selected.trigger()
    panel.act_gen_stale.trigger()
    panel.act_gen_all.trigger()
    assert got == ["selected", "stale", "all"]
    assert panel.stale_ids() == doc.shot_ids()  # no takes yet: every shot needs one


# -- inspector ---------------------------------------------------------------------------------------
def make_inspector(qtbot, doc):
    ins = Inspector(doc)
    qtbot.addWidget(ins)
    ins.resize(380, 800)
    with qtbot.waitExposed(ins):
        ins.show()
    return ins


def test_inspector_typing_edits_prompt_in_one_undo_step(qtbot, doc):
    ins = make_inspector(qtbot, doc)
    sid = doc.shot_at(2).id
    doc.set_current_shot(sid)
    original = doc.shot(sid).params.prompt
    assert ins.prompt.toPlainText() == original
    ins.prompt.setFocus()
    ins.prompt.moveCursor(ins.prompt.textCursor().MoveOperation.End)
    qtbot.keyClicks(ins.prompt, " at dusk")
    assert doc.shot(sid).params.prompt == original + " at dusk"
    doc.undo_stack.undo()  # the whole typed run is one step
    assert doc.shot(sid).params.prompt == original
    assert ins.prompt.toPlainText() == original  # the widget follows the document
    doc.undo_stack.redo()
    assert ins.prompt.toPlainText() == original + " at dusk"


def test_inspector_unknown_words_are_listed_and_underlined(qtbot, doc):
    ins = make_inspector(qtbot, doc)
    doc.set_current_shot(doc.shot_at(0).id)
    ins.prompt.selectAll()
    qtbot.keyClicks(ins.prompt, "a red dragon at night")
    qtbot.waitUntil(lambda: "dragon" in ins.unknown.text(), timeout=2000)
    assert ins.highlighter.words == ["dragon"]
    block = ins.prompt.document().firstBlock()
    formats = block.layout().formats()
    underlined = [(f.start, f.length) for f in formats if f.format.underlineStyle() != f.format.UnderlineStyle.NoUnderline]
    assert underlined == [(len("a red "), len("dragon"))]


def test_inspector_edits_mark_stale_and_undo_makes_ready(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=2)
    ins = make_inspector(qtbot, doc)
    sid = doc.shot_at(0).id
    doc.set_current_shot(sid)
    assert ins.status.text() == "ready" and ins.stale_note.isHidden()
    ins.steps.setFocus()
    ins.steps.selectAll()
    qtbot.keyClicks(ins.steps, "35")
    qtbot.keyClick(ins.steps, Qt.Key.Key_Return)
    assert doc.shot(sid).params.steps == 35
    assert doc.status(sid) == ShotStatus.STALE
    assert ins.status.text() == "stale" and not ins.stale_note.isHidden()
    doc.undo_stack.undo()
    assert doc.shot(sid).params.steps == 20
    assert ins.status.text() == "ready" and ins.stale_note.isHidden()


def test_inspector_seed_dice_lock_mode_and_notes(qtbot, doc):
    ins = make_inspector(qtbot, doc)
    sid = doc.shot_at(1).id
    doc.set_current_shot(sid)
    seed = doc.shot(sid).params.seed
    qtbot.mouseClick(ins.dice, Qt.MouseButton.LeftButton)
    assert doc.shot(sid).params.seed != seed
    assert ins.seed.value() == doc.shot(sid).params.seed
    qtbot.mouseClick(ins.seed_locked, Qt.MouseButton.LeftButton)
    assert doc.shot(sid).params.seed_locked is False
    assert ins.reference.isHidden()
    ins.mode.setCurrentIndex(ins.mode.findData("i2v"))
    ins.mode.activated.emit(ins.mode.currentIndex())
    assert doc.shot(sid).params.mode == "i2v"
    assert not ins.reference.isHidden() and ins.strength.isHidden()
    ins.notes.setFocus()
    qtbot.keyClicks(ins.notes, "hold on the lantern")
    assert doc.shot(sid).notes == "hold on the lantern"
    doc.undo_stack.undo()
    assert doc.shot(sid).notes == "" and ins.notes.toPlainText() == ""
    doc.undo_stack.undo()  # mode
    assert ins.mode.currentData() == "t2v" and ins.reference.isHidden()


def test_inspector_transition_in_is_a_document_edit(qtbot, doc):
    ins = make_inspector(qtbot, doc)
    sid = doc.shot_at(2).id
    doc.set_current_shot(sid)
    ins.transition.setCurrentIndex(ins.transition.findData("fade_black"))
    ins.transition.activated.emit(ins.transition.currentIndex())
    assert doc.shot(sid).transition.kind == "fade_black"
    assert doc.shot(sid).transition.duration.value > 0
    assert ins.transition_length.isEnabled()
    doc.undo_stack.undo()
    assert doc.shot(sid).transition.kind == "cut"
    QApplication.processEvents()
    assert ins.transition.currentData() == "cut"


def test_reference_media_is_kept_inside_the_project(qtbot, tmp_path):
    from studio.ui.media_picker import project_relative

    folder = tmp_path / "P.vstudio"
    (folder / "media").mkdir(parents=True)
    inside = folder / "media" / "ref.png"
    inside.write_bytes(b"png")
    assert project_relative(folder, inside, "references") == "media/ref.png"
    outside = tmp_path / "elsewhere" / "look.png"
    outside.parent.mkdir()
    outside.write_bytes(b"look")
    assert project_relative(folder, outside, "references") == "media/references/look.png"
    assert project_relative(folder, outside, "references") == "media/references/look-1.png"  # never overwrites
    assert (folder / "media/references/look.png").read_bytes() == b"look"
    assert not [p for p in (folder / "media/references").iterdir() if p.name.startswith(".import-")]


def test_picking_a_reference_image_sets_a_project_relative_path(qtbot, tmp_path):
    doc = project_on_disk(tmp_path, n_shots=1)
    ins = make_inspector(qtbot, doc)
    sid = doc.shot_ids()[0]
    doc.set_current_shot(sid)
    picture = tmp_path / "board.png"
    picture.write_bytes(b"png")
    ins.mode.setCurrentIndex(ins.mode.findData("i2v"))
    ins.mode.activated.emit(ins.mode.currentIndex())
    ins.reference.dialog = lambda: str(picture)  # the file dialog's answer
    qtbot.mouseClick(ins.reference.browse, Qt.MouseButton.LeftButton)
    assert doc.shot(sid).params.reference_image == "media/references/board.png"
    assert ins.reference.path.text() == "media/references/board.png"
    qtbot.mouseClick(ins.reference.clear, Qt.MouseButton.LeftButton)
    assert doc.shot(sid).params.reference_image is None
