"""Timeline commands: move a clip, trim it, set the transition into a shot.

Trims and transition lengths are typed in seconds and stored as exact frames at the project's
frame rate. The transition into a clip is its shot's (`Shot.transition`), the one place it lives.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import ValidationError
from PySide6.QtGui import QUndoCommand

from studio.errors import StudioError, from_validation
from studio.project import choice
from studio.project.commands import emit_shot
from studio.project.schema import FrameTime, Transition, TransitionKind

if TYPE_CHECKING:
    from studio.project.document import ProjectDocument

ID_TRIM = 1003  # QUndoCommand id: consecutive trims of one clip merge (a live drag)
DEFAULT_TRANSITION_S = 0.5
Trim = tuple[FrameTime, FrameTime | None]


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
    def __init__(self, doc: ProjectDocument, shot_id: str, new: Trim, merge: bool = True):
        super().__init__("Trim clip")
        clip = doc.clip_for(shot_id)
        self.doc, self.shot_id, self.new, self.old = doc, shot_id, new, (clip.in_point, clip.out_point)
        self.merge = merge  # False: this trim starts its own undo step

    def id(self) -> int:
        return ID_TRIM

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, TrimClip) or other.shot_id != self.shot_id or not other.merge:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True

    def _apply(self, trim: Trim) -> None:
        clip = self.doc.clip_for(self.shot_id)
        if clip is not None:
            clip.in_point, clip.out_point = trim
            self.doc.timelineChanged.emit()

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def _trim_frames(in_s: float, out_s: float | None, fps: float, take_s: float | None) -> Trim:
    """In/out seconds as frames at the project's fps. An out point inside the take stays inside it:
    where the take does not end on a project frame, the nearest frame could fall past its end."""
    in_point = FrameTime.from_seconds(in_s, fps)
    if out_s is None:
        return in_point, None
    out_point = FrameTime.from_seconds(out_s, fps)
    if take_s is not None and out_point.seconds > take_s >= out_s - 1e-9:
        out_point = FrameTime(value=math.floor(take_s * fps + 1e-9), rate=fps)
    return in_point, out_point


def push_trim(doc: ProjectDocument, shot_id: str, in_s: float, out_s: float | None,
              merge: bool = True) -> StudioError | None:
    """In/out in seconds into the take (out None = the take's end), stored as frames."""
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
    try:
        new = _trim_frames(in_s, out_s, doc.settings.fps, dur)
    except ValueError:
        return StudioError("invalid_value", "trim points must be numbers of seconds")
    start, end = new
    if end is not None and end.value <= start.value:
        return StudioError("invalid_value", f"the trim {in_s:g}-{out_s:g} s is shorter than a frame "
                                            f"at {doc.settings.fps:g} fps")
    if dur is not None and start.seconds >= dur:
        return StudioError("invalid_value", f"in point {in_s:g} s leaves nothing of the take ({dur:g} s)")
    if new != (clip.in_point, clip.out_point):
        doc.undo_stack.push(TrimClip(doc, shot_id, new, merge))
    return None


class SetTransition(QUndoCommand):
    def __init__(self, doc: ProjectDocument, shot_id: str, new: Transition):
        super().__init__("Set transition")
        self.doc, self.shot_id, self.new = doc, shot_id, new
        self.old = doc.shot(shot_id).transition.model_copy()

    def _apply(self, t: Transition) -> None:
        self.doc.shot(self.shot_id).transition = t.model_copy()
        emit_shot(self.doc, self.shot_id, timeline=True)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def push_transition(doc: ProjectDocument, shot_id: str, kind: TransitionKind | str,
                    duration: float | None) -> StudioError | None:
    """The cut into a shot; `duration` in seconds (None: the shot's own, or a default)."""
    shot = doc.shot(shot_id)
    if shot is None:
        return StudioError("invalid_value", f"no shot {shot_id!r}")
    try:
        kind = TransitionKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in TransitionKind)
        return StudioError("invalid_value", f"unknown transition {kind!r} (use one of: {names})")
    fps = doc.settings.fps
    current = shot.transition.duration
    if kind == TransitionKind.CUT:
        length = FrameTime(value=0, rate=fps) if current.value else current
    elif duration is None:
        length = current if current.value else FrameTime.from_seconds(DEFAULT_TRANSITION_S, fps)
    else:
        try:
            seconds = float(duration)
        except (TypeError, ValueError):
            seconds = math.nan
        if not 0 <= seconds < math.inf:
            return StudioError("invalid_value", f"transition duration {duration!r} is not a number of seconds "
                                                "(0 or more)")
        length = FrameTime.from_seconds(seconds, fps)
        if length.same_time(current):
            length = current
    try:
        new = Transition(kind=kind, duration=length)
    except ValidationError as e:
        return from_validation(e, prefix="transition ")
    if new != shot.transition:
        doc.undo_stack.push(SetTransition(doc, shot_id, new))
    return None
