"""The export dialog's helpers off the form: the worker that runs one export on a QThread, and the
question asked before a film that leaves shots out."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from studio.errors import StudioError
from studio.media.deliver import export_project


class ExportWorker(QObject):
    """Runs one export on its QThread; talks back only through signals (queued to the UI thread)."""

    progress = Signal(int, int)
    finished = Signal(str)
    failed = Signal(str, str)  # kind, one-line message

    def __init__(self, project, project_dir, path, settings, audio, span, cancel: threading.Event):
        super().__init__()
        self._args = (project, project_dir, path, settings, audio)
        self._span = span
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        project, project_dir, path, settings, audio = self._args
        try:
            film = export_project(project, project_dir, path, settings, audio, progress=self.progress.emit,
                                  cancel=self._cancel, span=self._span)
        except StudioError as e:
            self.failed.emit(e.kind, e.message)
        except Exception as e:  # a bug, not a user mistake: still one line in the dialog, not a crash
            self.failed.emit("internal", f"export failed: {type(e).__name__}: {e}")
        else:
            self.finished.emit(str(film))


def left_out_text(shots: list[int]) -> str:
    """"Shots 3, 5 have no chosen take and are not in the film." (one shot: singular)."""
    if len(shots) == 1:
        return f"Shot {shots[0]} has no chosen take and is not in the film."
    return f"Shots {', '.join(map(str, shots))} have no chosen take and are not in the film."


def ask_export_anyway(parent: QWidget | None, title: str, text: str) -> bool:
    """Export anyway (True) or Go back (False, also on Escape)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    anyway = box.addButton("Export anyway", QMessageBox.ButtonRole.AcceptRole)
    back = box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(back)
    box.setEscapeButton(back)
    box.exec()
    return box.clickedButton() is anyway
