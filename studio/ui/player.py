"""Decoded-frame player: a take or the whole timeline at the project frame rate.

No QtMultimedia: frames come from a FrameSource (index → RGB uint8). Playback is scheduled by the
wall clock (PlaybackClock) so it keeps real time, skipping frames that are late and counting them.
Keys as in an NLE: Space play/pause, J/K/L shuttle, ←/→ one frame, I/O marks, Home/End.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.media.timecode import format_timecode, parse_timecode
from studio.ui.frame_source import BlankSource, FrameSource
from studio.ui.images import to_qimage
from studio.ui.playback_clock import PlaybackClock

MAX_SHUTTLE = 8.0


class FrameView(QWidget):
    """Paints one frame scaled to fit, aspect kept, smooth filtering, on black."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._image: QImage | None = None
        self.placeholder = "No clip loaded"
        self.captions: list[str] = []  # drawn over equal-width columns (A/B compare)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_frame(self, frame: np.ndarray | None) -> None:
        self._image = None if frame is None else to_qimage(frame)
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def target_rect(self) -> QRectF:
        if self._image is None or self._image.isNull():
            return QRectF(self.rect())
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event):  # noqa: N802 (Qt)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(8, 8, 10))
        if self._image is None:
            p.setPen(QColor(110, 110, 120))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        target = self.target_rect()
        p.drawImage(target, self._image)
        if self.captions:
            col = target.width() / len(self.captions)
            for i, text in enumerate(self.captions):
                r = QRectF(target.left() + i * col + 8, target.top() + 8, col - 16, 22)
                p.fillRect(QRectF(r.left(), r.top(), 8 + 7 * len(text), 20), QColor(0, 0, 0, 160))
                p.setPen(QColor(235, 235, 240))
                p.drawText(r.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)


class ScrubBar(QWidget):
    """Position bar with the in/out range shaded; click or drag to scrub."""

    scrubbed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.count = 1
        self.position = 0
        self.mark_in: int | None = None
        self.mark_out: int | None = None
        self.setFixedHeight(18)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def _x(self, frame: int) -> float:
        span = max(self.count - 1, 1)
        return 6 + (self.width() - 12) * frame / span

    def frame_at(self, x: float) -> int:
        span = max(self.count - 1, 1)
        return round(min(max((x - 6) / max(self.width() - 12, 1), 0.0), 1.0) * span)

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        mid = self.height() / 2
        p.fillRect(QRectF(6, mid - 2, self.width() - 12, 4), QColor(60, 62, 70))
        if self.mark_in is not None or self.mark_out is not None:
            a = self._x(self.mark_in or 0)
            b = self._x(self.mark_out if self.mark_out is not None else self.count - 1)
            p.fillRect(QRectF(a, mid - 4, max(b - a, 2), 8), QColor(70, 120, 200, 150))
        x = self._x(self.position)
        p.fillRect(QRectF(6, mid - 2, x - 6, 4), QColor(220, 90, 60))
        p.setPen(QPen(QColor(240, 240, 240), 1))
        p.setBrush(QColor(240, 240, 240))
        p.drawEllipse(QPointF(x, mid), 5, 5)

    def mousePressEvent(self, e):  # noqa: N802
        self.scrubbed.emit(self.frame_at(e.position().x()))

    def mouseMoveEvent(self, e):  # noqa: N802
        if e.buttons() & Qt.MouseButton.LeftButton:
            self.scrubbed.emit(self.frame_at(e.position().x()))


class Player(QWidget):
    positionChanged = Signal(int)
    playingChanged = Signal(bool)
    marksChanged = Signal()
    sourceChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("Player")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._source: FrameSource = BlankSource()
        self._empty = True
        self.position = 0
        self.mark_in: int | None = None
        self.mark_out: int | None = None
        self.loop = False
        self.speed = 0.0  # 0 = paused; otherwise media frames per display frame
        self.clock = PlaybackClock(fps=24.0)
        self._clock_fn = time.perf_counter  # replaceable in tests
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_tick)
        self._build()
        self._refresh()

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("Viewer")
        self.title.setObjectName("PlayerTitle")
        self.dropped_label = QLabel("")
        self.dropped_label.setObjectName("Dim")
        self.view = FrameView()
        self.view.setFocusProxy(self)
        self.scrub = ScrubBar()
        self.scrub.scrubbed.connect(self._scrub_to)

        style = self.style()
        sp = QStyle.StandardPixmap

        def button(icon, tip, slot, checkable=False):
            b = QToolButton()
            b.setIcon(style.standardIcon(icon))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setCheckable(checkable)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            (b.toggled if checkable else b.clicked).connect(slot)
            return b

        self.btn_start = button(sp.SP_MediaSkipBackward, "Go to start (Home)", lambda: self.seek(self._range()[0]))
        self.btn_back = button(sp.SP_MediaSeekBackward, "Back one frame (←)", lambda: self.step(-1))
        self.btn_play = button(sp.SP_MediaPlay, "Play / pause (Space)", self.toggle_play)
        self.btn_fwd = button(sp.SP_MediaSeekForward, "Forward one frame (→)", lambda: self.step(1))
        self.btn_end = button(sp.SP_MediaSkipForward, "Go to end (End)", lambda: self.seek(self._range()[1]))
        self.btn_loop = button(sp.SP_BrowserReload, "Loop playback", self.set_loop, checkable=True)
        # The position as timecode; type one (HH:MM:SS:FF, or fewer fields) and Enter to go there.
        self.timecode = QLineEdit()
        self.timecode.setObjectName("Timecode")
        self.timecode.setToolTip("Type a timecode and press Enter to go there")
        self.timecode.setFixedWidth(128)
        self.timecode.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.timecode.returnPressed.connect(self._go_to_typed)
        self.timecode.editingFinished.connect(self._refresh_position)
        self.duration_label = QLabel()
        self.duration_label.setObjectName("Dim")
        self.speed_label = QLabel()
        self.speed_label.setObjectName("Dim")
        self.marks_label = QLabel()
        self.marks_label.setObjectName("Dim")
        self.marks_label.setToolTip("In and out marks (I, O; Alt+X clears them)")
        self._reserve_label_space()

        top = QHBoxLayout()
        top.setContentsMargins(6, 2, 6, 0)
        self.header_layout = top  # the viewer puts its source switch here
        top.addWidget(self.title, 1)
        top.addWidget(self.dropped_label)
        transport = QHBoxLayout()
        transport.setContentsMargins(4, 0, 4, 2)
        transport.setSpacing(2)
        transport.addWidget(self.timecode)
        transport.addSpacing(6)
        transport.addWidget(self.duration_label)
        transport.addStretch(1)
        for b in (self.btn_start, self.btn_back, self.btn_play, self.btn_fwd, self.btn_end, self.btn_loop):
            b.setIconSize(QSize(20, 20))
        self.btn_play.setObjectName("PlayButton")
        self.btn_play.setIconSize(QSize(24, 24))
        for b in (self.btn_start, self.btn_back, self.btn_play, self.btn_fwd, self.btn_end):
            transport.addWidget(b)
        transport.addSpacing(8)
        transport.addWidget(self.btn_loop)
        transport.addStretch(1)
        transport.addWidget(self.marks_label)
        transport.addSpacing(8)
        transport.addWidget(self.speed_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.scrub)
        layout.addLayout(transport)

    def _reserve_label_space(self) -> None:
        """The marks and the shuttle speed come and go: their labels keep one size whatever they
        say, so marking in/out or shuttling never resizes the player or the docks around it. The
        marks stack (IN over OUT, small monospace, right-aligned) to fit beside the transport."""
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(max(self.font().pointSizeF() - 1.0, 7.0))
        self.marks_label.setFont(mono)
        fm = QFontMetrics(mono)
        widest = "OUT " + format_timecode(0, 24.0)
        self.marks_label.setFixedSize(fm.horizontalAdvance(widest) + 6, 2 * fm.lineSpacing() + 2)
        self.marks_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        fm = QFontMetrics(self.speed_label.font())
        self.speed_label.setFixedWidth(max(fm.horizontalAdvance(t) for t in ("◀ 8×", "◀ 0.5×")) + 6)
        self.speed_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    # -- source -----------------------------------------------------------------------------------
    @property
    def source(self) -> FrameSource:
        return self._source

    @property
    def fps(self) -> float:
        return self._source.fps

    @property
    def count(self) -> int:
        return len(self._source)

    @property
    def playing(self) -> bool:
        return self.speed != 0.0

    def set_source(self, source: FrameSource | None, title: str = "", keep_position: bool = False,
                   captions: list[str] | None = None) -> None:
        """Show another clip. `keep_position` keeps the playhead (the timeline changed under it)."""
        was_playing = self.playing
        self.pause()
        self._empty = source is None or len(source) == 0
        self._source = BlankSource() if self._empty else source
        self.clock.fps = self._source.fps
        self.clock.reset_counters()  # dropped frames are counted per clip
        self.title.setText(title or ("Viewer" if self._empty else ""))
        self.view.captions = list(captions or [])
        if not keep_position:
            self.mark_in = self.mark_out = None
            self.position = 0
        else:
            self._clamp_marks()
        self.position = min(self.position, max(self.count - 1, 0))
        self.sourceChanged.emit()
        self._refresh()
        if was_playing and keep_position and not self._empty:
            self.play()

    def clear(self, placeholder: str = "No clip loaded") -> None:
        self.view.placeholder = placeholder
        self.set_source(None)

    # -- transport --------------------------------------------------------------------------------
    def play(self, speed: float = 1.0) -> None:
        if self._empty:
            return
        lo, hi = self._range()
        if speed > 0 and self.position >= hi and not self.playing:
            self.position = lo  # play again from the top, as an NLE does at the end
        if speed < 0 and self.position <= lo and not self.playing:
            self.position = hi
        was = self.playing
        self.speed = speed
        if not was:
            self.clock.reset_counters()
        self.clock.start(self.position, self._clock_fn(), speed)
        self._schedule()
        if not was:
            self.playingChanged.emit(True)
        self._refresh()

    def pause(self) -> None:
        self._timer.stop()
        if self.playing:
            self.speed = 0.0
            self.playingChanged.emit(False)
            self._refresh()

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play(1.0)

    def shuttle_forward(self) -> None:
        """L: play forward; each press doubles the speed (up to 8×)."""
        self.play(1.0 if self.speed <= 0 else min(self.speed * 2, MAX_SHUTTLE))

    def shuttle_reverse(self) -> None:
        """J: play backward; each press doubles the speed."""
        self.play(-1.0 if self.speed >= 0 else max(self.speed * 2, -MAX_SHUTTLE))

    def stop(self) -> None:
        """K: stop (pause where we are)."""
        self.pause()

    def step(self, frames: int) -> None:
        self.pause()
        self.seek(self.position + frames)

    def seek(self, frame: int) -> None:
        frame = min(max(int(frame), 0), max(self.count - 1, 0))
        if self.playing:
            self.clock.start(frame, self._clock_fn())
        self._show(frame)

    def seek_seconds(self, seconds: float) -> None:
        self.seek(round(seconds * self.fps))

    def _scrub_to(self, frame: int) -> None:
        self.pause()
        self.seek(frame)

    # -- marks and loop ---------------------------------------------------------------------------
    def set_mark_in(self, frame: int | None = None) -> None:
        self.mark_in = self.position if frame is None else frame
        if self.mark_out is not None and self.mark_out < self.mark_in:
            self.mark_out = None
        self._marks_changed()

    def set_mark_out(self, frame: int | None = None) -> None:
        self.mark_out = self.position if frame is None else frame
        if self.mark_in is not None and self.mark_in > self.mark_out:
            self.mark_in = None
        self._marks_changed()

    def clear_marks(self) -> None:
        self.mark_in = self.mark_out = None
        self._marks_changed()

    def set_loop(self, on: bool) -> None:
        self.loop = bool(on)
        if self.btn_loop.isChecked() != self.loop:
            self.btn_loop.setChecked(self.loop)

    def _marks_changed(self) -> None:
        self.marksChanged.emit()
        self._refresh()

    def _clamp_marks(self) -> None:
        last = max(self.count - 1, 0)
        if self.mark_in is not None and self.mark_in > last:
            self.mark_in = None
        if self.mark_out is not None:
            self.mark_out = min(self.mark_out, last)

    def _range(self) -> tuple[int, int]:
        lo = self.mark_in if self.mark_in is not None else 0
        hi = self.mark_out if self.mark_out is not None else max(self.count - 1, 0)
        return lo, max(lo, hi)

    # -- the clock --------------------------------------------------------------------------------
    def _schedule(self) -> None:
        delay = self.clock.seconds_to_next(self._clock_fn())
        self._timer.start(max(0, math.ceil(delay * 1000)))  # never early: an early wake shows nothing

    def _on_tick(self) -> None:
        if not self.playing:
            return
        frame = self.clock.tick(self._clock_fn())
        if frame is None:  # woke a little early
            self._schedule()
            return
        lo, hi = self._range()
        if frame > hi or frame < lo:
            if self.loop:
                frame = lo if self.speed > 0 else hi
                self.clock.start(frame, self._clock_fn())
            else:
                self._show(hi if self.speed > 0 else lo)
                self.pause()
                return
        self._show(frame)
        self._schedule()

    @property
    def dropped_frames(self) -> int:
        return self.clock.dropped

    # -- display ----------------------------------------------------------------------------------
    def _show(self, frame: int) -> None:
        self.position = frame
        self.view.set_frame(None if self._empty else self._source.frame(frame))
        self._refresh_position()
        self.positionChanged.emit(frame)

    def _refresh(self) -> None:
        if self._empty:
            self.view.set_frame(None)
        else:
            self.view.set_frame(self._source.frame(self.position))
        self.btn_play.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if self.playing else QStyle.StandardPixmap.SP_MediaPlay))
        # the film's length, as the timeline states it (the last frame is at length - 1 frame)
        self.duration_label.setText("/ " + format_timecode(0 if self._empty else self.count, self.fps))
        if self.speed in (0.0, 1.0):
            self.speed_label.setText("")
        else:
            self.speed_label.setText(f"{'◀' if self.speed < 0 else '▶'} {abs(self.speed):g}×")
        # two lines, IN over OUT, always (a missing mark leaves its line empty)
        marks = ["" if m is None else f"{name} {format_timecode(m, self.fps)}"
                 for name, m in (("IN", self.mark_in), ("OUT", self.mark_out))]
        self.marks_label.setText("\n".join(marks) if any(marks) else "")
        self.scrub.count = max(self.count, 1)
        self.scrub.mark_in, self.scrub.mark_out = self.mark_in, self.mark_out
        self._refresh_position()

    def _refresh_position(self) -> None:
        if not self.timecode.hasFocus():  # do not overwrite what the user is typing
            self.timecode.setText(format_timecode(self.position, self.fps))
        self.scrub.position = self.position
        self.scrub.update()
        d = self.clock.dropped
        self.dropped_label.setText(f"dropped {d}" if d else "")

    def timecode_text(self) -> str:
        return self.timecode.text()

    def _go_to_typed(self) -> None:
        try:
            frame = parse_timecode(self.timecode.text(), self.fps)
        except ValueError:
            frame = self.position  # not a timecode: back to where we are
        self.setFocus()  # hand the keys back to the transport
        self.pause()
        self.seek(frame)
        self._refresh_position()

    # -- keys -------------------------------------------------------------------------------------
    def handle_key(self, key: int, modifiers=Qt.KeyboardModifier.NoModifier) -> bool:
        """Transport keys; returns True when the key was ours (the timeline forwards keys here)."""
        k = Qt.Key
        big = 10 if modifiers & Qt.KeyboardModifier.ShiftModifier else 1
        actions = {
            k.Key_Space: self.toggle_play,
            k.Key_J: self.shuttle_reverse,
            k.Key_K: self.stop,
            k.Key_L: self.shuttle_forward,
            k.Key_Left: lambda: self.step(-big),
            k.Key_Right: lambda: self.step(big),
            k.Key_I: self.set_mark_in,
            k.Key_O: self.set_mark_out,
            k.Key_Home: lambda: self.seek(0),
            k.Key_End: lambda: self.seek(self.count - 1),
        }
        if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        action = actions.get(Qt.Key(key))
        if action is None:
            return False
        action()
        return True

    def keyPressEvent(self, e):  # noqa: N802
        if not self.handle_key(e.key(), e.modifiers()):
            super().keyPressEvent(e)

