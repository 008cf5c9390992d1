"""Export dialog: pick a preset or custom settings, an output path and an optional audio bed; the
export runs on a worker thread with a progress bar and Cancel; failures show as one line.

Opened by the main window as `ExportDialog(project_data, project_dir, parent)`. The work itself is
`studio.media.deliver.export_project`; this file only binds widgets to it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.errors import StudioError, from_validation
from studio.media.deliver import export_project, plan
from studio.media.export import output_path
from studio.media.interchange import write_timeline
from studio.media.motion import MOTION_LABELS
from studio.media.presets import AUDIO_FORMATS, DEFAULT_CRF, FORMAT_LABELS, PRESETS, SPEEDS, ExportSettings
from studio.project.schema import ProjectData

CUSTOM = "custom"


class _ExportWorker(QObject):
    """Runs one export on its QThread; talks back only through signals (queued to the UI thread)."""

    progress = Signal(int, int)
    finished = Signal(str)
    failed = Signal(str, str)  # kind, one-line message

    def __init__(self, project, project_dir, path, settings, audio, cancel: threading.Event):
        super().__init__()
        self._args = (project, project_dir, path, settings, audio)
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        project, project_dir, path, settings, audio = self._args
        try:
            film = export_project(
                project, project_dir, path, settings, audio, progress=self.progress.emit, cancel=self._cancel
            )
        except StudioError as e:
            self.failed.emit(e.kind, e.message)
        except Exception as e:  # a bug, not a user mistake: still one line in the dialog, not a crash
            self.failed.emit("internal", f"export failed: {type(e).__name__}: {e}")
        else:
            self.finished.emit(str(film))


class ExportDialog(QDialog):
    exportFinished = Signal(str)  # the film's path
    exportFailed = Signal(str)  # the one-line message

    def __init__(self, project_data: ProjectData, project_dir: str | Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export film")
        self.project = project_data
        self.project_dir = Path(project_dir)
        self._thread: QThread | None = None
        self._worker: _ExportWorker | None = None
        self._cancel = threading.Event()
        self._filling = False  # True while a preset writes the fields (so edits don't flip to Custom)
        self._build()
        default_name = (self.project.title or "film").strip().replace("/", "_") or "film"
        self.output.setText(str(self.project_dir.parent / default_name))
        self.preset.setCurrentIndex(0)
        self._apply_preset()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.preset = QComboBox()
        for key, p in PRESETS.items():
            self.preset.addItem(p.label, key)
        self.preset.addItem("Custom", CUSTOM)
        self.preset.currentIndexChanged.connect(self._apply_preset)

        self.format = QComboBox()
        for key, label in FORMAT_LABELS.items():
            self.format.addItem(label, key)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(16, 8192)
            box.setSingleStep(2)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1, 240)
        self.fps.setDecimals(3)
        self.fit = QComboBox()
        self.fit.addItem("Letterbox (keep whole picture)", "letterbox")
        self.fit.addItem("Crop to fill", "crop")
        self.scaler = QComboBox()
        for label, key in (
            ("Smooth (two-stage)", "smooth"),
            ("Sharp (Lanczos)", "sharp"),
            ("Pixel (nearest)", "pixel"),
        ):
            self.scaler.addItem(label, key)
        self.crf = QSpinBox()
        self.crf.setRange(-1, 63)
        self.crf.setSpecialValueText("default")
        self.speed = QComboBox()
        self.speed.addItems(list(SPEEDS))
        self.motion = QComboBox()  # how clips at another frame rate reach the film's (media.motion)
        for key, label in MOTION_LABELS.items():
            self.motion.addItem(label, key)
        self.motion.setToolTip("When a clip's frame rate differs from the film's: smooth motion along "
                               "optical flow, a mix of neighbouring frames, or each frame repeated")

        custom = QGroupBox("Settings")
        form = QFormLayout(custom)
        form.addRow("Format", self.format)
        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box)
        form.addRow("Size", size)
        form.addRow("Frame rate", self.fps)
        form.addRow("Fit", self.fit)
        form.addRow("Scaling", self.scaler)
        form.addRow("Quality (CRF)", self.crf)
        form.addRow("Encoder speed", self.speed)
        form.addRow("Motion", self.motion)
        for w in (self.format, self.fit, self.scaler, self.speed, self.motion):
            w.currentIndexChanged.connect(self._edited)
        for w in (self.width_box, self.height_box, self.crf):
            w.valueChanged.connect(self._edited)
        self.fps.valueChanged.connect(self._edited)

        self.output = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_output)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)

        self.audio = QLineEdit()
        self.audio.setPlaceholderText("none")
        self.audio_browse = QPushButton("Browse…")
        self.audio_browse.clicked.connect(self._browse_audio)
        self.audio_clear = QPushButton("Clear")
        self.audio_clear.clicked.connect(self.audio.clear)
        audio_row = QHBoxLayout()
        audio_row.addWidget(self.audio, 1)
        audio_row.addWidget(self.audio_browse)
        audio_row.addWidget(self.audio_clear)

        top = QFormLayout()
        top.addRow("Preset", self.preset)
        top.addRow("Output", out_row)
        top.addRow("Audio bed", audio_row)

        self.summary = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.timeline_button = QPushButton("Export timeline (OTIO / EDL / XML)…")
        self.timeline_button.clicked.connect(self._export_timeline)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.timeline_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        root = QVBoxLayout(self)
        root.addLayout(top)
        root.addWidget(custom)
        root.addWidget(self.summary)
        root.addWidget(self.progress)
        root.addWidget(self.error)
        root.addLayout(buttons)

    # --- settings <-> fields ---------------------------------------------------------------------

    def _fill(self, s: ExportSettings) -> None:
        self._filling = True
        try:
            self.format.setCurrentIndex(self.format.findData(s.format))
            self.width_box.setValue(s.width)
            self.height_box.setValue(s.height)
            self.fps.setValue(s.fps)
            self.fit.setCurrentIndex(self.fit.findData(s.fit))
            self.scaler.setCurrentIndex(self.scaler.findData(s.scaler))
            self.crf.setValue(-1 if s.crf is None else s.crf)
            self.speed.setCurrentText(s.speed)
            self.motion.setCurrentIndex(self.motion.findData(s.motion))
        finally:
            self._filling = False
        self._refresh()

    @Slot()
    def _apply_preset(self) -> None:
        key = self.preset.currentData()
        if key != CUSTOM:
            self._fill(PRESETS[key].settings)

    @Slot()
    def _edited(self, *_args) -> None:
        if not self._filling and self.preset.currentData() != CUSTOM:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(self.preset.findData(CUSTOM))
            self.preset.blockSignals(False)
        self._refresh()

    def settings(self) -> ExportSettings:
        """The settings the fields describe; StudioError("settings", ...) if they are invalid."""
        key = self.preset.currentData()
        base = PRESETS[key].settings.model_dump() if key != CUSTOM else {}
        fields = {
            "format": self.format.currentData(),
            "width": self.width_box.value(),
            "height": self.height_box.value(),
            "fps": self.fps.value(),
            "fit": self.fit.currentData(),
            "scaler": self.scaler.currentData(),
            "crf": None if self.crf.value() < 0 else self.crf.value(),
            "speed": self.speed.currentText(),
            "motion": self.motion.currentData(),
        }
        try:
            return ExportSettings(**{**base, **fields})
        except ValidationError as e:
            raise from_validation(e, "settings") from None

    def _refresh(self) -> None:
        fmt = self.format.currentData()
        for w in (self.audio, self.audio_browse, self.audio_clear):
            w.setEnabled(fmt in AUDIO_FORMATS)
        self.crf.setEnabled(fmt in DEFAULT_CRF)
        self.speed.setEnabled(fmt in ("h264", "h265", "vp9"))
        try:
            s = self.settings()
            frames, seconds = plan(self.project, self.project_dir, s)
            target = output_path(self.output.text() or "film", s)
            self.summary.setText(f"{frames} frames, {seconds:.2f} s at {s.width}×{s.height} → {target.name}")
            self.error.clear()
        except StudioError as e:
            self.summary.setText("")
            self.error.setText(e.message)

    # --- file pickers ----------------------------------------------------------------------------

    @Slot()
    def _browse_output(self) -> None:
        s = self.settings()
        if s.format == "png":
            folder = QFileDialog.getExistingDirectory(self, "Folder for the PNG sequence", self.output.text())
            if folder:
                self.output.setText(str(Path(folder) / "frames"))
        else:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export film", self.output.text(), f"{FORMAT_LABELS[s.format]} (*{s.extension})"
            )
            if path:
                self.output.setText(path)
        self._refresh()

    @Slot()
    def _browse_audio(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Audio bed", str(self.project_dir), "Audio (*.wav *.mp3 *.aac *.m4a *.flac *.ogg *.opus)"
        )
        if path:
            self.audio.setText(path)

    @Slot()
    def _export_timeline(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export timeline", str(self.project_dir.parent / "timeline.otio"),
            "OpenTimelineIO (*.otio);;CMX 3600 EDL (*.edl);;Final Cut Pro 7 XML (*.xml)",
        )  # fmt: skip
        if path:
            self.export_timeline_to(path)

    def export_timeline_to(self, path: str | Path) -> Path | None:
        try:
            out = write_timeline(self.project, self.project_dir, path)
        except StudioError as e:
            self.error.setText(e.message)
            return None
        self.summary.setText(f"timeline written to {Path(out).name}")
        return out

    # --- running -----------------------------------------------------------------------------------

    def is_running(self) -> bool:
        return self._thread is not None

    @Slot()
    def start_export(self) -> None:
        if self.is_running():
            return
        self.error.clear()
        try:
            s = self.settings()
        except StudioError as e:
            self._failed(e.kind, e.message)
            return
        if not self.output.text().strip():
            self._failed("path", "choose where to save the film")
            return
        audio = self.audio.text().strip() if s.format in AUDIO_FORMATS else ""
        self._cancel = threading.Event()
        self._thread = QThread(self)
        self._worker = _ExportWorker(
            self.project, self.project_dir, self.output.text().strip(), s, audio or None, self._cancel
        )
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._succeeded)
        self._worker.failed.connect(self._failed)
        self._set_running(True)
        self.progress.setValue(0)
        self.summary.setText("exporting…")
        self._thread.start()

    @Slot()
    def cancel_export(self) -> None:
        self._cancel.set()
        self.cancel_button.setEnabled(False)

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setValue(int(100 * done / max(total, 1)))
        self.summary.setText(f"exporting… frame {done} of {total}")

    @Slot(str)
    def _succeeded(self, path: str) -> None:
        self._stop_thread()
        self.progress.setValue(100)
        self.summary.setText(f"saved {path}")
        self.exportFinished.emit(path)

    @Slot(str, str)
    def _failed(self, kind: str, message: str) -> None:
        self._stop_thread()
        self.progress.setValue(0)
        self.summary.setText("")
        self.error.setText(message)
        self.exportFailed.emit(message)

    def _set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.timeline_button.setEnabled(not running)
        for w in (self.preset, self.format, self.output, self.audio):
            w.setEnabled(not running)

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
            self._worker.deleteLater()
            self._thread = self._worker = None
        self._set_running(False)
        self._refresh_enabled()

    def _refresh_enabled(self) -> None:
        fmt = self.format.currentData()
        self.audio.setEnabled(fmt in AUDIO_FORMATS)

    def done(self, result: int) -> None:  # closing while exporting cancels it and waits
        if self._thread is not None:
            self._cancel.set()
            self._thread.quit()
            self._thread.wait()
            self._thread = None
        super().done(result)
