"""The render queue dock: one row per job with its shot, state, progress, ETA and a live preview that
plays (looped) as the sampler sharpens it, plus cancel / retry / move up / move down.

It binds to a studio.engine.queue.JobQueue: the queue's plain-Python events are wrapped in Qt signals
here, and every row is redrawn from the queue's own data (jobs, live status, estimates). The panel
keeps no job state of its own; only view state (which preview frame is showing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Q_ARG, QMetaObject, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from contract import protocol as P
from studio.engine.client import EngineState
from studio.engine.queue import JobQueue, LiveStatus
from studio.errors import StudioError
from studio.project.schema import Job, JobState

PREVIEW_SIDE = 72  # px; toy-world clips are 32 px, so 2x-ish nearest-neighbour
STATE_TEXT = {
    JobState.QUEUED: "Queued",
    JobState.RUNNING: "Generating",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
}
ENGINE_TEXT = {
    EngineState.STOPPED: "Engine stopped",
    EngineState.STARTING: "Engine starting…",
    EngineState.READY: "Engine ready",
    EngineState.BUSY: "Engine busy",
    EngineState.FAILED: "Engine failed",
}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def format_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def frame_pixmap(frame: np.ndarray, side: int) -> QPixmap:
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    img = QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(img).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.FastTransformation)


class _QueueSignals(QObject):
    """The queue's events as Qt signals (queued across threads, direct on the GUI thread)."""

    jobsChanged = Signal()
    jobChanged = Signal(str)
    progress = Signal(str)
    preview = Signal(str)
    engineState = Signal(str)
    estimatesChanged = Signal()
    failed = Signal(str, str, str)  # job id, kind, message

    def __init__(self, queue: JobQueue, parent: QObject | None = None):
        super().__init__(parent)
        self._queue = queue
        self._handlers = [
            (queue.on_jobs_changed, lambda: self._emit("jobsChanged")),
            (queue.on_job_changed, lambda job: self._emit("jobChanged", job.id)),
            (queue.on_progress, lambda job, live: self._emit("progress", job.id)),
            (queue.on_preview, lambda job, frames: self._emit("preview", job.id)),
            (queue.on_engine_state, lambda state: self._emit("engineState", str(state))),
            (queue.on_estimates_changed, lambda: self._emit("estimatesChanged")),
            (queue.on_failed, lambda job, kind, msg: self._emit("failed", job.id, kind, msg)),
        ]
        for event, fn in self._handlers:
            event.connect(fn)

    def _emit(self, signal: str, *args: str) -> None:
        # Not `self.<signal>.emit(...)`: PySide6 6.12.0 on Python 3.11 drops a reference to True on
        # every SignalInstance.emit(), and the process aborts (bool_dealloc) after a few hundred
        # emits. Emitting through the meta-object is the same signal without that bug. AutoConnection:
        # direct on the GUI thread, queued if the queue ever runs on another thread.
        QMetaObject.invokeMethod(self, signal, Qt.ConnectionType.AutoConnection, *(Q_ARG(str, a) for a in args))

    def unbind(self) -> None:
        for event, fn in self._handlers:
            event.disconnect(fn)
        self._handlers = []


class JobRow(QFrame):
    """One job. All text comes from the queue's Job / LiveStatus; buttons call the queue."""

    def __init__(self, panel: QueuePanel, job_id: str):
        super().__init__()
        self.panel = panel
        self.job_id = job_id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName(f"job-{job_id}")

        self.preview_label = QLabel()
        self.preview_label.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setStyleSheet("background: #111;")
        self.title_label = QLabel()
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_label = QLabel()
        self.eta_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedHeight(8)

        self.cancel_button = self._button("✕", "Cancel this job", lambda: panel.cancel(job_id))
        self.retry_button = self._button("↻", "Queue this job again", lambda: panel.retry(job_id))
        self.up_button = self._button("▲", "Move up", lambda: panel.move(job_id, -1))
        self.down_button = self._button("▼", "Move down", lambda: panel.move(job_id, +1))

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title_label)
        line = QHBoxLayout()
        line.addWidget(self.state_label)
        line.addStretch(1)
        line.addWidget(self.eta_label)
        text.addLayout(line)
        text.addWidget(self.progress_bar)
        buttons = QVBoxLayout()
        buttons.setSpacing(0)
        top, bottom = QHBoxLayout(), QHBoxLayout()
        top.addWidget(self.up_button)
        top.addWidget(self.cancel_button)
        bottom.addWidget(self.down_button)
        bottom.addWidget(self.retry_button)
        buttons.addLayout(top)
        buttons.addLayout(bottom)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(self.preview_label)
        row.addLayout(text, 1)
        row.addLayout(buttons)
        self._shown_preview: tuple[int, int] | str | None = None  # (preview step, frame) or a poster path
        self.state: JobState | None = None  # the state on screen (the panel regroups rows when it changes)

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.clicked.connect(slot)
        return b

    def refresh(self) -> None:
        queue = self.panel.queue
        job = queue.job(self.job_id)
        if job is None:
            return
        self.state = job.state
        live = queue.live(self.job_id)
        index = queue.index_of(self.job_id)
        self.title_label.setText(self.panel.shot_label(job))
        self.title_label.setToolTip(job.params.prompt)
        state = STATE_TEXT[job.state]
        if job.state == JobState.RUNNING and live is not None:
            if live.cancelling:
                state = "Cancelling…"
            elif live.total:
                state = f"Generating · step {live.step}/{live.total}"
        self.state_label.setText(state)
        self.setToolTip(job.error if job.state == JobState.FAILED else "")
        if job.state == JobState.FAILED:
            self.state_label.setText(f"Failed: {job.error}" if job.error else "Failed")
        self.progress_bar.setValue(round(job.progress * 1000))
        self.eta_label.setText(self._eta_text(job, live))
        self.cancel_button.setEnabled(job.state in (JobState.QUEUED, JobState.RUNNING)
                                      and not (live is not None and live.cancelling))
        self.retry_button.setEnabled(job.state in (JobState.FAILED, JobState.CANCELLED))
        waiting = job.state == JobState.QUEUED  # only a waiting job has a place in line to change
        self.up_button.setEnabled(waiting and index > 0)
        self.down_button.setEnabled(waiting and 0 <= index < len(queue.jobs) - 1)
        self.show_preview(self.panel.frame_tick)

    def _poster(self) -> Path | None:
        queue = self.panel.queue
        job = queue.job(self.job_id)
        if job is None or job.state != JobState.DONE:
            return None
        path = Path(queue.media_dir) / P.clip_name(queue.stem_for(job), "poster")
        return path if path.is_file() else None

    def _eta_text(self, job: Job, live: LiveStatus | None) -> str:
        if job.state == JobState.RUNNING and live is not None and live.eta_s is not None:
            return f"{format_duration(live.eta_s)} left"
        if job.state == JobState.QUEUED:
            est = self.panel.queue.estimate(job)
            if est is not None:
                seconds, memory = est
                return f"≈ {format_duration(seconds)} · {format_bytes(memory)}"
        return ""

    def show_preview(self, tick: int) -> None:
        live = self.panel.queue.live(self.job_id)
        if live is None or live.preview is None:
            poster = self._poster()  # a finished job from before a restart: its clip's poster
            if poster is not None and self._shown_preview != str(poster):
                pixmap = QPixmap(str(poster))
                if not pixmap.isNull():
                    self.preview_label.setPixmap(pixmap.scaled(PREVIEW_SIDE, PREVIEW_SIDE,
                                                               Qt.AspectRatioMode.KeepAspectRatio,
                                                               Qt.TransformationMode.SmoothTransformation))
                    self._shown_preview = str(poster)
                    return
            if poster is None and self._shown_preview is not None:
                self.preview_label.clear()
                self._shown_preview = None
            return
        frames = live.preview
        job = self.panel.queue.job(self.job_id)
        # Loop while generating; a finished job rests on its middle frame.
        i = tick % len(frames) if job is not None and job.state == JobState.RUNNING else len(frames) // 2
        key = (live.preview_step, i)
        if key != self._shown_preview:
            self.preview_label.setPixmap(frame_pixmap(frames[i], PREVIEW_SIDE))
            self._shown_preview = key


class QueuePanel(QDockWidget):
    """`QueuePanel(queue, parent)`: the dock the main window adds. `shot_label(job) -> str` names a
    job's shot (the main window can pass one that says "Shot 3"); by default the prompt."""

    def __init__(self, queue: JobQueue, parent: QWidget | None = None,
                 shot_label: Callable[[Job], str] | None = None):
        super().__init__("Render queue", parent)
        self.setObjectName("QueuePanel")
        self.queue = queue
        self.shot_label = shot_label or _default_label
        self.frame_tick = 0
        self._rows: dict[str, JobRow] = {}

        self.status_label = QLabel(ENGINE_TEXT[queue.client.state])
        self.status_label.setWordWrap(True)
        self.message_label = QLabel()  # the last error a button press caused, one line
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #c33;")
        self.message_label.hide()
        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(2, 2, 2, 2)
        self._list_layout.setSpacing(3)
        self._list_layout.addStretch(1)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._list)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear finished")
        self.clear_button.setToolTip("Remove done, failed and cancelled jobs from the list (their takes stay)")
        self.clear_button.clicked.connect(lambda: self._act(self.queue.clear_finished))
        head = QHBoxLayout()
        head.addWidget(self.status_label, 1)
        head.addWidget(self.clear_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(head)
        layout.addWidget(self.message_label)
        layout.addWidget(scroll, 1)
        body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setWidget(body)

        self.signals = _QueueSignals(queue, self)
        self.signals.jobsChanged.connect(self.rebuild)
        self.signals.jobChanged.connect(self._job_changed)
        self.signals.progress.connect(self._refresh_job)
        self.signals.preview.connect(self._on_preview)
        self.signals.engineState.connect(self._on_engine_state)
        self.signals.estimatesChanged.connect(self._refresh_all)
        self.destroyed.connect(self.signals.unbind)

        self._timer = QTimer(self)  # plays the running job's preview in a loop
        self._timer.timeout.connect(self._advance)
        self._set_fps()
        self.rebuild()

    # ---- user actions --------------------------------------------------------------------------
    def cancel(self, job_id: str) -> None:
        self._act(lambda: self.queue.cancel(job_id))

    def retry(self, job_id: str) -> None:
        self._act(lambda: self.queue.retry(job_id))

    def move(self, job_id: str, delta: int) -> None:
        i = self.queue.index_of(job_id)
        if i >= 0:
            self._act(lambda: self.queue.move(job_id, i + delta))

    def _act(self, fn: Callable[[], None]) -> None:
        try:
            fn()
            self.message_label.hide()
        except StudioError as e:
            self.message_label.setText(str(e))
            self.message_label.show()

    # ---- binding -------------------------------------------------------------------------------
    def row(self, job_id: str) -> JobRow | None:
        return self._rows.get(job_id)

    def rows(self) -> list[JobRow]:
        return [self._rows[j.id] for j in self.queue.jobs if j.id in self._rows]

    def rebuild(self) -> None:
        """Rows follow the queue: keep existing rows, add/remove, and show the running job first, then
        the waiting ones in the order they will run, then the finished ones, newest first."""
        jobs = self.queue.jobs
        live = [j for j in jobs if j.state in (JobState.RUNNING, JobState.QUEUED)]
        done = [j for j in jobs if j.state not in (JobState.RUNNING, JobState.QUEUED)]
        ordered = sorted(live, key=lambda j: j.state != JobState.RUNNING) + done[::-1]
        ids = [j.id for j in ordered]
        for job_id in list(self._rows):
            if job_id not in ids:
                row = self._rows.pop(job_id)
                self._list_layout.removeWidget(row)
                row.deleteLater()
        for i, job_id in enumerate(ids):
            row = self._rows.get(job_id)
            if row is None:
                row = self._rows[job_id] = JobRow(self, job_id)
            self._list_layout.insertWidget(i, row)  # re-inserting moves it
        self.clear_button.setEnabled(bool(done))
        self._refresh_all()
        if ordered and ordered[0].state == JobState.RUNNING:
            self.scroll.ensureWidgetVisible(self._rows[ordered[0].id])  # the running job stays in view

    def _job_changed(self, job_id: str) -> None:
        row, job = self._rows.get(job_id), self.queue.job(job_id)
        if row is not None and job is not None and row.state != job.state:
            self.rebuild()  # a job started or finished: it moves to its group
        else:
            self._refresh_job(job_id)

    def _refresh_all(self) -> None:
        for row in self._rows.values():
            row.refresh()
        self._update_timer()

    def _refresh_job(self, job_id: str) -> None:
        row = self._rows.get(job_id)
        if row is not None:
            row.refresh()
        self._update_timer()

    def _on_preview(self, job_id: str) -> None:
        row = self._rows.get(job_id)
        if row is not None:
            row.show_preview(self.frame_tick)
        self._update_timer()

    def _on_engine_state(self, state: str) -> None:
        text = ENGINE_TEXT.get(EngineState(state), state)
        info = self.queue.client.info
        if info is not None and state in (EngineState.READY, EngineState.BUSY):
            text += f" · {info.model_id} on {info.device}"
        err = self.queue.client.last_error
        if state == EngineState.FAILED and err is not None:
            text += f": {err}"
        self.status_label.setText(text)
        self._set_fps()

    def _set_fps(self) -> bool:
        """Previews play at the model's own rate (its WorkerReady.fps); False while it is unknown."""
        info = self.queue.client.info
        if info is None or not info.fps > 0:
            return False
        self._timer.setInterval(max(15, round(1000 / info.fps)))
        return True

    def _update_timer(self) -> None:
        run = self.queue.running
        live = self.queue.live(run.id) if run is not None else None
        want = live is not None and live.preview is not None and self._set_fps()
        if want and not self._timer.isActive():
            self._timer.start()
        elif not want and self._timer.isActive():
            self._timer.stop()

    def _advance(self) -> None:
        self.frame_tick += 1
        run = self.queue.running
        if run is not None and run.id in self._rows:
            self._rows[run.id].show_preview(self.frame_tick)
        else:
            self._update_timer()

    @property
    def preview_playing(self) -> bool:
        return self._timer.isActive()


def _default_label(job: Job) -> str:
    prompt = " ".join(job.params.prompt.split())
    return prompt if len(prompt) <= 48 else prompt[:47] + "…"
