"""Export dialog: pick a preset (the project's own size and rate first) or custom settings, an output
path, an optional audio bed and the range (the whole film or the film viewer's in–out marks); the
export runs on a worker thread with a progress bar and Cancel, the inputs locked; failures show as
one line. The folder and the film's name are remembered (studio.project.preferences).

Opened by the main window as `ExportDialog(project_data, project_dir, parent, preferences=, marks=)`.
The work itself is `studio.media.deliver.export_project`; this file only binds widgets to it (the
settings group: export_form.py; the worker thread and the left-out-shots question: export_worker.py).
"""

from __future__ import annotations

import threading
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.errors import StudioError, from_validation
from studio.media.deliver import marks_span, plan, project_settings, shots_left_out
from studio.media.export import output_path
from studio.media.interchange import write_timeline
from studio.media.presets import AUDIO_FORMATS, EXTENSIONS, FORMAT_LABELS, PRESETS, ExportSettings, Preset
from studio.media.timecode import format_timecode
from studio.project import preferences as prefs
from studio.project.schema import ProjectData
from studio.ui.export_form import ExportSettingsForm
from studio.ui.export_worker import ExportWorker, ask_export_anyway, left_out_text

CUSTOM = "custom"
PROJECT = "project"  # the preset at the project's own size and frame rate
WHOLE, IN_OUT = "whole", "in_out"


def project_preset(project: ProjectData) -> Preset | None:
    """"Project (640×360, 24 fps)": H.264 at the project's raster and rate (None if no export can
    have them, e.g. a rate above the exporter's limit)."""
    try:
        s = project_settings(project)
    except ValidationError:
        return None
    return Preset(label=f"Project ({s.width}×{s.height}, {s.fps:g} fps)", settings=s)


class ExportDialog(QDialog):
    exportFinished = Signal(str)  # the film's path
    exportFailed = Signal(str)  # the one-line message

    def __init__(self, project_data: ProjectData, project_dir: str | Path, parent: QWidget | None = None, *,
                 preferences: prefs.Preferences | None = None, marks: tuple[int, int, float] | None = None):
        """`preferences`: where the last folder and names are kept (loaded when None); `marks`: the
        film viewer's (in, out, fps) — frames of the film at the player's rate, the out frame
        included — when both are set."""
        super().__init__(parent)
        self.setWindowTitle("Export film")
        self.project = project_data
        self.project_dir = Path(project_dir)
        self.preferences = preferences if preferences is not None else prefs.load_preferences()
        self.marks = marks
        self.ask = ask_export_anyway  # (parent, title, text) -> bool; replaced in tests
        self._thread: QThread | None = None
        self._worker: ExportWorker | None = None
        self._cancel = threading.Event()
        own = project_preset(self.project)
        self._presets: dict[str, Preset] = {**({PROJECT: own} if own else {}), **PRESETS}
        self._base = next(iter(self._presets.values())).settings  # the last preset's hidden fields
        self._build()
        title = (self.project.title or "film").strip().replace("/", "_").replace("\\", "_") or "film"
        self.output.setText(str(prefs.export_target(self.project_dir, title, self.preferences)))
        self.preset.setCurrentIndex(0)
        self._apply_preset()

    # --- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.preset = QComboBox()
        for key, p in self._presets.items():
            self.preset.addItem(p.label, key)
        self.preset.addItem("Custom", CUSTOM)
        self.preset.currentIndexChanged.connect(self._apply_preset)

        self.form = ExportSettingsForm()
        self.form.edited.connect(self._edited)
        # the fields by name, as tests and callers reach them
        f = self.form
        self.format, self.width_box, self.height_box, self.fps = f.format, f.width_box, f.height_box, f.fps
        self.fit, self.scaler, self.crf, self.speed, self.motion = f.fit, f.scaler, f.crf, f.speed, f.motion

        self.output = QLineEdit()
        self.output.textChanged.connect(self._refresh)
        self.output_browse = QPushButton("Browse…")
        self.output_browse.clicked.connect(self._browse_output)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(self.output_browse)

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

        self.range = QComboBox()
        self.range.addItem("Whole film", WHOLE)
        if self.marks is not None:
            mark_in, mark_out, fps = self.marks
            tc_in, tc_out = format_timecode(mark_in, fps), format_timecode(mark_out, fps)
            self.range.addItem(f"In–Out ({tc_in} – {tc_out})", IN_OUT)
            self.range.setCurrentIndex(1)  # the editor marked what to deliver
        else:
            self.range.addItem("In–Out (mark in and out on the film in the viewer: I, O)", IN_OUT)
            self.range.model().item(1).setEnabled(False)
        self.range.currentIndexChanged.connect(self._refresh)

        top = QFormLayout()
        top.addRow("Preset", self.preset)
        top.addRow("Output", out_row)
        top.addRow("Audio bed", audio_row)
        top.addRow("Range", self.range)

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
        root.addWidget(self.form)
        root.addWidget(self.summary)
        root.addWidget(self.progress)
        root.addWidget(self.error)
        root.addLayout(buttons)

    def inputs(self) -> list[QWidget]:
        """Every control that changes what an export writes (all locked while one runs)."""
        return [self.preset, self.output, self.output_browse, self.audio, self.audio_browse, self.audio_clear,
                self.range, *self.form.inputs(), self.timeline_button]

    # --- settings <-> fields ---------------------------------------------------------------------

    @Slot()
    def _apply_preset(self) -> None:
        key = self.preset.currentData()
        if key != CUSTOM:
            self._base = self._presets[key].settings
            self.form.fill(self._base)
        self._refresh()

    @Slot()
    def _edited(self) -> None:
        if self.preset.currentData() != CUSTOM:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(self.preset.findData(CUSTOM))
            self.preset.blockSignals(False)
        self._refresh()

    def settings(self) -> ExportSettings:
        """The settings the fields describe; StudioError("settings", ...) if they are invalid."""
        try:  # fields the form does not show (ProRes profile, GIF colours) come from the last preset
            return ExportSettings(**{**self._base.model_dump(), **self.form.fields()})
        except ValidationError as e:
            raise from_validation(e, "settings") from None

    def span(self, settings: ExportSettings) -> tuple[int, int] | None:
        """The film's frames [start, stop) at the export's rate, or None for the whole film."""
        if self.range.currentData() != IN_OUT or self.marks is None:
            return None
        mark_in, mark_out, fps = self.marks
        return marks_span(mark_in, mark_out, fps, settings.fps)

    def target(self, settings: ExportSettings) -> Path:
        """What will be written: the output name with the format's extension."""
        return output_path(self.output.text().strip() or "film", settings)

    @Slot()
    def _refresh(self, *_args) -> None:
        if self.is_running():  # the summary shows the progress
            return
        self._set_locked(False)
        try:
            s = self.settings()
            span = self.span(s)
            frames, seconds = plan(self.project, self.project_dir, s, span)
            part = "in–out: " if span is not None else ""
            self.summary.setText(f"{part}{frames} frames, {seconds:.2f} s at {s.width}×{s.height} "
                                 f"→ {self.target(s).name}")
            self.error.clear()
        except StudioError as e:
            self.summary.setText("")
            self.error.setText(e.message)

    def _set_locked(self, locked: bool) -> None:
        for w in self.inputs():
            w.setEnabled(not locked)
        self.form.set_locked(locked)
        if not locked:
            sound = self.format.currentData() in AUDIO_FORMATS  # GIF and PNG frames carry no sound
            for w in (self.audio, self.audio_browse, self.audio_clear):
                w.setEnabled(sound)
            self.range.setEnabled(self.marks is not None)
        self.export_button.setEnabled(not locked)
        self.cancel_button.setEnabled(locked)

    # --- file pickers ----------------------------------------------------------------------------

    @Slot()
    def _browse_output(self) -> None:
        fmt = self.format.currentData()
        if fmt == "png":
            folder = QFileDialog.getExistingDirectory(self, "Folder for the PNG sequence", self.output.text())
            if folder:
                self.output.setText(str(Path(folder) / "frames"))
        else:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export film", self.output.text(), f"{FORMAT_LABELS[fmt]} (*{EXTENSIONS[fmt]})"
            )
            if path:
                self.output.setText(path)

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
        left_out = shots_left_out(self.project)
        if left_out and self.project.timeline.clips and not self.ask(self, "Export film", left_out_text(left_out)):
            return  # Go back: nothing is written
        audio = self.audio.text().strip() if s.format in AUDIO_FORMATS else ""
        self._cancel = threading.Event()
        self._thread = QThread(self)
        self._worker = ExportWorker(self.project, self.project_dir, self.output.text().strip(), s, audio or None,
                                    self.span(s), self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._succeeded)
        self._worker.failed.connect(self._failed)
        self._set_locked(True)
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
        try:
            self.preferences = prefs.remember_export(path, self.project_dir, self.preferences)
        except StudioError as e:  # the film is saved; only the next dialog's default is lost
            self.error.setText(e.message)
        self.exportFinished.emit(path)

    @Slot(str, str)
    def _failed(self, kind: str, message: str) -> None:
        self._stop_thread()
        self.progress.setValue(0)
        self.summary.setText("")
        self.error.setText(message)
        self.exportFailed.emit(message)

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
            self._worker.deleteLater()
            self._thread = self._worker = None
        self._set_locked(False)

    def done(self, result: int) -> None:  # closing while exporting cancels it and waits
        if self._thread is not None:
            self._cancel.set()
            self._thread.quit()
            self._thread.wait()
            self._thread = None
        super().done(result)
