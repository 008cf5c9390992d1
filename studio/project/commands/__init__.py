"""Undo commands for ProjectDocument: every user edit is one of these on the document's QUndoStack.

One module per thing edited: `shots` (insert, delete, move, parameters, notes), `takes` (choose,
rate, delete, and engine results, which are not commands), `timeline` (move, trim, transition) and
`project` (title, settings, storyboard import).

Commands address shots and takes by id and capture the state they replace when they *run* (not
when they are made), because engine results (new takes, status) change the data outside the undo
stack in between. Each command emits the document's signals for exactly what it changed. Values a
user types in seconds become exact frames (`FrameTime`) at the project's frame rate here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.project.document import ProjectDocument


def emit_shot(doc: ProjectDocument, shot_id: str, takes: bool = False, timeline: bool = False) -> None:
    doc.shotChanged.emit(shot_id)
    if takes:
        doc.takesChanged.emit(shot_id)
    if timeline:
        doc.timelineChanged.emit()
