"""The shot list's table model: the document's shots as rows, one column per field.

`ShotTableModel` forwards the document's row signals to Qt's begin*/end* calls and reads every cell
from the live shots, so the list is never out of step with undo/redo. Cell edits and drops go
through document methods.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QByteArray, QMimeData, QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFont

from studio import vocabulary
from studio.project.schema import Camera, JobState, ShotSize, ShotStatus
from studio.ui.labels import CAMERA_LABELS, PROMPT_CAMERA_LABELS, PROMPT_SIZE_LABELS, SIZE_LABELS

MIME = "application/x-vstudio-shot-ids"
THUMB = QSize(72, 44)

COL_NUM, COL_THUMB, COL_PROMPT, COL_SIZE, COL_CAMERA, COL_DURATION, COL_STATUS, COL_TAKES = range(8)
HEADERS = ["#", "", "Prompt", "Size", "Camera", "Dur", "Status", "Takes"]
ShotIdRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
ProgressRole = Qt.ItemDataRole.UserRole + 3


class ShotTableModel(QAbstractTableModel):
    def __init__(self, doc, media, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.media = media
        self._moving: list[tuple] = []
        doc.shotsAboutToBeReset.connect(self.beginResetModel)
        doc.shotsReset.connect(self.endResetModel)
        doc.shotsAboutToBeInserted.connect(lambda row, n: self.beginInsertRows(QModelIndex(), row, row + n - 1))
        doc.shotsInserted.connect(lambda _row, _n: self._end_insert())
        doc.shotsAboutToBeRemoved.connect(lambda row, n: self.beginRemoveRows(QModelIndex(), row, row + n - 1))
        doc.shotsRemoved.connect(lambda _row, _n: self._end_remove())
        doc.shotsAboutToBeMoved.connect(self._about_to_move)
        doc.shotsMoved.connect(self._moved)
        doc.shotChanged.connect(self._shot_changed)
        doc.takesChanged.connect(self._shot_changed)
        doc.queueChanged.connect(self._all_changed)

    # -- forwarding ---------------------------------------------------------------------------------
    def _end_insert(self) -> None:
        self.endInsertRows()
        self._renumber()

    def _end_remove(self) -> None:
        self.endRemoveRows()
        self._renumber()

    def _renumber(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, COL_NUM), self.index(self.rowCount() - 1, COL_NUM))

    def _about_to_move(self) -> None:
        self.layoutAboutToBeChanged.emit()
        # Persistent indexes (selection, current) follow their shot, not their row.
        self._moving = [(i, self.doc.shot_at(i.row()).id, i.column()) for i in self.persistentIndexList()
                        if 0 <= i.row() < self.doc.shot_count()]

    def _moved(self) -> None:
        old = [m[0] for m in self._moving]
        new = [self.index(self.doc.row_of(sid), col) for _i, sid, col in self._moving]
        self.changePersistentIndexList(old, new)
        self._moving = []
        self.layoutChanged.emit()

    def _shot_changed(self, shot_id: str) -> None:
        row = self.doc.row_of(shot_id)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))

    def _all_changed(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(HEADERS) - 1))

    # -- reading ---------------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else self.doc.shot_count()

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return ["Shot number", "Chosen take", "Prompt", "Shot size", "Camera move", "Duration (s)",
                    "Status", "Takes generated"][section]
        return None

    def shot_id(self, row: int) -> str:
        return self.doc.shot_at(row).id

    @staticmethod
    def _from_prompt(prompt: str, slot: str) -> str:
        value = (vocabulary.prompt_slots(prompt) or {}).get(slot)
        labels = PROMPT_SIZE_LABELS if slot == "size" else PROMPT_CAMERA_LABELS
        return labels.get(value, "—") if value else "—"

    progress_fn = None  # set by the main window: shot id -> live progress of its running job

    def refresh_shot(self, shot_id: str) -> None:
        self._shot_changed(shot_id)

    def job_progress(self, shot_id: str) -> float | None:
        if self.progress_fn is not None:
            return self.progress_fn(shot_id)
        for job in self.doc.data.queue:
            if job.shot_id == shot_id and job.state == JobState.RUNNING:
                return job.progress
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= self.doc.shot_count():
            return None
        shot = self.doc.shot_at(index.row())
        p = shot.params
        col = index.column()
        if role == ShotIdRole:
            return shot.id
        if role == StatusRole:
            return shot.status
        if role == ProgressRole:
            return self.job_progress(shot.id)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NUM:
                return str(index.row() + 1)
            if col == COL_PROMPT:
                return p.prompt or "(no prompt)"
            if col == COL_SIZE:
                return SIZE_LABELS[p.shot_size] if p.shot_size != ShotSize.AUTO else self._from_prompt(p.prompt, "size")
            if col == COL_CAMERA:
                return CAMERA_LABELS[p.camera] if p.camera != Camera.AUTO else self._from_prompt(p.prompt, "camera")
            if col == COL_DURATION:
                return f"{round(p.duration.seconds, 2):g} s"  # frames in the project, seconds here
            if col == COL_STATUS:
                return shot.status.value
            if col == COL_TAKES:
                return str(len(shot.takes)) if shot.takes else "–"
        if role == Qt.ItemDataRole.EditRole:
            return {COL_PROMPT: p.prompt, COL_SIZE: p.shot_size, COL_CAMERA: p.camera,
                    COL_DURATION: p.duration.seconds}.get(col)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_THUMB:
            take = self.doc.chosen_take(shot.id)
            return None if take is None else self.media.poster(take, THUMB)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_STATUS and shot.status == ShotStatus.FAILED and shot.error:
                return shot.error
            if col == COL_STATUS and shot.status == ShotStatus.STALE:
                return "Parameters changed since the chosen take was made: generate again"
            if col == COL_PROMPT:
                return p.prompt + (f"\n\nNotes: {shot.notes}" if shot.notes else "")
            if (col == COL_SIZE and p.shot_size == ShotSize.AUTO) or (col == COL_CAMERA and p.camera == Camera.AUTO):
                return "From the prompt (double-click to set it on the shot)"
        if role == Qt.ItemDataRole.ForegroundRole and (
                (col == COL_PROMPT and not p.prompt) or (col == COL_SIZE and p.shot_size == ShotSize.AUTO)
                or (col == COL_CAMERA and p.camera == Camera.AUTO)):
            return QColor(125, 127, 138)  # dim: a value the prompt implies, not one set on the shot
        if role == Qt.ItemDataRole.FontRole and ((col == COL_SIZE and p.shot_size == ShotSize.AUTO)
                                                 or (col == COL_CAMERA and p.camera == Camera.AUTO)):
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_NUM, COL_DURATION, COL_TAKES):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    # -- editing (through the document) --------------------------------------------------------------
    def flags(self, index: QModelIndex):
        base = Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        if index.column() in (COL_PROMPT, COL_SIZE, COL_CAMERA, COL_DURATION):
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        field = {COL_PROMPT: "prompt", COL_SIZE: "shot_size", COL_CAMERA: "camera",
                 COL_DURATION: "duration"}.get(index.column())
        if field is None:
            return False
        return self.doc.set_params(self.shot_id(index.row()), **{field: value}) is None

    # -- drag and drop: an internal move of whole shots ----------------------------------------------
    def supportedDropActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction

    def supportedDragActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime = QMimeData()
        mime.setData(MIME, QByteArray("\n".join(self.shot_id(r) for r in rows).encode()))
        return mime

    def dropMimeData(self, data: QMimeData, action, row: int, column: int, parent: QModelIndex) -> bool:  # noqa: N802
        if not data.hasFormat(MIME) or action != Qt.DropAction.MoveAction:
            return False
        ids = [i for i in bytes(data.data(MIME).data()).decode().split("\n") if i]
        if row < 0:
            row = parent.row() if parent.isValid() else self.doc.shot_count()
        self.doc.move_shots(ids, row)
        # False on purpose: the document has moved the rows; a True "move" would make the view
        # delete the source rows afterwards.
        return False
