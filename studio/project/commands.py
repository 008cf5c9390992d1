"""Undo commands for ProjectDocument: every user edit is one of these on the document's QUndoStack.

Commands address shots and takes by id and capture the state they replace when they *run* (not
when they are made), because engine results (new takes, status) change the data outside the undo
stack in between. Each command emits the document's signals for exactly what it changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from PySide6.QtGui import QUndoCommand

from studio.errors import StudioError, from_validation
from studio.project import choice
from studio.project.schema import (
    GenParams,
    ProjectData,
    ProjectSettings,
    Shot,
    Take,
    TimelineClip,
    Transition,
    TransitionKind,
)

if TYPE_CHECKING:
    from studio.project.document import ProjectDocument

# QUndoCommand ids: consecutive commands with the same id are offered to mergeWith.
ID_PARAMS, ID_NOTES, ID_TRIM = 1001, 1002, 1003
TEXT_FIELDS = frozenset({"prompt", "negative_prompt"})  # typed into a text box: keystrokes merge


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


def _emit_shot(doc: ProjectDocument, shot_id: str, takes: bool = False, timeline: bool = False) -> None:
    doc.shotChanged.emit(shot_id)
    if takes:
        doc.takesChanged.emit(shot_id)
    if timeline:
        doc.timelineChanged.emit()


# --- shots: insert / delete / move ---------------------------------------------------------------
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


def push_param_edit(doc: ProjectDocument, shot_ids: list[str], changes: dict[str, Any]) -> StudioError | None:
    unknown = sorted(set(changes) - set(GenParams.model_fields))
    if unknown:
        return StudioError("invalid_value", f"unknown shot parameter {unknown[0]!r}")
    old: dict[str, GenParams] = {}
    new: dict[str, GenParams] = {}
    for sid in shot_ids:
        shot = doc.shot(sid)
        if shot is None:
            continue
        try:
            p = GenParams.model_validate({**shot.params.model_dump(), **changes})
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


# --- takes -------------------------------------------------------------------------------------------
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
        _emit_shot(d, self.shot_id, takes=True, timeline=True)

    def undo(self) -> None:
        d = self.doc
        shot = d.shot(self.shot_id)
        _restore_choice(d, shot, self.old_choice, self.old_clip)
        d._refresh_status(shot)
        _emit_shot(d, self.shot_id, takes=True, timeline=True)


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
        _emit_shot(d, self.shot_id, takes=True, timeline=was_chosen)

    def undo(self) -> None:
        d = self.doc
        shot = d.shot(self.shot_id)
        i, take, chosen, clip = self.saved
        shot.takes.insert(i, take)
        was_chosen = chosen == self.take_id
        if was_chosen:
            _restore_choice(d, shot, chosen, clip)
        d._refresh_status(shot)
        _emit_shot(d, self.shot_id, takes=True, timeline=was_chosen)


def add_engine_take(doc: ProjectDocument, shot_id: str, take: Take, choose: bool | None) -> bool:
    """Not a command: engine results are work done, kept outside undo (see document.py)."""
    shot = doc.shot(shot_id)
    if shot is None:
        return False
    picked = choice.add_take(doc.data, shot, take, choose)
    if picked is None:
        return True  # reported twice (e.g. after an engine restart): already there
    doc._mark_extra_dirty()
    _emit_shot(doc, shot_id, takes=True, timeline=picked)
    return True


# --- timeline ------------------------------------------------------------------------------------------
class MoveClip(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, to_index: int):
        super().__init__("Move clip")
        self.doc, self.shot_id, self.to_index = doc, shot_id, to_index
        self.from_index = doc.clip_index(shot_id)

    def _move(self, dest: int) -> None:
        clips = self.doc.data.timeline.clips
        clip = clips.pop(self.doc.clip_index(self.shot_id))
        clips.insert(dest, clip)
        self.doc.timelineChanged.emit()

    def redo(self) -> None:
        self.from_index = self.doc.clip_index(self.shot_id)
        self._move(self.to_index)

    def undo(self) -> None:
        self._move(self.from_index)


class TrimClip(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, new: tuple[float, float | None], merge: bool = True):
        super().__init__("Trim clip")
        clip = doc.clip_for(shot_id)
        self.doc, self.shot_id, self.new, self.old = doc, shot_id, new, (clip.in_s, clip.out_s)
        self.merge = merge  # False: this trim starts its own undo step

    def id(self) -> int:
        return ID_TRIM

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, TrimClip) or other.shot_id != self.shot_id or not other.merge:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True

    def _apply(self, trim: tuple[float, float | None]) -> None:
        clip = self.doc.clip_for(self.shot_id)
        if clip is not None:
            clip.in_s, clip.out_s = trim
            self.doc.timelineChanged.emit()

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def push_trim(doc: ProjectDocument, shot_id: str, in_s: float, out_s: float | None,
              merge: bool = True) -> StudioError | None:
    clip = doc.clip_for(shot_id)
    if clip is None:
        return StudioError("invalid_value", "this shot has no clip on the timeline")
    try:
        in_s = float(in_s)
        out_s = None if out_s is None else float(out_s)
    except (TypeError, ValueError):
        return StudioError("invalid_value", "trim points must be numbers of seconds")
    dur = choice.take_duration(doc.take(shot_id, clip.take_id))
    if not in_s >= 0:
        return StudioError("invalid_value", f"in point {in_s:g} s is before the start of the take")
    if out_s is not None and not out_s > in_s:
        return StudioError("invalid_value", f"out point {out_s:g} s must be after the in point {in_s:g} s")
    if dur is not None and (in_s >= dur or (out_s is not None and out_s > dur + 1e-9)):
        return StudioError("invalid_value", f"trim {in_s:g}-{out_s if out_s is not None else dur:g} s "
                                            f"exceeds the take ({dur:g} s)")
    if (in_s, out_s) != (clip.in_s, clip.out_s):
        doc.undo_stack.push(TrimClip(doc, shot_id, (in_s, out_s), merge))
    return None


class SetTransition(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, new: Transition):
        super().__init__("Set transition")
        self.doc, self.shot_id, self.new = doc, shot_id, new
        self.old = doc.shot(shot_id).transition.model_copy()

    def _apply(self, t: Transition) -> None:
        d = self.doc
        shot = d.shot(self.shot_id)
        shot.transition = t.model_copy()
        clip = d.clip_for(self.shot_id)
        if clip is not None:
            clip.transition = t.model_copy()
        _emit_shot(d, self.shot_id, timeline=True)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


DEFAULT_TRANSITION_S = 0.5


def push_transition(doc: ProjectDocument, shot_id: str, kind: TransitionKind | str,
                    duration: float | None) -> StudioError | None:
    shot = doc.shot(shot_id)
    if shot is None:
        return StudioError("invalid_value", f"no shot {shot_id!r}")
    try:
        kind = TransitionKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in TransitionKind)
        return StudioError("invalid_value", f"unknown transition {kind!r} (use one of: {names})")
    if kind == TransitionKind.CUT:
        duration = 0.0
    elif duration is None:
        duration = shot.transition.duration or DEFAULT_TRANSITION_S
    try:
        new = Transition(kind=kind, duration=duration)
    except ValidationError as e:
        return from_validation(e, prefix="transition ")
    if new != shot.transition:
        doc.undo_stack.push(SetTransition(doc, shot_id, new))
    return None


# --- project -------------------------------------------------------------------------------------------
class SetTitle(QUndoCommand):
    def __init__(self, doc: ProjectDocument, title: str):
        super().__init__("Rename project")
        self.doc, self.new, self.old = doc, title, doc.data.title

    def _apply(self, title: str) -> None:
        self.doc.data.title = title
        self.doc.titleChanged.emit(title)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class SetSettings(QUndoCommand):
    def __init__(self, doc: ProjectDocument, new: ProjectSettings):
        super().__init__("Project settings")
        self.doc, self.new, self.old = doc, new, doc.data.settings.model_copy()

    def _apply(self, s: ProjectSettings) -> None:
        self.doc.data.settings = s.model_copy()
        self.doc.settingsChanged.emit()

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def push_settings(doc: ProjectDocument, changes: dict[str, Any]) -> StudioError | None:
    unknown = sorted(set(changes) - set(ProjectSettings.model_fields))
    if unknown:
        return StudioError("invalid_value", f"unknown project setting {unknown[0]!r}")
    try:
        new = ProjectSettings.model_validate({**doc.data.settings.model_dump(), **changes})
    except ValidationError as e:
        return from_validation(e)
    if new != doc.data.settings:
        doc.undo_stack.push(SetSettings(doc, new))
    return None


class ImportStoryboard(QUndoCommand):
    """Append the storyboard's shots, or replace shots, timeline, title and settings."""

    def __init__(self, doc: ProjectDocument, imported: ProjectData, replace: bool, name: str):
        super().__init__(f"Import {name}")
        self.doc, self.imported, self.replace = doc, imported, replace
        self.row = 0
        self.old: tuple[str, ProjectSettings, list[Shot], list[TimelineClip]] | None = None

    def _swap(self, title: str, settings: ProjectSettings, shots: list[Shot], clips: list[TimelineClip]):
        d = self.doc
        d.shotsAboutToBeReset.emit()
        d.data.title, d.data.settings = title, settings
        d.data.shots[:] = shots
        d.data.timeline.clips[:] = clips
        for s in d.data.shots:
            d._refresh_status(s)
        d.shotsReset.emit()
        d.timelineChanged.emit()
        d.settingsChanged.emit()
        d.titleChanged.emit(title)
        if d.current_shot_id and d.shot(d.current_shot_id) is None:
            d.set_current_shot("")

    def redo(self) -> None:
        d, new = self.doc, self.imported
        if self.replace:
            self.old = (d.data.title, d.data.settings, list(d.data.shots), list(d.data.timeline.clips))
            self._swap(new.title, new.settings, list(new.shots), list(new.timeline.clips))
            return
        self.row = len(d.data.shots)
        n = len(new.shots)
        d.shotsAboutToBeInserted.emit(self.row, n)
        d.data.shots.extend(new.shots)
        d.shotsInserted.emit(self.row, n)

    def undo(self) -> None:
        d = self.doc
        if self.replace:
            self._swap(*self.old)
            return
        n = len(self.imported.shots)
        d.shotsAboutToBeRemoved.emit(self.row, n)
        del d.data.shots[self.row:self.row + n]
        d.shotsRemoved.emit(self.row, n)
