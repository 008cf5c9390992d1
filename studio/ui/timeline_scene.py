"""The timeline scene: the document's timeline as graphics items, and its time ↔ x mapping.

Nothing here is kept between edits: the scene is rebuilt from the document when it says the
timeline changed (the edit actions are `timeline_edits.TimelineEdits`).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsScene

from studio.project.schema import ShotStatus, TransitionKind
from studio.ui.timeline_edits import TimelineEdits
from studio.ui.timeline_items import (
    CLIP_COLORS,
    LEFT,
    TRACK_H,
    TRACK_Y,
    ClipItem,
    PlayheadItem,
    RulerItem,
    TransitionItem,
)
from studio.ui.timeline_spans import ClipSpan, clip_spans, total_duration
from studio.ui.transition_dialog import TransitionDialog

MIN_PX_PER_S, MAX_PX_PER_S = 4.0, 1200.0


class TimelineScene(TimelineEdits, QGraphicsScene):
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
        return clip_spans(self.doc.clips(), lambda c: self.doc.shot(c.shot_id))

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
        index = max(0, min(int(seconds * take.fps), max(take.frames - 1, 0)))
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

    def follow_playhead(self, seconds: float) -> None:
        """While the film plays: move the playhead and keep it in view."""
        self.set_playhead(seconds)
        for view in self.views():
            view.ensureVisible(self.playhead.x(), 0, 1, 1, 80, 0)

