"""Keeps a document's unsaved edits safe from a crash: the 60-s autosave and the edit journal.

`Keeper` (one per ProjectDocument) hears every change to the document's data: the document calls
`changed()` for every undo-stack push / undo / redo / merge (its `indexChanged` slot) and for every
engine result (`_mark_extra_dirty`). The first change starts a single-shot timer; when it fires
(`FLUSH_MS` later, however fast the user types) the current state goes to the journal as one line
(journal.py: a patch against its snapshot). So a kill -9 loses at most the edits of the last
`FLUSH_MS` plus one write, and a keystroke costs only a flag. The shot signals tell the journal
which shots to serialise again, so a flush on a 500-shot project costs little more than its fsync
(benchmarks/bench_journal.py).

A journal starts with the first change after an open (never at the open itself: a journal left by a
crash stays readable until the user has chosen, and is kept aside as journal.prev.jsonl once the
new session writes). A save removes it (store.discard_recovery); Save As removes the one this
session wrote in the old folder. A write that fails (a full disk, a link) is one warning on the
document's `errorOccurred` (again only after a write has worked); editing goes on and the keeper
retries every `RETRY_MS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from studio.errors import StudioError
from studio.project import journal

if TYPE_CHECKING:
    from studio.project.document import ProjectDocument

AUTOSAVE_INTERVAL_MS = 60_000
FLUSH_MS = 300  # a kill -9 loses at most about this much typing
RETRY_MS = 2_000  # after a failed journal write


class Keeper(QObject):
    def __init__(self, doc: ProjectDocument):
        super().__init__(doc)
        self._doc = doc
        # Counts changes so the autosave timer skips a tick when nothing changed since the last one.
        self._revision = 0
        self._autosaved_revision = 0
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_INTERVAL_MS)
        self.autosave_timer.timeout.connect(self._on_autosave_timer)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self.flush)
        self._journal: journal.Journal | None = None
        self._pending = False
        self._touched: set[str] | None = set()  # shots changed since the last journal write; None: all
        self._warned = False
        self.last_error: StudioError | None = None
        doc.shotChanged.connect(self._touch)
        doc.takesChanged.connect(self._touch)
        doc.shotsInserted.connect(self._on_inserted)
        doc.shotsReset.connect(self._touch_all)

    # --- what the document tells it --------------------------------------------------------------------------
    def changed(self) -> None:
        """The document's data changed (cheap: the journal is written on the timer)."""
        self._revision += 1
        self._pending = True
        if not self._flush_timer.isActive() and self._doc.path is not None:
            self._flush_timer.start(FLUSH_MS)

    def dirty_changed(self, dirty: bool) -> None:
        if dirty and self._doc.path is not None:
            if not self.autosave_timer.isActive():
                self.autosave_timer.start()
        else:
            self.autosave_timer.stop()

    def autosaved(self) -> None:
        self._autosaved_revision = self._revision
        self.flush()  # the journal then holds the same state, no older

    def saved(self) -> None:
        """After save / save as: the edits are in project.json (save_project removed the journal
        in its folder; a Save As leaves the old folder's to this)."""
        self._stop(remove=True)

    def reset(self) -> None:
        """New data loaded (open, new): forget the old project's journal without touching it."""
        self._stop(remove=False)

    # --- journal ------------------------------------------------------------------------------------------------
    def flush(self) -> StudioError | None:
        """Write pending changes to the journal now (the timer calls this)."""
        self._flush_timer.stop()
        folder = self._doc.path
        if not self._pending or folder is None:
            return None
        if self._journal is not None and self._journal.folder != folder:
            self._journal.close(remove=True)  # (a path change without a save: not expected)
            self._journal = None
        if self._journal is None:
            self._journal = journal.Journal(folder)
            self._touched = None
        try:
            self._journal.write(self._doc.data, self._touched)
        except StudioError as e:
            self.last_error = e
            self._flush_timer.start(RETRY_MS)
            if not self._warned:
                self._warned = True
                self._doc.errorOccurred.emit(e.kind, e.message)
            return e
        self._pending, self._touched, self._warned, self.last_error = False, set(), False, None
        return None

    def _stop(self, remove: bool) -> None:
        self._flush_timer.stop()
        self._pending, self._touched = False, set()
        if self._journal is not None:
            self._journal.close(remove=remove)
            self._journal = None

    # --- slots ------------------------------------------------------------------------------------------------------
    def _touch(self, shot_id: str) -> None:
        if self._touched is not None:
            self._touched.add(shot_id)

    def _touch_all(self) -> None:
        self._touched = None

    def _on_inserted(self, row: int, count: int) -> None:
        for shot in self._doc.data.shots[row:row + count]:
            self._touch(shot.id)

    def _on_autosave_timer(self) -> None:
        if self._doc.is_dirty() and self._revision != self._autosaved_revision:
            self._doc.autosave_now()
