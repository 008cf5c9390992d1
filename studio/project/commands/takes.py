"""Take commands: choose, rate, delete; and engine results (added takes), which are not commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from studio.project import choice
from studio.project.commands import emit_shot
from studio.project.schema import Shot, Take, TimelineClip

if TYPE_CHECKING:
    from studio.project.document import ProjectDocument


def apply_choice(doc: ProjectDocument, shot: Shot, take_id: str | None) -> None:
    """Set the chosen take and make the timeline agree (no undo, no signals)."""
    choice.apply_choice(doc.data, shot, take_id)
    doc._refresh_status(shot)


def _restore_choice(doc: ProjectDocument, shot: Shot, take_id: str | None,
                    clip: tuple[int, TimelineClip] | None) -> None:
    """Undo of a choice: the old chosen take and its clip back where they were, replacing any clip
    the shot has now (the engine may have auto-chosen one since). Status is the caller's."""
    shot.chosen_take = take_id
    clips = doc.data.timeline.clips
    idx = doc.clip_index(shot.id)
    if idx >= 0:
        del clips[idx]
    if clip is not None:
        clips.insert(*clip)


# --- commands ------------------------------------------------------------------------------------
class ChooseTake(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, take_id: str | None):
        super().__init__("Choose take" if take_id else "Unchoose take")
        self.doc, self.shot_id, self.take_id = doc, shot_id, take_id
        self.old_choice: str | None = None
        self.old_clip: tuple[int, TimelineClip] | None = None

    def redo(self) -> None:
        d = self.doc
        shot = d.shot(self.shot_id)
        idx = d.clip_index(self.shot_id)
        self.old_choice = shot.chosen_take
        self.old_clip = (idx, d.data.timeline.clips[idx].model_copy(deep=True)) if idx >= 0 else None
        apply_choice(d, shot, self.take_id)
        emit_shot(d, self.shot_id, takes=True, timeline=True)

    def undo(self) -> None:
        d = self.doc
        shot = d.shot(self.shot_id)
        _restore_choice(d, shot, self.old_choice, self.old_clip)
        d._refresh_status(shot)
        emit_shot(d, self.shot_id, takes=True, timeline=True)


class RateTake(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, take_id: str, rating: int):
        super().__init__("Rate take")
        self.doc, self.shot_id, self.take_id, self.new = doc, shot_id, take_id, rating
        self.old = doc.take(shot_id, take_id).rating

    def _apply(self, rating: int) -> None:
        take = self.doc.take(self.shot_id, self.take_id)
        if take is not None:
            take.rating = rating
            self.doc.takesChanged.emit(self.shot_id)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class DeleteTake(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, take_id: str):
        super().__init__("Delete take")
        self.doc, self.shot_id, self.take_id = doc, shot_id, take_id
        self.saved: tuple[int, Take, str | None, tuple[int, TimelineClip] | None] | None = None

    def redo(self) -> None:
        d = self.doc
        shot = d.shot(self.shot_id)
        i = next(k for k, t in enumerate(shot.takes) if t.id == self.take_id)
        cidx = d.clip_index(self.shot_id)
        clip = (cidx, d.data.timeline.clips[cidx]) if cidx >= 0 else None
        self.saved = (i, shot.takes[i], shot.chosen_take, clip)
        del shot.takes[i]
        was_chosen = shot.chosen_take == self.take_id
        if was_chosen:
            apply_choice(d, shot, None)
        emit_shot(d, self.shot_id, takes=True, timeline=was_chosen)

    def undo(self) -> None:
        d = self.doc
        shot = d.shot(self.shot_id)
        i, take, chosen, clip = self.saved
        shot.takes.insert(i, take)
        was_chosen = chosen == self.take_id
        if was_chosen:
            _restore_choice(d, shot, chosen, clip)
        d._refresh_status(shot)
        emit_shot(d, self.shot_id, takes=True, timeline=was_chosen)


def add_engine_take(doc: ProjectDocument, shot_id: str, take: Take, choose: bool | None) -> bool:
    """Not a command: engine results are work done, kept outside undo (see document.py)."""
    shot = doc.shot(shot_id)
    if shot is None:
        return False
    picked = choice.add_take(doc.data, shot, take, choose)
    if picked is None:
        return True  # reported twice (e.g. after an engine restart): already there
    doc._mark_extra_dirty()
    emit_shot(doc, shot_id, takes=True, timeline=picked)
    return True
