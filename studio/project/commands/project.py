"""Project commands: the title, the settings, a storyboard import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from PySide6.QtGui import QUndoCommand

from studio.errors import StudioError, from_validation
from studio.project.schema import ProjectData, ProjectSettings, Shot, TimelineClip

if TYPE_CHECKING:
    from studio.project.document import ProjectDocument


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
