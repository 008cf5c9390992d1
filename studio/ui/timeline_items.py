"""The timeline's scene items and how they draw: ruler, playhead, clips, transition markers.

How they respond to a drag is `timeline_edits.ClipInteraction`; the scene they sit in is
`timeline_scene.TimelineScene`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QLinearGradient, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from studio.media.timecode import format_seconds
from studio.project.schema import TransitionKind
from studio.ui.labels import TRANSITION_NAMES
from studio.ui.timeline_edits import ClipInteraction
from studio.ui.timeline_spans import ClipSpan

if TYPE_CHECKING:
    from studio.ui.timeline_scene import TimelineScene

LEFT = 14.0  # px before time 0
RULER_H = 24.0
TRACK_Y = 32.0
TRACK_H = 84.0
LABEL_H = 18.0
EDGE_PX = 7.0  # grab zone for trimming at each clip edge
MARKER_H = 16.0  # transition markers: a band along the bottom of the track
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


class ClipItem(ClipInteraction, QGraphicsObject):
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
