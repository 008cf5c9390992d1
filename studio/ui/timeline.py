"""The timeline: chosen takes in film order on one track, as an NLE shows them.

Clips are as wide as their trimmed duration; drag an edge to trim (in/out), drag the body to
reorder, double-click or right-click the marker between two clips to set the transition into the
second one. The ruler shows timecode; click or drag it (or the playhead) to scrub; Ctrl+wheel or
the buttons zoom. Nothing here is kept between edits: every change is a document call (one undo
step) and the scene is rebuilt from the document when it says the timeline changed.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.project.schema import ShotStatus, TransitionKind
from studio.ui.timecode import format_seconds
from studio.ui.timeline_layout import MIN_CLIP_S, ClipSpan, layout, total_duration

LEFT = 14.0  # px before time 0
RULER_H = 24.0
TRACK_Y = 32.0
TRACK_H = 84.0
LABEL_H = 18.0
EDGE_PX = 7.0  # grab zone for trimming at each clip edge
MARKER_H = 16.0  # transition markers: a band along the bottom of the track
MIN_PX_PER_S, MAX_PX_PER_S = 4.0, 1200.0

TRANSITION_NAMES = {
    TransitionKind.CUT: "Cut",
    TransitionKind.CROSSFADE: "Crossfade",
    TransitionKind.FADE_BLACK: "Fade through black",
}
CLIP_COLORS = [QColor(58, 96, 150), QColor(64, 122, 110), QColor(122, 90, 150), QColor(146, 104, 62),
               QColor(88, 112, 150), QColor(130, 78, 92)]


def nice_tick(px_per_s: float, fps: float, min_px: float = 90.0) -> tuple[float, float]:
    """(major, minor) tick spacing in seconds so that labels are at least `min_px` apart."""
    frame = 1.0 / fps
    steps = [frame, 2 * frame, 5 * frame, 10 * frame, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]
    major = next((s for s in steps if s * px_per_s >= min_px), steps[-1])
    minor_div = 5 if major >= 1 and major in (5, 10, 15, 30, 60) else 4
    if major <= 10 * frame:
        minor_div = max(1, round(major / frame))
    return major, major / minor_div


class RulerItem(QGraphicsItem):
    def __init__(self, scene: TimelineScene):
        super().__init__()
        self.tl = scene
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setCursor(Qt.CursorShape.IBeamCursor)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setToolTip("Click or drag to move the playhead")

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0, 0, self.tl.scene_width(), RULER_H)

    def paint(self, p: QPainter, option, widget=None):
        r = option.exposedRect
        p.fillRect(r.intersected(self.boundingRect()), QColor(34, 35, 40))
        fps = self.tl.fps
        major, minor = nice_tick(self.tl.px_per_s, fps)
        t0 = max(0.0, self.tl.s_of(r.left()) - major)
        t1 = self.tl.s_of(r.right()) + major
        p.setPen(QPen(QColor(95, 97, 108), 1))
        n0, n1 = math.floor(t0 / minor), math.ceil(t1 / minor)
        for n in range(n0, n1 + 1):
            x = self.tl.x_of(n * minor)
            p.drawLine(QPointF(x, RULER_H - 5), QPointF(x, RULER_H))
        font = QFont(p.font())
        font.setPointSizeF(7.5)
        p.setFont(font)
        m0, m1 = math.floor(t0 / major), math.ceil(t1 / major)
        for n in range(max(m0, 0), m1 + 1):
            t = n * major
            x = self.tl.x_of(t)
            p.setPen(QPen(QColor(140, 142, 155), 1))
            p.drawLine(QPointF(x, RULER_H - 11), QPointF(x, RULER_H))
            p.setPen(QColor(170, 172, 182))
            p.drawText(QPointF(x + 3, 11), format_seconds(t, fps))
        p.setPen(QPen(QColor(20, 20, 24), 1))
        p.drawLine(QPointF(r.left(), RULER_H - 0.5), QPointF(r.right(), RULER_H - 0.5))

    def mousePressEvent(self, e):  # noqa: N802
        self.tl.seek_to_x(e.scenePos().x())

    def mouseMoveEvent(self, e):  # noqa: N802
        self.tl.seek_to_x(e.scenePos().x())


class PlayheadItem(QGraphicsItem):
    def __init__(self, scene: TimelineScene):
        super().__init__()
        self.tl = scene
        self.setZValue(100)
        self.setCursor(Qt.CursorShape.SizeHorCursor)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-6, 0, 12, TRACK_Y + TRACK_H + 6)

    def paint(self, p: QPainter, option, widget=None):
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(235, 70, 60)
        p.setPen(QPen(color, 1.2))
        p.drawLine(QPointF(0, 6), QPointF(0, TRACK_Y + TRACK_H + 6))
        p.setBrush(color)
        p.drawPolygon(QPolygonF([QPointF(-6, 0), QPointF(6, 0), QPointF(6, 6), QPointF(0, 12), QPointF(-6, 6)]))

    def mousePressEvent(self, e):  # noqa: N802
        self.tl.seek_to_x(e.scenePos().x())

    def mouseMoveEvent(self, e):  # noqa: N802
        self.tl.seek_to_x(e.scenePos().x())


class ClipItem(QGraphicsObject):
    """One clip. Its geometry during a drag is a preview; the edit happens on release.

    Clips are drawn butt to butt at their edit points, as NLEs draw them: a crossfade of d overlaps
    two clips in the film, so each hides d/2 of its media under the transition box centred on the
    cut, and the edges stay side by side where they can be grabbed.
    """

    def __init__(self, scene: TimelineScene, span: ClipSpan, label: str, color: QColor, stale: bool,
                 hide_head: float = 0.0, hide_tail: float = 0.0):
        super().__init__()
        self.tl = scene
        self.span = span
        self.hide_head = hide_head  # seconds of the clip under the incoming crossfade's left half
        self.hide_tail = hide_tail
        self.label = label
        self.color = color
        self.stale = stale
        self.mode: str | None = None  # "in" | "out" | "move" while dragging
        self._press_x = 0.0
        self.preview_in = span.in_s
        self.preview_out = span.out_s
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setPos(self.home_x(), TRACK_Y)
        self.setZValue(10 + span.index)
        self.setToolTip(f"{label}\nIn {format_seconds(span.in_s, scene.fps)}  Out "
                        f"{format_seconds(span.out_s, scene.fps)}  ·  {span.length_s:.2f} s\n"
                        "Drag edges to trim · drag to reorder · double-click to play")

    # -- geometry ---------------------------------------------------------------------------------
    def home_x(self) -> float:
        return self.tl.x_of(self.span.start_s + self.hide_head)

    def _width(self) -> float:
        shown = self.preview_out - self.preview_in - self.hide_head - self.hide_tail
        return max(shown * self.tl.px_per_s, 4.0)

    def _left(self) -> float:
        """Left edge offset while trimming the in point (the clip start stays put on release,
        so the preview shows the head being eaten from the left)."""
        return (self.preview_in - self.span.in_s) * self.tl.px_per_s if self.mode == "in" else 0.0

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(self._left(), 0, self._width(), TRACK_H)

    def shape(self):
        path = QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def edge_at(self, local_x: float) -> str | None:
        r = self.boundingRect()
        grab = min(EDGE_PX, r.width() / 3)
        if local_x <= r.left() + grab:
            return "in"
        if local_x >= r.right() - grab:
            return "out"
        return None

    # -- painting ---------------------------------------------------------------------------------
    def paint(self, p: QPainter, option, widget=None):
        r = self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5)
        selected = self.span.shot_id == self.tl.current_shot_id
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        path.addRoundedRect(r, 4, 4)
        p.fillPath(path, self.color.darker(160))
        p.save()
        p.setClipPath(path)
        strip = QRectF(r.left(), r.top() + LABEL_H, r.width(), r.height() - LABEL_H)
        self._paint_filmstrip(p, strip)
        head = QRectF(r.left(), r.top(), r.width(), LABEL_H)
        p.fillRect(head, self.color)
        if self.stale:
            p.fillRect(QRectF(r.left(), r.top(), r.width(), 3), QColor(240, 160, 40))
        p.setPen(QColor(240, 240, 245))
        font = QFont(p.font())
        font.setPointSizeF(8)
        p.setFont(font)
        text = self.label
        if self.mode in ("in", "out"):
            edge = self.preview_in if self.mode == "in" else self.preview_out
            text = (f"{'IN' if self.mode == 'in' else 'OUT'} {format_seconds(edge, self.tl.fps)}"
                    f"  ·  {self.preview_out - self.preview_in:.2f} s")
        tag_w = 0.0
        if self.stale and self.mode is None and head.width() > 90:
            # The take on the timeline no longer matches its shot: say so where the editor looks.
            tag_w = p.fontMetrics().horizontalAdvance("stale") + 12
            tag = QRectF(head.right() - tag_w - 3, head.top() + 3, tag_w, head.height() - 6)
            p.setBrush(QColor(214, 140, 30))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(tag, 3, 3)
            p.setPen(QColor(255, 255, 255))
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, "stale")
            p.setPen(QColor(240, 240, 245))
        p.drawText(head.adjusted(6, 0, -4 - tag_w, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(head.width() - 10 - tag_w)))
        # Trim handles: brighter bars at the edges (hinting that they are draggable).
        p.fillRect(QRectF(r.left(), r.top() + LABEL_H, 3, r.height() - LABEL_H), QColor(255, 255, 255, 60))
        p.fillRect(QRectF(r.right() - 3, r.top() + LABEL_H, 3, r.height() - LABEL_H), QColor(255, 255, 255, 60))
        p.restore()
        pen = QPen(QColor(250, 200, 80) if selected else self.color.lighter(130), 2.0 if selected else 1.0)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)

    def _paint_filmstrip(self, p: QPainter, strip: QRectF) -> None:
        take = self.tl.take_of_span(self.span)
        h = strip.height()
        if take is None:
            return
        # tiles keep the take's own aspect (16:9 takes of a latent model, square ones of the 32-px model)
        tile_w = h * take.width / take.height if take.width > 0 and take.height > 0 else h
        n = max(1, math.ceil(strip.width() / tile_w))
        for i in range(n):
            x = strip.left() + i * tile_w
            t = self.preview_in + self.hide_head + (x - strip.left() + tile_w / 2) / self.tl.px_per_s
            pm = self.tl.thumbnail(take, t, int(h))
            if pm is None:
                p.fillRect(QRectF(x, strip.top(), tile_w, h), QColor(40, 40, 44))
                continue
            p.drawPixmap(QRectF(x, strip.top(), tile_w, h), pm, QRectF(pm.rect()))
        p.fillRect(strip, QColor(0, 0, 0, 40))

    # -- interaction (the mouse events call these; tests may too) ----------------------------------
    def begin_drag(self, local_x: float, scene_x: float) -> None:
        self.mode = self.edge_at(local_x) or "move"
        self._press_x = scene_x
        self.preview_in, self.preview_out = self.span.in_s, self.span.out_s
        if self.mode == "move":
            self.setZValue(50)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.tl.clip_clicked(self.span.shot_id)

    def drag_to(self, scene_x: float) -> None:
        dx = scene_x - self._press_x
        ds = dx / self.tl.px_per_s
        s = self.span
        self.prepareGeometryChange()
        if self.mode == "in":
            self.preview_in = self.tl.snap(min(max(s.in_s + ds, 0.0), s.out_s - MIN_CLIP_S))
        elif self.mode == "out":
            self.preview_out = self.tl.snap(min(max(s.out_s + ds, s.in_s + MIN_CLIP_S), s.take_s))
        elif self.mode == "move":
            self.setX(self.home_x() + dx)
            self.tl.show_drop_marker(self.drop_index())
        self.update()

    def end_drag(self, scene_x: float) -> None:
        self.drag_to(scene_x)
        mode, self.mode = self.mode, None
        self.tl.show_drop_marker(None)
        if mode == "in" and abs(self.preview_in - self.span.in_s) > 1e-6:
            self.tl.commit_trim(self.span.shot_id, self.preview_in, self._out_or_none(self.span.out_s))
        elif mode == "out" and abs(self.preview_out - self.span.out_s) > 1e-6:
            self.tl.commit_trim(self.span.shot_id, self.span.in_s, self._out_or_none(self.preview_out))
        elif mode == "move":
            index = self.drop_index()
            if index != self.span.index:
                self.tl.commit_move(self.span.shot_id, index)
                return
            self.setX(self.home_x())
            self.setZValue(10 + self.span.index)
        self.prepareGeometryChange()
        self.update()

    def _out_or_none(self, out_s: float) -> float | None:
        # A clip running to the end of its take keeps `None`, so a longer regenerated take is not cut.
        return None if abs(out_s - self.span.take_s) < 1e-6 else out_s

    def drop_index(self) -> int:
        """Where this clip lands if dropped now: after every other clip whose centre is left of
        its centre."""
        centre = self.x() + self._width() / 2
        others = [c for c in self.tl.clip_items if c is not self]
        return sum(1 for c in others if c.x() + c._width() / 2 < centre)

    def hoverMoveEvent(self, e):  # noqa: N802
        edge = self.edge_at(e.pos().x())
        self.setCursor(Qt.CursorShape.SizeHorCursor if edge else Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, e):  # noqa: N802
        if e.button() != Qt.MouseButton.LeftButton:
            e.ignore()
            return
        self.begin_drag(e.pos().x(), e.scenePos().x())

    def mouseMoveEvent(self, e):  # noqa: N802
        if self.mode:
            self.drag_to(e.scenePos().x())

    def mouseReleaseEvent(self, e):  # noqa: N802
        if self.mode:
            self.end_drag(e.scenePos().x())
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, e):  # noqa: N802
        self.tl.clipActivated.emit(self.span.shot_id)

    def contextMenuEvent(self, e):  # noqa: N802
        self.tl.clip_clicked(self.span.shot_id)
        self.tl.clipContextMenu.emit(self.span.shot_id, e.screenPos())


class TransitionItem(QGraphicsObject):
    """The marker for the cut into clip `span` from the clip before it."""

    def __init__(self, scene: TimelineScene, span: ClipSpan, prev: ClipSpan | None):
        super().__init__()
        self.tl = scene
        self.span = span
        self.setZValue(60)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        kind = span.transition
        d = span.transition_s
        if prev is None:  # into the first clip only a fade in from black counts (assembly's rule)
            a, b = span.start_s, span.start_s + d / 2
        elif kind == TransitionKind.CROSSFADE:
            a, b = span.start_s, prev.end_s
        elif kind == TransitionKind.FADE_BLACK:
            a, b = prev.end_s - d / 2, prev.end_s + d / 2
        else:
            a = b = prev.end_s
        x0, x1 = scene.x_of(a), scene.x_of(b)
        if x1 - x0 < 16:  # keep a clickable size however far out the view is zoomed
            mid = (x0 + x1) / 2
            x0, x1 = mid - 8, mid + 8
        # A band along the bottom of the track: the clip edges above it stay free for trimming.
        self._rect = QRectF(x0, TRACK_Y + TRACK_H - MARKER_H - 2, x1 - x0, MARKER_H)
        name = TRANSITION_NAMES[kind]
        length = f" {span.transition_s:.2f} s" if kind != TransitionKind.CUT else ""
        self.setToolTip(f"{name}{length} into this clip — double-click or right-click to change")

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, p: QPainter, option, widget=None):
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self._rect
        kind = self.span.transition
        if kind == TransitionKind.CUT:
            c = r.center()
            h = MARKER_H / 2
            diamond = QPolygonF([QPointF(c.x(), c.y() - h), QPointF(c.x() + 6, c.y()), QPointF(c.x(), c.y() + h),
                                 QPointF(c.x() - 6, c.y())])
            p.setPen(QPen(QColor(20, 20, 24), 1))
            p.setBrush(QColor(200, 200, 210))
            p.drawPolygon(diamond)
            return
        g = QLinearGradient(r.topLeft(), r.topRight())
        if kind == TransitionKind.CROSSFADE:
            g.setColorAt(0, QColor(255, 255, 255, 170))
            g.setColorAt(1, QColor(255, 255, 255, 30))
        else:
            g.setColorAt(0, QColor(0, 0, 0, 60))
            g.setColorAt(0.5, QColor(0, 0, 0, 235))
            g.setColorAt(1, QColor(0, 0, 0, 60))
        p.setPen(QPen(QColor(230, 230, 240), 1))
        p.setBrush(QBrush(g))
        p.drawRoundedRect(r, 3, 3)
        if kind == TransitionKind.CROSSFADE:
            p.setPen(QPen(QColor(40, 40, 50), 1.2))
            p.drawLine(r.topLeft() + QPointF(2, 2), r.bottomRight() - QPointF(2, 2))
            p.drawLine(r.bottomLeft() + QPointF(2, -2), r.topRight() + QPointF(-2, 2))

    def mousePressEvent(self, e):  # noqa: N802
        e.accept()

    def mouseDoubleClickEvent(self, e):  # noqa: N802
        self.tl.edit_transition(self.span.shot_id)

    def contextMenuEvent(self, e):  # noqa: N802
        self.tl.transition_menu(self.span.shot_id).exec(e.screenPos())


class TransitionDialog(QDialog):
    def __init__(self, kind: TransitionKind, duration: float, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Transition")
        self.kind = QComboBox()
        for k, name in TRANSITION_NAMES.items():
            self.kind.addItem(name, k)
        self.kind.setCurrentIndex(list(TRANSITION_NAMES).index(kind))
        self.length = QDoubleSpinBox()
        self.length.setRange(0.0, 10.0)
        self.length.setSingleStep(0.25)
        self.length.setDecimals(2)
        self.length.setSuffix(" s")
        self.length.setValue(duration if duration > 0 else 0.5)
        self.kind.currentIndexChanged.connect(self._sync)
        form = QFormLayout(self)
        form.addRow("Type", self.kind)
        form.addRow("Length", self.length)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._sync()

    def _sync(self) -> None:
        self.length.setEnabled(self.kind.currentData() != TransitionKind.CUT)

    def values(self) -> tuple[TransitionKind, float]:
        kind = self.kind.currentData()
        return kind, (0.0 if kind == TransitionKind.CUT else self.length.value())


class TimelineScene(QGraphicsScene):
    seekRequested = Signal(float)  # seconds into the film
    clipActivated = Signal(str)  # shot id (double-click: play it)
    clipContextMenu = Signal(str, object)  # shot id, screen pos
    editFailed = Signal(str)  # one-line message from the document

    def __init__(self, doc, media, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.media = media
        self.px_per_s = 80.0
        self.min_width = 0.0
        self.playhead_s = 0.0
        self.spans: list[ClipSpan] = []
        self.clip_items: list[ClipItem] = []
        self._thumbs: dict[tuple, QPixmap | None] = {}
        self._drop_marker = None
        self.dialog_factory = TransitionDialog  # tests replace it
        self.setBackgroundBrush(QColor(26, 27, 31))
        self.rebuild()

    # -- document ---------------------------------------------------------------------------------
    @property
    def fps(self) -> float:
        return self.doc.settings.fps

    @property
    def current_shot_id(self) -> str:
        return self.doc.current_shot_id

    def take_of_span(self, span: ClipSpan):
        return self.doc.take(span.shot_id, span.take_id)

    def compute_spans(self) -> list[ClipSpan]:
        return layout(self.doc.clips(), lambda c: self.doc.take(c.shot_id, c.take_id))

    def duration(self) -> float:
        return total_duration(self.spans)

    # -- coordinates ------------------------------------------------------------------------------
    def x_of(self, seconds: float) -> float:
        return LEFT + seconds * self.px_per_s

    def s_of(self, x: float) -> float:
        return (x - LEFT) / self.px_per_s

    def scene_width(self) -> float:
        # At least the view's width, so the track and ruler run edge to edge.
        return max(self.x_of(self.duration()) + 400, self.min_width)

    def set_min_width(self, width: float) -> None:
        if abs(width - self.min_width) > 0.5:
            grow = width > self.scene_width()
            self.min_width = width
            if grow:
                self.rebuild()

    def snap(self, seconds: float) -> float:
        """To the nearest project frame."""
        return round(seconds * self.fps) / self.fps

    # -- building ---------------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.clear()
        self._drop_marker = None
        self.spans = self.compute_spans()
        self.clip_items = []
        width = self.scene_width()
        self.setSceneRect(0, 0, width, TRACK_Y + TRACK_H + 12)
        self.addItem(RulerItem(self))
        track = self.addRect(QRectF(0, TRACK_Y - 2, width, TRACK_H + 4), QPen(Qt.PenStyle.NoPen),
                             QColor(31, 32, 37))
        track.setZValue(-1)
        if not self.spans:
            hint = self.addText("Choose a take for a shot (Takes panel → ✓ Use) to put it on the timeline")
            hint.setDefaultTextColor(QColor(120, 122, 132))
            hint.setPos(LEFT + 8, TRACK_Y + TRACK_H / 2 - 12)
        for i, span in enumerate(self.spans):
            nxt = self.spans[i + 1] if i + 1 < len(self.spans) else None
            head = span.transition_s / 2 if i > 0 and span.transition == TransitionKind.CROSSFADE else 0.0
            tail = nxt.transition_s / 2 if nxt is not None and nxt.transition == TransitionKind.CROSSFADE else 0.0
            shot = self.doc.shot(span.shot_id)
            row = self.doc.row_of(span.shot_id)
            prompt = shot.params.prompt if shot else ""
            label = f"{row + 1}  {prompt}" if prompt else f"Shot {row + 1}"
            stale = shot is not None and shot.status == ShotStatus.STALE
            item = ClipItem(self, span, label, CLIP_COLORS[row % len(CLIP_COLORS)], stale, head, tail)
            self.addItem(item)
            self.clip_items.append(item)
        for i, span in enumerate(self.spans):
            self.addItem(TransitionItem(self, span, self.spans[i - 1] if i else None))
        self.playhead = PlayheadItem(self)
        self.addItem(self.playhead)
        self.set_playhead(self.playhead_s)

    def set_zoom(self, px_per_s: float) -> None:
        px_per_s = min(max(px_per_s, MIN_PX_PER_S), MAX_PX_PER_S)
        if abs(px_per_s - self.px_per_s) > 1e-9:
            self.px_per_s = px_per_s
            self.rebuild()

    def set_playhead(self, seconds: float) -> None:
        self.playhead_s = max(0.0, seconds)
        self.playhead.setPos(self.x_of(self.playhead_s), 0)

    def thumbnail(self, take, seconds: float, height: int) -> QPixmap | None:
        frames_fps = take.fps or 8.0
        index = max(0, min(int(seconds * frames_fps), max(take.frames - 1, 0)))
        key = (take.id, index, height)
        if key not in self._thumbs:
            img = self.media.image(take, index)
            width = round(height * img.width() / img.height()) if img is not None and img.height() else height
            self._thumbs[key] = None if img is None else QPixmap.fromImage(img.scaled(
                width, height, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        return self._thumbs[key]

    def clear_thumbnails(self) -> None:
        self._thumbs.clear()

    def show_drop_marker(self, index: int | None) -> None:
        if self._drop_marker is not None:
            self.removeItem(self._drop_marker)
            self._drop_marker = None
        if index is None:
            return
        others = [s for s in self.spans if s.index != self._dragged_index()]
        x = self.x_of(others[index].start_s) if index < len(others) else self.x_of(
            others[-1].end_s if others else 0.0)
        self._drop_marker = self.addRect(QRectF(x - 1.5, TRACK_Y - 4, 3, TRACK_H + 8), QPen(Qt.PenStyle.NoPen),
                                         QColor(250, 200, 80))
        self._drop_marker.setZValue(90)

    def _dragged_index(self) -> int:
        return next((c.span.index for c in self.clip_items if c.mode == "move"), -1)

    # -- actions (all edits go to the document) ----------------------------------------------------
    def seek_to_x(self, x: float) -> None:
        seconds = min(max(self.s_of(x), 0.0), self.duration())
        self.set_playhead(seconds)
        self.seekRequested.emit(seconds)

    def clip_clicked(self, shot_id: str) -> None:
        self.doc.set_current_shot(shot_id)
        self.update()

    def commit_trim(self, shot_id: str, in_s: float, out_s: float | None) -> None:
        # A drag is committed once, on release: its own undo step, never merged with the last drag.
        if self.doc.clip_for(shot_id) is None:
            return
        err = self.doc.trim_clip(shot_id, in_s, out_s, merge=False)
        if err is not None:
            self.editFailed.emit(err.message)
            QTimer.singleShot(0, self.rebuild)  # not now: the dragged item is still in its event

    def remove_current_clip(self) -> None:
        """Take the selected clip off the timeline (its shot keeps its takes; undoable)."""
        sid = self.current_shot_id
        if sid and self.doc.clip_for(sid) is not None:
            self.doc.choose_take(sid, None)

    def follow_playhead(self, seconds: float) -> None:
        """While the film plays: move the playhead and keep it in view."""
        self.set_playhead(seconds)
        for view in self.views():
            view.ensureVisible(self.playhead.x(), 0, 1, 1, 80, 0)

    def commit_move(self, shot_id: str, index: int) -> None:
        self.doc.move_clip(shot_id, index)

    def set_transition(self, shot_id: str, kind: TransitionKind, duration: float | None = None) -> None:
        err = self.doc.set_transition(shot_id, kind, duration)
        if err is not None:
            self.editFailed.emit(err.message)

    def edit_transition(self, shot_id: str) -> None:
        clip = self.doc.clip_for(shot_id)
        if clip is None:
            return
        views = self.views()
        dlg = self.dialog_factory(TransitionKind(clip.transition.kind), clip.transition.duration,
                                  views[0] if views else None)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            kind, duration = dlg.values()
            self.set_transition(shot_id, kind, duration)

    def transition_menu(self, shot_id: str) -> QMenu:
        clip = self.doc.clip_for(shot_id)
        menu = QMenu()
        current = TransitionKind(clip.transition.kind) if clip else TransitionKind.CUT
        for kind, name in TRANSITION_NAMES.items():
            if kind == TransitionKind.CUT:
                a = menu.addAction(name, lambda k=kind: self.set_transition(shot_id, k, 0.0))
                a.setCheckable(True)
                a.setChecked(current == kind)
                continue
            sub = menu.addMenu(name)
            for d in (0.25, 0.5, 1.0, 2.0):
                a = sub.addAction(f"{d:g} s", lambda k=kind, d=d: self.set_transition(shot_id, k, d))
                a.setCheckable(True)
                a.setChecked(current == kind and clip is not None and abs(clip.transition.duration - d) < 1e-6)
        menu.addSeparator()
        menu.addAction("Edit…", lambda: self.edit_transition(shot_id))
        self._menu = menu  # keep alive while shown
        return menu


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
