"""Editing on the timeline: dragging a clip (trim an edge, move the body) and the scene's edit
actions (trim, move, remove, transitions). Every edit is one document call, one undo step; the
scene is rebuilt from the document afterwards.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QMenu

from studio.project.schema import TransitionKind
from studio.ui.labels import TRANSITION_NAMES
from studio.ui.timeline_spans import MIN_CLIP_S


class ClipInteraction:
    """Mixed into `timeline_items.ClipItem`: a drag previews on the item and edits on release."""

    # -- interaction (the mouse events call these; tests may too) ----------------------------------
    def begin_drag(self, local_x: float, scene_x: float) -> None:
        self.mode = self.edge_at(local_x) or "move"
        self._press_x = scene_x
        self.preview_in, self.preview_out = self.span.in_s, self.span.out_s
        if self.mode == "move":
            self.setZValue(50)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.tl.clip_clicked(self.span.shot_id)

    def drag_to(self, scene_x: float) -> None:
        dx = scene_x - self._press_x
        ds = dx / self.tl.px_per_s
        s = self.span
        self.prepareGeometryChange()
        if self.mode == "in":
            self.preview_in = self.tl.snap(min(max(s.in_s + ds, 0.0), s.out_s - MIN_CLIP_S))
        elif self.mode == "out":
            self.preview_out = self.tl.snap(min(max(s.out_s + ds, s.in_s + MIN_CLIP_S), s.take_s))
        elif self.mode == "move":
            self.setX(self.home_x() + dx)
            self.tl.show_drop_marker(self.drop_index())
        self.update()

    def end_drag(self, scene_x: float) -> None:
        self.drag_to(scene_x)
        mode, self.mode = self.mode, None
        self.tl.show_drop_marker(None)
        if mode == "in" and abs(self.preview_in - self.span.in_s) > 1e-6:
            self.tl.commit_trim(self.span.shot_id, self.preview_in, self._out_or_none(self.span.out_s))
        elif mode == "out" and abs(self.preview_out - self.span.out_s) > 1e-6:
            self.tl.commit_trim(self.span.shot_id, self.span.in_s, self._out_or_none(self.preview_out))
        elif mode == "move":
            index = self.drop_index()
            if index != self.span.index:
                self.tl.commit_move(self.span.shot_id, index)
                return
            self.setX(self.home_x())
            self.setZValue(10 + self.span.index)
        self.prepareGeometryChange()
        self.update()

    def _out_or_none(self, out_s: float) -> float | None:
        # A clip running to the end of its take keeps `None`, so a longer regenerated take is not cut.
        return None if abs(out_s - self.span.take_s) < 1e-6 else out_s

    def drop_index(self) -> int:
        """Where this clip lands if dropped now: after every other clip whose centre is left of
        its centre."""
        centre = self.x() + self._width() / 2
        others = [c for c in self.tl.clip_items if c is not self]
        return sum(1 for c in others if c.x() + c._width() / 2 < centre)

    def hoverMoveEvent(self, e):  # noqa: N802
        edge = self.edge_at(e.pos().x())
        self.setCursor(Qt.CursorShape.SizeHorCursor if edge else Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, e):  # noqa: N802
        if e.button() != Qt.MouseButton.LeftButton:
            e.ignore()
            return
        self.begin_drag(e.pos().x(), e.scenePos().x())

    def mouseMoveEvent(self, e):  # noqa: N802
        if self.mode:
            self.drag_to(e.scenePos().x())

    def mouseReleaseEvent(self, e):  # noqa: N802
        if self.mode:
            self.end_drag(e.scenePos().x())
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, e):  # noqa: N802
        self.tl.clipActivated.emit(self.span.shot_id)

    def contextMenuEvent(self, e):  # noqa: N802
        self.tl.clip_clicked(self.span.shot_id)
        self.tl.clipContextMenu.emit(self.span.shot_id, e.screenPos())


class TimelineEdits:
    """Mixed into `timeline_scene.TimelineScene`: what the items and the view ask of the document."""

    # -- actions (all edits go to the document) ----------------------------------------------------
    def seek_to_x(self, x: float) -> None:
        seconds = min(max(self.s_of(x), 0.0), self.duration())
        self.set_playhead(seconds)
        self.seekRequested.emit(seconds)

    def clip_clicked(self, shot_id: str) -> None:
        self.doc.set_current_shot(shot_id)
        self.update()

    def commit_trim(self, shot_id: str, in_s: float, out_s: float | None) -> None:
        # A drag is committed once, on release: its own undo step, never merged with the last drag.
        if self.doc.clip_for(shot_id) is None:
            return
        err = self.doc.trim_clip(shot_id, in_s, out_s, merge=False)
        if err is not None:
            self.editFailed.emit(err.message)
            QTimer.singleShot(0, self.rebuild)  # not now: the dragged item is still in its event

    def remove_current_clip(self) -> None:
        """Take the selected clip off the timeline (its shot keeps its takes; undoable)."""
        sid = self.current_shot_id
        if sid and self.doc.clip_for(sid) is not None:
            self.doc.choose_take(sid, None)

    def commit_move(self, shot_id: str, index: int) -> None:
        self.doc.move_clip(shot_id, index)

    def set_transition(self, shot_id: str, kind: TransitionKind, duration: float | None = None) -> None:
        err = self.doc.set_transition(shot_id, kind, duration)
        if err is not None:
            self.editFailed.emit(err.message)

    def edit_transition(self, shot_id: str) -> None:
        shot = self.doc.shot(shot_id)  # the cut into a clip is its shot's
        if shot is None or self.doc.clip_for(shot_id) is None:
            return
        views = self.views()
        dlg = self.dialog_factory(TransitionKind(shot.transition.kind), shot.transition.duration.seconds,
                                  views[0] if views else None)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            kind, duration = dlg.values()
            self.set_transition(shot_id, kind, duration)

    def transition_menu(self, shot_id: str) -> QMenu:
        shot = self.doc.shot(shot_id)
        transition = shot.transition if shot is not None and self.doc.clip_for(shot_id) is not None else None
        menu = QMenu()
        current = TransitionKind(transition.kind) if transition else TransitionKind.CUT
        for kind, name in TRANSITION_NAMES.items():
            if kind == TransitionKind.CUT:
                a = menu.addAction(name, lambda k=kind: self.set_transition(shot_id, k, 0.0))
                a.setCheckable(True)
                a.setChecked(current == kind)
                continue
            sub = menu.addMenu(name)
            for d in (0.25, 0.5, 1.0, 2.0):
                a = sub.addAction(f"{d:g} s", lambda k=kind, d=d: self.set_transition(shot_id, k, d))
                a.setCheckable(True)
                a.setChecked(current == kind and transition is not None
                             and abs(transition.duration.seconds - d) < 1e-6)
        menu.addSeparator()
        menu.addAction("Edit…", lambda: self.edit_transition(shot_id))
        self._menu = menu  # keep alive while shown
        return menu

