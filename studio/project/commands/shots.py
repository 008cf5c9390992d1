"""Shot commands: insert, duplicate, delete, move, edit parameters, edit notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from PySide6.QtGui import QUndoCommand

from studio.errors import StudioError, from_validation
from studio.project.schema import FrameTime, GenParams, Shot, TimelineClip

if TYPE_CHECKING:
    from studio.project.document import ProjectDocument

# QUndoCommand ids: consecutive commands with the same id are offered to mergeWith.
ID_PARAMS, ID_NOTES = 1001, 1002
TEXT_FIELDS = frozenset({"prompt", "negative_prompt"})  # typed into a text box: keystrokes merge


# --- insert / delete / move ------------------------------------------------------------------------
class InsertShots(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shots: list[Shot], row: int, text: str):
        super().__init__(text)
        self.doc, self.shots, self.row = doc, shots, row

    def redo(self) -> None:
        d, n = self.doc, len(self.shots)
        d.shotsAboutToBeInserted.emit(self.row, n)
        d.data.shots[self.row:self.row] = self.shots
        for s in self.shots:
            d._refresh_status(s)
        d.shotsInserted.emit(self.row, n)

    def undo(self) -> None:
        d, n = self.doc, len(self.shots)
        d.shotsAboutToBeRemoved.emit(self.row, n)
        del d.data.shots[self.row:self.row + n]
        d.shotsRemoved.emit(self.row, n)


def duplicate_shots(doc: ProjectDocument, shot_ids: list[str]) -> list[str]:
    rows = sorted(r for r in (doc.row_of(i) for i in shot_ids) if r >= 0)
    if not rows:
        return []
    copies = [Shot(params=doc.data.shots[r].params.model_copy(), notes=doc.data.shots[r].notes,
                   transition=doc.data.shots[r].transition.model_copy()) for r in rows]
    text = "Duplicate shot" if len(copies) == 1 else f"Duplicate {len(copies)} shots"
    doc.undo_stack.push(InsertShots(doc, copies, rows[-1] + 1, text))
    return [c.id for c in copies]


class DeleteShots(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_ids: list[str]):
        super().__init__("Delete shot" if len(shot_ids) == 1 else f"Delete {len(shot_ids)} shots")
        self.doc, self.ids = doc, shot_ids
        self.removed: list[tuple[int, Shot]] = []
        self.clips: list[tuple[int, TimelineClip]] = []

    def redo(self) -> None:
        d = self.doc
        rows = sorted(d.row_of(i) for i in self.ids if d.row_of(i) >= 0)
        self.removed = [(r, d.data.shots[r]) for r in rows]
        gone = {s.id for _, s in self.removed}
        self.clips = [(i, c) for i, c in enumerate(d.data.timeline.clips) if c.shot_id in gone]
        for r in reversed(rows):  # bottom up so earlier rows stay valid
            d.shotsAboutToBeRemoved.emit(r, 1)
            del d.data.shots[r]
            d.shotsRemoved.emit(r, 1)
        if self.clips:
            for i, _ in reversed(self.clips):
                del d.data.timeline.clips[i]
            d.timelineChanged.emit()
        if d.current_shot_id in gone:
            d.set_current_shot("")

    def undo(self) -> None:
        d = self.doc
        for r, shot in self.removed:  # top down restores the original rows
            d.shotsAboutToBeInserted.emit(r, 1)
            d.data.shots.insert(r, shot)
            d.shotsInserted.emit(r, 1)
        if self.clips:
            for i, clip in self.clips:
                d.data.timeline.clips.insert(i, clip)
            d.timelineChanged.emit()


class MoveShots(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_ids: list[str], to_row: int):
        super().__init__("Move shot" if len(shot_ids) == 1 else f"Move {len(shot_ids)} shots")
        self.doc = doc
        self.before = doc.shot_ids()
        moving = set(shot_ids)
        picked = [i for i in self.before if i in moving]
        rest = [i for i in self.before if i not in moving]
        to_row = max(0, min(to_row, len(self.before)))
        k = sum(1 for i in self.before[:to_row] if i not in moving)
        self.after = rest[:k] + picked + rest[k:]

    def changes_anything(self) -> bool:
        return self.after != self.before

    def _apply(self, order: list[str]) -> None:
        d = self.doc
        d.shotsAboutToBeMoved.emit()
        by_id = {s.id: s for s in d.data.shots}
        d.data.shots[:] = [by_id[i] for i in order]
        d.shotsMoved.emit()

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


# --- shot fields ---------------------------------------------------------------------------------
class EditParams(QUndoCommand):
    """New GenParams for some shots. Merges with the next edit of the same text field, same shots."""

    def __init__(self, doc: ProjectDocument, old: dict[str, GenParams], new: dict[str, GenParams],
                 fields: frozenset[str]):
        names = ", ".join(sorted(fields))
        super().__init__(f"Edit {names}" if len(old) == 1 else f"Edit {names} of {len(old)} shots")
        self.doc, self.old, self.new, self.fields = doc, old, new, fields

    def id(self) -> int:
        return ID_PARAMS

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditParams) or other.fields != self.fields or len(self.fields) != 1:
            return False
        if not self.fields <= TEXT_FIELDS or other.old.keys() != self.old.keys():
            return False
        self.new = other.new
        self.setObsolete(all(self.old[i] == self.new[i] for i in self.old))
        return True

    def _apply(self, values: dict[str, GenParams]) -> None:
        for sid, params in values.items():
            shot = self.doc.shot(sid)
            if shot is not None:
                shot.params = params.model_copy()
                self.doc._refresh_status(shot)
                self.doc.shotChanged.emit(sid)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def _duration(value: Any, fps: float, current: FrameTime) -> Any:
    """A duration typed in seconds becomes frames at the project's fps; one that is the same time
    as the shot's keeps the shot's (so retyping it after an fps change does not make it stale)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value  # a FrameTime (or its dict): validated as it is
    try:
        frames = FrameTime.from_seconds(value, fps)
    except ValueError:
        raise StudioError("invalid_value", f"duration: {value!r} is not a number of seconds") from None
    return current if frames.same_time(current) else frames


def push_param_edit(doc: ProjectDocument, shot_ids: list[str], changes: dict[str, Any]) -> StudioError | None:
    """`changes` are GenParams fields; `duration` may be seconds (made at the project's fps)."""
    unknown = sorted(set(changes) - set(GenParams.model_fields))
    if unknown:
        return StudioError("invalid_value", f"unknown shot parameter {unknown[0]!r}")
    old: dict[str, GenParams] = {}
    new: dict[str, GenParams] = {}
    for sid in shot_ids:
        shot = doc.shot(sid)
        if shot is None:
            continue
        fields = dict(changes)
        try:
            if "duration" in fields:
                fields["duration"] = _duration(fields["duration"], doc.settings.fps, shot.params.duration)
            p = GenParams.model_validate({**shot.params.model_dump(), **fields})
        except StudioError as e:
            return e
        except ValidationError as e:
            return from_validation(e)
        if p != shot.params:
            old[sid], new[sid] = shot.params.model_copy(), p
    if new:
        doc.undo_stack.push(EditParams(doc, old, new, frozenset(changes)))
    return None


class SetNotes(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, notes: str):
        super().__init__("Edit notes")
        self.doc, self.shot_id, self.new = doc, shot_id, notes
        self.old = doc.shot(shot_id).notes

    def id(self) -> int:
        return ID_NOTES

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetNotes) or other.shot_id != self.shot_id:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True

    def _apply(self, text: str) -> None:
        shot = self.doc.shot(self.shot_id)
        if shot is not None:
            shot.notes = text
            self.doc.shotChanged.emit(self.shot_id)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)
