"""The shot list: the storyboard as a table, one row per shot, bound to the project document.

The rows come from `shot_table_model.ShotTableModel`; this module draws the cells that are more than
text (status pill, thumbnail, combo editors) and holds the table with its toolbar. Edits made in
cells, by drag and drop or by the toolbar all go through document methods.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter
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

from studio.project.schema import ShotStatus
from studio.ui.badges import STATUS_COLORS, paint_badge
from studio.ui.labels import AUTO_LABEL, CAMERA_LABELS, SIZE_LABELS
from studio.ui.shot_table_model import (
    COL_CAMERA,
    COL_DURATION,
    COL_NUM,
    COL_PROMPT,
    COL_SIZE,
    COL_STATUS,
    COL_TAKES,
    COL_THUMB,
    HEADERS,
    THUMB,
    ProgressRole,
    ShotTableModel,
    StatusRole,
)

ROW_HEIGHT = 50


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
            combo.addItem(AUTO_LABEL if label == "—" else label, value)
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
        self.act_gen_takes = self._action("Generate Takes…", lambda: self.generateRequested.emit("takes"), None,
                                          "Queue several takes of the selected shots, each with its own seed")

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
        menu.addActions([self.act_gen_selected, self.act_gen_stale, self.act_gen_all, self.act_gen_takes])
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
        seconds = sum(s.params.duration.seconds for s in self.doc.data.shots)
        self.count_label.setText(f"{total} shot{'s' if total != 1 else ''} · {round(seconds, 2):g} s")

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
