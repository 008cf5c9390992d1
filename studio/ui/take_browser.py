"""Takes review: every take of the current shot as a looping thumbnail, like a bin in an editor.

Each card shows the take playing, its seed and parameters, a star rating and its actions: use it on
the timeline, mark it A or B for a side-by-side comparison, delete it. Double-click plays it large
in the viewer. Ratings, the chosen take and deletion are document edits (undoable); which takes
are marked A/B and which card is focused are view state.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPolygonF
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from contract.rules import SAMPLERS
from studio.project.choice import take_duration
from studio.project.status import generating_params
from studio.ui.flow_layout import FlowLayout
from studio.ui.images import to_qimage

THUMB = 128
FIELD_NAMES = {"prompt": "prompt", "negative_prompt": "negative", "shot_size": "size", "camera": "camera",
               "motion": "motion", "duration": "duration", "steps": "steps", "guidance": "guidance",
               "sampler": "sampler", "mode": "mode", "reference_image": "reference", "source_video": "source",
               "strength": "strength", "continue_from_previous": "continuity"}


def describe(take) -> str:
    p = take.params
    # non-breaking spaces: a name must not wrap inside the narrow card
    sampler = SAMPLERS[p.sampler][1] if p.sampler in SAMPLERS else p.sampler
    secs = take_duration(take, requested=True)
    return f"seed {p.seed} · {secs:.1f}\u00a0s\n{p.steps}\u00a0steps · cfg\u00a0{p.guidance:g}\n{sampler}"


def differing_fields(shot_params, take_params) -> list[str]:
    """What the shot would now generate differently from this take (a new seed is not a difference:
    takes differ by seed on purpose)."""
    now, then = generating_params(shot_params), generating_params(take_params)
    return [FIELD_NAMES.get(k, k) for k in now if k != "seed" and now[k] != then.get(k)]


class StarRating(QWidget):
    """Five clickable stars; clicking the current rating clears it."""

    rated = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rating = 0
        self.setFixedSize(5 * 15 + 2, 16)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Rate this take (keys 0–5)")

    def set_rating(self, rating: int) -> None:
        self.rating = rating
        self.update()

    def paintEvent(self, e):  # noqa: N802
        from math import cos, pi, sin

        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for i in range(5):
            cx, cy, r = 8 + i * 15, 8, 6.5
            pts = [((cx + (r if k % 2 == 0 else r * 0.45) * cos(-pi / 2 + k * pi / 5)),
                    (cy + (r if k % 2 == 0 else r * 0.45) * sin(-pi / 2 + k * pi / 5))) for k in range(10)]
            poly = QPolygonF([QRectF(x, y, 0, 0).topLeft() for x, y in pts])
            filled = i < self.rating
            p.setPen(QColor(240, 190, 60) if filled else QColor(110, 112, 122))
            p.setBrush(QColor(240, 190, 60) if filled else Qt.BrushStyle.NoBrush)
            p.drawPolygon(poly)

    def mousePressEvent(self, e):  # noqa: N802
        n = min(5, max(1, int(e.position().x() // 15) + 1))
        self.rated.emit(0 if n == self.rating else n)


def fit_rect(box: QRectF, w: int, h: int) -> QRectF:
    """The largest rect of aspect w:h centred in `box`: a take keeps its shape (16:9, 9:16 or square)."""
    if w <= 0 or h <= 0:
        return box
    s = min(box.width() / w, box.height() / h)
    return QRectF(box.center().x() - w * s / 2, box.center().y() - h * s / 2, w * s, h * s)


class LoopingThumb(QWidget):
    """Paints frame `index` of a take's frames; the panel's timer advances it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frames = None
        self.index = 0
        self.badge = ""
        self.setFixedSize(THUMB, THUMB)

    def set_frames(self, frames) -> None:
        self.frames = frames
        self.index = 0
        self.update()

    def advance(self) -> None:
        if self.frames is not None and len(self.frames) > 1:
            self.index = (self.index + 1) % len(self.frames)
            self.update()

    def paintEvent(self, e):  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(10, 10, 12))
        if self.frames is None:
            p.setPen(QColor(200, 90, 80))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "media missing")
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        frame = self.frames[self.index]
        p.drawImage(fit_rect(QRectF(self.rect()), frame.shape[1], frame.shape[0]), to_qimage(frame))
        if self.badge:
            font = QFont(p.font())
            font.setBold(True)
            p.setFont(font)
            r = QRectF(6, 6, 22, 20)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            path = QPainterPath()
            path.addRoundedRect(r, 4, 4)
            p.fillPath(path, QColor(230, 120, 40) if self.badge == "A" else QColor(60, 140, 230))
            p.setPen(QColor(255, 255, 255))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.badge)


class TakeCard(QFrame):
    clicked = Signal(str)
    doubleClicked = Signal(str)

    def __init__(self, panel: TakesPanel, take, number: int):
        super().__init__()
        self.panel = panel
        self.take_id = take.id
        self.setObjectName("TakeCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.thumb = LoopingThumb()
        self.thumb.set_frames(panel.media.frames(take))
        if self.thumb.frames is None:
            self.thumb.setToolTip(panel.media.errors.get(take.id, "media file missing"))
        self.title = QLabel(f"Take {number}")
        self.title.setObjectName("CardTitle")
        self.stars = StarRating()
        self.stars.set_rating(take.rating)
        self.stars.rated.connect(lambda n: panel.rate(self.take_id, n))
        self.info = QLabel(describe(take))
        self.info.setObjectName("Dim")
        self.info.setWordWrap(False)  # three short lines, never broken inside a name
        self.info.setFixedWidth(THUMB)
        self.differs = QLabel()
        self.differs.setObjectName("Warning")
        self.differs.setToolTip("This take was made with other parameters than the shot has now")
        self.use = QPushButton("Use")
        self.use.setCheckable(True)
        self.use.setToolTip("Use this take on the timeline (Enter)")
        self.use.clicked.connect(lambda: panel.choose(self.take_id))
        self.a = self._toggle("A", "Compare: left side")
        self.b = self._toggle("B", "Compare: right side")
        self.delete = QToolButton()
        self.delete.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.delete.setToolTip("Delete this take (Del)")
        self.delete.setAutoRaise(True)
        self.delete.clicked.connect(lambda: panel.delete(self.take_id))
        for w in (self.use, self.a, self.b, self.delete):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.stars)
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(3)
        actions.addWidget(self.use, 1)
        actions.addWidget(self.a)
        actions.addWidget(self.b)
        actions.addWidget(self.delete)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(3)
        lay.addWidget(self.thumb)
        lay.addLayout(head)
        lay.addWidget(self.info)
        lay.addWidget(self.differs)
        lay.addLayout(actions)
        self.refresh(take)

    def _toggle(self, text: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setToolTip(tip)
        b.setObjectName(f"Compare{text}")
        b.clicked.connect(lambda on: self.panel.mark(text, self.take_id if on else None))
        return b

    def refresh(self, take) -> None:
        shot = self.panel.doc.shot(self.panel.shot_id)
        chosen = shot is not None and shot.chosen_take == take.id
        self.use.setChecked(chosen)
        self.use.setText("✓ In use" if chosen else "Use")
        self.use.setToolTip("On the timeline — click to take it off" if chosen else "Use this take on the timeline (Enter)")
        self.stars.set_rating(take.rating)
        differs = differing_fields(shot.params, take.params) if shot is not None else []
        self.differs.setText("≠ now: " + ", ".join(differs))
        self.differs.setVisible(bool(differs))
        self.a.setChecked(self.panel.compare_a == take.id)
        self.b.setChecked(self.panel.compare_b == take.id)
        self.thumb.badge = "A" if self.a.isChecked() else ("B" if self.b.isChecked() else "")
        self.setProperty("chosen", chosen)
        self.setProperty("focused", self.panel.focused_take == take.id)
        self.style().unpolish(self)
        self.style().polish(self)
        self.thumb.update()

    def mousePressEvent(self, e):  # noqa: N802
        self.clicked.emit(self.take_id)
        super().mousePressEvent(e)

    def mouseDoubleClickEvent(self, e):  # noqa: N802
        self.doubleClicked.emit(self.take_id)

    def keyPressEvent(self, e):  # noqa: N802
        key = e.key()
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_5:
            self.panel.rate(self.take_id, key - Qt.Key.Key_0)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.panel.choose(self.take_id)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.panel.delete(self.take_id)
        else:
            super().keyPressEvent(e)


class TakesPanel(QWidget):
    playRequested = Signal(str, str)  # shot id, take id
    compareRequested = Signal(str, str, str)  # shot id, take A, take B
    generateRequested = Signal()

    def __init__(self, doc, media, parent=None):
        super().__init__(parent)
        self.setObjectName("TakesPanel")
        self.doc = doc
        self.media = media
        self.shot_id = ""
        self.cards: dict[str, TakeCard] = {}
        self.compare_a: str | None = None
        self.compare_b: str | None = None
        self.focused_take: str | None = None
        self._build()
        self.timer = QTimer(self)  # runs while cards are shown, at their takes' rate (_loop_at)
        self.timer.timeout.connect(self._advance)
        doc.currentShotChanged.connect(self.show_shot)
        doc.takesChanged.connect(self._takes_changed)
        doc.shotChanged.connect(self._shot_changed)
        doc.shotsReset.connect(lambda: self.show_shot(doc.current_shot_id))
        doc.shotsRemoved.connect(lambda *_: self.show_shot(doc.current_shot_id))
        doc.pathChanged.connect(lambda _p: self.show_shot(doc.current_shot_id))
        self.show_shot(doc.current_shot_id)

    def _build(self) -> None:
        self.title = QLabel("Takes")
        self.title.setObjectName("PanelTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("Dim")
        self.compare_button = QPushButton("Compare A | B")
        self.compare_button.setToolTip("Play the takes marked A and B side by side, in sync")
        self.compare_button.clicked.connect(self.compare)
        head = QHBoxLayout()
        head.setContentsMargins(8, 4, 8, 0)
        head.addWidget(self.title)
        head.addSpacing(8)
        head.addWidget(self.subtitle, 1)
        head.addWidget(self.compare_button)
        self.grid_host = QWidget()
        self.grid = FlowLayout(self.grid_host, spacing=8)
        self.grid.setContentsMargins(8, 6, 8, 8)
        self.empty = QLabel()
        self.empty.setObjectName("Dim")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.grid_host)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.empty, 1)
        lay.addWidget(self.scroll, 1)

    # -- showing --------------------------------------------------------------------------------------
    def show_shot(self, shot_id: str) -> None:
        if shot_id != self.shot_id:
            self.compare_a = self.compare_b = self.focused_take = None
        self.shot_id = shot_id if self.doc.shot(shot_id) is not None else ""
        self.rebuild()

    def rebuild(self) -> None:
        for card in self.cards.values():
            self.grid.removeWidget(card)
            card.hide()  # gone now, not when the deferred delete runs
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        shot = self.doc.shot(self.shot_id) if self.shot_id else None
        takes = list(shot.takes) if shot is not None else []
        ids = {t.id for t in takes}
        if self.compare_a not in ids:
            self.compare_a = None
        if self.compare_b not in ids:
            self.compare_b = None
        for n, take in enumerate(takes, start=1):
            card = TakeCard(self, take, n)
            card.clicked.connect(self._focus)
            card.doubleClicked.connect(lambda tid: self.playRequested.emit(self.shot_id, tid))
            self.grid.addWidget(card)
            self.cards[take.id] = card
        if shot is None:
            self.subtitle.setText("")
            self.empty.setText("Select a shot to see its takes.")
        else:
            row = self.doc.row_of(shot.id)
            self.subtitle.setText(f"Shot {row + 1} · {len(takes)} take{'s' if len(takes) != 1 else ''}"
                                  "  ·  double-click to play, mark A and B to compare")
            self.empty.setText("No takes yet. Generate this shot (Ctrl+G) and its takes appear here "
                               "as they finish.")
        self.empty.setVisible(not takes)
        self.scroll.setVisible(bool(takes))
        self._loop_at(takes)
        self._update_compare()

    def _loop_at(self, takes) -> None:
        """Cards loop at their takes' own frame rate (the model's, from each take's metadata)."""
        if not takes:
            self.timer.stop()
            return
        self.timer.setInterval(max(15, round(1000 / max(t.fps for t in takes))))
        if not self.timer.isActive():
            self.timer.start()

    def _takes_changed(self, shot_id: str) -> None:
        if shot_id == self.shot_id:
            self.rebuild()

    def _shot_changed(self, shot_id: str) -> None:
        if shot_id == self.shot_id:
            self.refresh_cards()

    def refresh_cards(self) -> None:
        for take_id, card in self.cards.items():
            take = self.doc.take(self.shot_id, take_id)
            if take is not None:
                card.refresh(take)
        self._update_compare()

    def _advance(self) -> None:
        if not self.isVisible():
            return
        for card in self.cards.values():
            card.thumb.advance()

    def _focus(self, take_id: str) -> None:
        self.focused_take = take_id
        self.refresh_cards()

    def _update_compare(self) -> None:
        self.compare_button.setEnabled(bool(self.compare_a and self.compare_b))

    # -- actions ------------------------------------------------------------------------------------------
    def choose(self, take_id: str) -> None:
        shot = self.doc.shot(self.shot_id)
        if shot is None:
            return
        # Clicking the take in use again takes it off the timeline.
        self.doc.choose_take(self.shot_id, None if shot.chosen_take == take_id else take_id)
        self.refresh_cards()

    def rate(self, take_id: str, stars: int) -> None:
        self.doc.rate_take(self.shot_id, take_id, stars)
        self.refresh_cards()

    def delete(self, take_id: str) -> None:
        self.doc.delete_take(self.shot_id, take_id)

    def mark(self, side: str, take_id: str | None) -> None:
        if side == "A":
            self.compare_a = take_id
            if take_id and self.compare_b == take_id:
                self.compare_b = None
        else:
            self.compare_b = take_id
            if take_id and self.compare_a == take_id:
                self.compare_a = None
        self.refresh_cards()
        if self.compare_a and self.compare_b:
            self.compare()

    def compare(self) -> None:
        if self.compare_a and self.compare_b:
            self.compareRequested.emit(self.shot_id, self.compare_a, self.compare_b)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, THUMB + 130)
