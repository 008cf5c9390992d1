"""The shot list: the storyboard as a table, one row per shot, bound to the project document.

`ShotTableModel` forwards the document's row signals to Qt's begin*/end* calls and reads every cell
from the live shots, so the list is never out of step with undo/redo. Edits made in cells, by drag
and drop or by the toolbar all go through document methods.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QItemSelection,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio import vocabulary
from studio.project.schema import Camera, JobState, ShotSize, ShotStatus
from studio.ui.badges import STATUS_COLORS, paint_badge

MIME = "application/x-vstudio-shot-ids"
THUMB = QSize(72, 44)
ROW_HEIGHT = 50

COL_NUM, COL_THUMB, COL_PROMPT, COL_SIZE, COL_CAMERA, COL_DURATION, COL_STATUS, COL_TAKES = range(8)
HEADERS = ["#", "", "Prompt", "Size", "Camera", "Dur", "Status", "Takes"]
ShotIdRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
ProgressRole = Qt.ItemDataRole.UserRole + 3

SIZE_LABELS = {ShotSize.AUTO: "—", ShotSize.WIDE: "Wide", ShotSize.MEDIUM: "Medium", ShotSize.CLOSE_UP: "Close-up"}
PROMPT_SIZE_LABELS = {"wide": "Wide", "medium": "Medium", "close-up": "Close-up"}
PROMPT_CAMERA_LABELS = {c.value: label for c, label in {
    Camera.STATIC: "Static", Camera.PAN_LEFT: "Pan left", Camera.PAN_RIGHT: "Pan right", Camera.TILT_UP: "Tilt up",
    Camera.TILT_DOWN: "Tilt down", Camera.ZOOM_IN: "Zoom in", Camera.ZOOM_OUT: "Zoom out"}.items()}
CAMERA_LABELS = {Camera.AUTO: "—", Camera.STATIC: "Static", Camera.PAN_LEFT: "Pan left", Camera.PAN_RIGHT: "Pan right",
                 Camera.TILT_UP: "Tilt up", Camera.TILT_DOWN: "Tilt down", Camera.ZOOM_IN: "Zoom in",
                 Camera.ZOOM_OUT: "Zoom out"}


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
                return f"{p.duration:g} s"
            if col == COL_STATUS:
                return shot.status.value
            if col == COL_TAKES:
                return str(len(shot.takes)) if shot.takes else "–"
        if role == Qt.ItemDataRole.EditRole:
            return {COL_PROMPT: p.prompt, COL_SIZE: p.shot_size, COL_CAMERA: p.camera,
                    COL_DURATION: p.duration}.get(col)
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


class StatusDelegate(QStyledItemDelegate):
    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.widget.style().drawControl(opt.widget.style().ControlElement.CE_ItemViewItem, opt, p, opt.widget)
        status = index.data(StatusRole)
        if status is None:
            return
        status = ShotStatus(status)  # a StrEnum comes back from Qt as a plain str
        progress = index.data(ProgressRole) if status == ShotStatus.GENERATING else None
        # While generating, the pill fills with the progress and says how far it is.
        text = status.value if progress is None else f"{progress * 100:.0f}%"
        r = QRectF(option.rect).adjusted(6, 0, -4, 0)
        paint_badge(p, r, text, STATUS_COLORS[status], progress)


class ThumbDelegate(QStyledItemDelegate):
    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.icon = opt.icon.__class__()
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasDecoration
        opt.widget.style().drawControl(opt.widget.style().ControlElement.CE_ItemViewItem, opt, p, opt.widget)
        r = option.rect.adjusted(3, 3, -3, -3)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        p.fillRect(r, QColor(16, 16, 19))
        if pm is None:
            p.setPen(QColor(85, 86, 96))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "no take")
            return
        x = r.left() + (r.width() - pm.width()) // 2
        y = r.top() + (r.height() - pm.height()) // 2
        p.drawPixmap(x, y, pm)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(THUMB.width() + 6, THUMB.height() + 6)


class EnumDelegate(QStyledItemDelegate):
    """A combo box for shot size / camera cells."""

    def __init__(self, labels: dict, parent=None):
        super().__init__(parent)
        self.labels = labels

    def createEditor(self, parent, option, index):  # noqa: N802
        combo = QComboBox(parent)
        for value, label in self.labels.items():
            combo.addItem("Auto (from prompt)" if label == "—" else label, value)
        combo.activated.connect(lambda _i: self.commitData.emit(combo))
        return combo

    def setEditorData(self, editor, index):  # noqa: N802
        i = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        editor.setCurrentIndex(max(i, 0))

    def setModelData(self, editor, model, index):  # noqa: N802
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class ShotTableView(QTableView):
    deletePressed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(True)  # two lines of prompt fit a row
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)

    def keyPressEvent(self, e):  # noqa: N802
        if e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.state() != QAbstractItemView.State.EditingState:
            self.deletePressed.emit()
            return
        super().keyPressEvent(e)


class ShotListPanel(QWidget):
    """The table with its toolbar. `generateRequested(kind)` is "selected" | "all" | "stale"."""

    generateRequested = Signal(str)
    importRequested = Signal()

    def __init__(self, doc, media, parent=None):
        super().__init__(parent)
        self.setObjectName("ShotListPanel")
        self.doc = doc
        self.model = ShotTableModel(doc, media, self)
        self.view = ShotTableView()
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(COL_STATUS, StatusDelegate(self.view))
        self.view.setItemDelegateForColumn(COL_THUMB, ThumbDelegate(self.view))
        self.view.setItemDelegateForColumn(COL_SIZE, EnumDelegate(SIZE_LABELS, self.view))
        self.view.setItemDelegateForColumn(COL_CAMERA, EnumDelegate(CAMERA_LABELS, self.view))
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(COL_PROMPT, QHeaderView.ResizeMode.Stretch)
        for col, width in ((COL_NUM, 30), (COL_THUMB, THUMB.width() + 8), (COL_SIZE, 70), (COL_CAMERA, 74),
                           (COL_DURATION, 48), (COL_STATUS, 96), (COL_TAKES, 46)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.view.setColumnWidth(col, width)
        header.setMinimumSectionSize(24)
        self._build_actions()
        self._build_layout()
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.deletePressed.connect(self.delete_selected)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        doc.currentShotChanged.connect(self._follow_current)
        doc.shotsReset.connect(self._update_actions)
        doc.shotsInserted.connect(lambda *_: self._update_actions())
        doc.shotsRemoved.connect(lambda *_: self._update_actions())
        doc.shotChanged.connect(lambda _id: self._update_actions())
        self._update_actions()

    # -- actions ----------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon=None) -> QAction:
        a = QAction(text, self)
        if icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        a.setToolTip(tip or text)
        a.triggered.connect(lambda _checked=False: slot())
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        self.act_add = self._action("Add Shot", self.add_shot, "Ctrl+Shift+N", "Add a shot after the selection")
        self.act_duplicate = self._action("Duplicate", self.duplicate_selected, "Ctrl+D", "Duplicate the selected shots")
        self.act_delete = self._action("Delete", self.delete_selected, None, "Delete the selected shots (Del)")
        self.act_up = self._action("Move Up", lambda: self.move_selected(-1), "Alt+Up", "Move the selection up")
        self.act_down = self._action("Move Down", lambda: self.move_selected(+1), "Alt+Down", "Move the selection down")
        self.act_import = self._action("Import Storyboard…", self.importRequested.emit, None,
                                       "Import shots from a storyboard file (JSON or CSV)")
        self.act_gen_selected = self._action("Generate Selected", lambda: self.generateRequested.emit("selected"),
                                             None, "Queue the selected shots for generation")
        self.act_gen_all = self._action("Generate All", lambda: self.generateRequested.emit("all"), None,
                                        "Queue every shot")
        self.act_gen_stale = self._action("Generate Stale", lambda: self.generateRequested.emit("stale"), None,
                                          "Queue the shots without a take or whose parameters changed")

    def _build_layout(self) -> None:
        def tool(action: QAction, text: str | None = None) -> QToolButton:
            b = QToolButton()
            b.setDefaultAction(action)
            if text:
                b.setText(text)
            b.setAutoRaise(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            return b

        self.count_label = QLabel()
        self.count_label.setObjectName("Dim")
        gen = QToolButton()
        gen.setObjectName("Primary")
        gen.setDefaultAction(self.act_gen_selected)
        gen.setText("Generate")
        gen.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(gen)
        menu.addActions([self.act_gen_selected, self.act_gen_stale, self.act_gen_all])
        gen.setMenu(menu)
        gen.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.generate_button = gen
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 6, 2)
        bar.setSpacing(2)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(tool(self.act_add, "+ Add"))
        bar.addWidget(tool(self.act_duplicate))
        bar.addWidget(tool(self.act_delete))
        bar.addSpacing(6)
        bar.addWidget(gen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addActions([self.act_add, self.act_duplicate, self.act_delete])
        menu.addSeparator()
        menu.addActions([self.act_up, self.act_down])
        menu.addSeparator()
        menu.addActions([self.act_gen_selected, self.act_gen_stale, self.act_gen_all])
        menu.addSeparator()
        menu.addAction(self.act_import)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _update_actions(self) -> None:
        n = len(self.selected_ids())
        total = self.doc.shot_count()
        self.act_duplicate.setEnabled(n > 0)
        self.act_delete.setEnabled(n > 0)
        self.act_up.setEnabled(n > 0)
        self.act_down.setEnabled(n > 0)
        self.act_gen_selected.setEnabled(n > 0)
        self.act_gen_all.setEnabled(total > 0)
        self.act_gen_stale.setEnabled(bool(self.stale_ids()))
        seconds = sum(s.params.duration for s in self.doc.data.shots)
        self.count_label.setText(f"{total} shot{'s' if total != 1 else ''} · {seconds:g} s")

    # -- selection --------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.shot_id(r) for r in rows if r < self.doc.shot_count()]

    def stale_ids(self) -> list[str]:
        """Shots that need a (new) take: never generated, stale or failed."""
        want = {ShotStatus.DRAFT, ShotStatus.STALE, ShotStatus.FAILED}
        return [s.id for s in self.doc.data.shots if s.status in want]

    def select_ids(self, ids: list[str]) -> None:
        sel = QItemSelection()
        for sid in ids:
            row = self.doc.row_of(sid)
            if row >= 0:
                sel.select(self.model.index(row, 0), self.model.index(row, len(HEADERS) - 1))
        sm = self.view.selectionModel()
        sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if ids and self.doc.row_of(ids[0]) >= 0:
            sm.setCurrentIndex(self.model.index(self.doc.row_of(ids[0]), COL_PROMPT),
                               QItemSelectionModel.SelectionFlag.NoUpdate)
            self.view.scrollTo(self.model.index(self.doc.row_of(ids[0]), 0))

    def _selection_changed(self, *_args) -> None:
        self._update_actions()

    def _current_changed(self, current: QModelIndex, _prev) -> None:
        if current.isValid() and current.row() < self.doc.shot_count():
            self.doc.set_current_shot(self.model.shot_id(current.row()))

    def _follow_current(self, shot_id: str) -> None:
        row = self.doc.row_of(shot_id) if shot_id else -1
        cur = self.view.currentIndex()
        if row < 0 or (cur.isValid() and cur.row() == row):
            return
        if row not in {i.row() for i in self.view.selectionModel().selectedRows()}:
            self.select_ids([shot_id])
        else:
            self.view.selectionModel().setCurrentIndex(self.model.index(row, COL_PROMPT),
                                                       QItemSelectionModel.SelectionFlag.NoUpdate)

    # -- edits --------------------------------------------------------------------------------------
    def add_shot(self) -> None:
        ids = self.selected_ids()
        row = max(self.doc.row_of(i) for i in ids) + 1 if ids else None
        new = self.doc.add_shot(row=row)
        self.select_ids([new])
        self.view.setFocus()

    def duplicate_selected(self) -> None:
        new = self.doc.duplicate_shots(self.selected_ids())
        if new:
            self.select_ids(new)

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        after = max(self.doc.row_of(i) for i in ids) + 1
        self.doc.delete_shots(ids)
        # Keep a selection where the deleted block was, as editors expect.
        row = min(after - len(ids), self.doc.shot_count() - 1)
        if row >= 0:
            self.select_ids([self.doc.shot_at(row).id])

    def move_selected(self, delta: int) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        rows = [self.doc.row_of(i) for i in ids]
        if delta < 0:
            target = max(min(rows) - 1, 0)
        else:
            target = min(max(rows) + 2, self.doc.shot_count())
        self.doc.move_shots(ids, target)
        self.select_ids(ids)
