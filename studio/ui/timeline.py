"""The timeline: chosen takes in film order on one track, as an NLE shows them.

Clips are as wide as their trimmed duration; drag an edge to trim (in/out), drag the body to
reorder, double-click or right-click the marker between two clips to set the transition into the
second one. The ruler shows timecode; click or drag it (or the playhead) to scrub; Ctrl+wheel or
the buttons zoom. This module is the panel (header and view, keys and zoom); the scene and its items
are timeline_scene / timeline_items, the edits timeline_edits, the transition dialog transition_dialog.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QHBoxLayout, QLabel, QStyle, QToolButton, QVBoxLayout, QWidget

from studio.media.timecode import format_seconds
from studio.ui.timeline_items import LEFT, TRACK_H, TRACK_Y
from studio.ui.timeline_scene import TimelineScene


class TimelineView(QGraphicsView):
    transportKey = Signal(int, object)  # key, modifiers → the player

    def __init__(self, scene: TimelineScene, parent=None):
        super().__init__(scene, parent)
        self.tl = scene
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(int(TRACK_Y + TRACK_H + 30))

    def resizeEvent(self, e):  # noqa: N802
        super().resizeEvent(e)
        self.tl.set_min_width(self.viewport().width())

    def wheelEvent(self, e):  # noqa: N802
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.25 if e.angleDelta().y() > 0 else 0.8
            self.zoom_by(factor, e.position().x())
            e.accept()
            return
        # A plain wheel scrolls the film sideways (there is one track).
        bar = self.horizontalScrollBar()
        delta = e.angleDelta().y() or e.angleDelta().x()
        bar.setValue(bar.value() - delta)
        e.accept()

    def zoom_by(self, factor: float, anchor_view_x: float | None = None) -> None:
        """Zoom keeping the time under `anchor_view_x` (default: the playhead) where it is."""
        if anchor_view_x is None:
            anchor_s = self.tl.playhead_s
            anchor_view_x = self.mapFromScene(QPointF(self.tl.x_of(anchor_s), 0)).x()
        else:
            anchor_s = self.tl.s_of(self.mapToScene(int(anchor_view_x), 0).x())
        self.tl.set_zoom(self.tl.px_per_s * factor)
        self.horizontalScrollBar().setValue(int(self.tl.x_of(anchor_s) - anchor_view_x))

    def zoom_to_fit(self) -> None:
        duration = self.tl.duration()
        if duration <= 0:
            return
        self.tl.set_zoom((self.viewport().width() - LEFT - 30) / duration)
        self.horizontalScrollBar().setValue(0)

    def keyPressEvent(self, e):  # noqa: N802
        k = Qt.Key
        if e.key() in (k.Key_Plus, k.Key_Equal):
            self.zoom_by(1.25)
        elif e.key() == k.Key_Minus:
            self.zoom_by(0.8)
        elif e.key() in (k.Key_Delete, k.Key_Backspace):
            self.tl.remove_current_clip()
        elif e.key() in (k.Key_Space, k.Key_J, k.Key_K, k.Key_L, k.Key_Left, k.Key_Right, k.Key_I, k.Key_O,
                         k.Key_Home, k.Key_End):
            self.transportKey.emit(e.key(), e.modifiers())
        else:
            super().keyPressEvent(e)


class TimelinePanel(QWidget):
    """Header (duration, zoom buttons) over the view."""

    def __init__(self, doc, media, parent=None):
        super().__init__(parent)
        self.setObjectName("TimelinePanel")
        self.doc = doc
        self.scene = TimelineScene(doc, media, self)
        self.view = TimelineView(self.scene)
        self.info = QLabel()
        self.info.setObjectName("Dim")

        def button(text, tip, slot, icon=None):
            b = QToolButton()
            if icon is not None:
                b.setIcon(self.style().standardIcon(icon))
            else:
                b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            return b

        self.play_button = button("▶ Play timeline", "Play the whole film in the viewer", lambda: None,
                                  QStyle.StandardPixmap.SP_MediaPlay)
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.setText("Play film")
        header = QHBoxLayout()
        header.setContentsMargins(8, 2, 6, 0)
        header.addWidget(self.info)
        header.addStretch(1)
        header.addWidget(self.play_button)
        header.addSpacing(10)
        header.addWidget(button("−", "Zoom out (Ctrl+wheel, −)", lambda: self.view.zoom_by(0.8)))
        header.addWidget(button("+", "Zoom in (Ctrl+wheel, +)", lambda: self.view.zoom_by(1.25)))
        header.addWidget(button("Fit", "Zoom to fit the whole film", self.view.zoom_to_fit))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)
        # Rebuilds are deferred to the event loop: an edit made on a mouse release must not delete
        # the item still handling that release, and bursts of document signals rebuild once.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.refresh_now)
        for signal in (doc.timelineChanged, doc.settingsChanged, doc.shotsMoved, doc.shotsReset,
                       doc.shotsRemoved, doc.shotChanged, doc.takesChanged):
            signal.connect(self.refresh)
        doc.currentShotChanged.connect(lambda _id: self.scene.update())
        self.refresh_now()

    def refresh(self, *_args) -> None:
        self._pending.start()

    def refresh_now(self) -> None:
        self._pending.stop()
        self.scene.rebuild()
        n = len(self.scene.spans)
        fps = self.doc.settings.fps
        self.info.setText(f"{n} clip{'s' if n != 1 else ''}  ·  {format_seconds(self.scene.duration(), fps)}"
                          f"  ·  {fps:g} fps")
