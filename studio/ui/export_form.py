"""The export dialog's settings group: format, size, frame rate, fit, scaling, quality, encoder speed
and motion, bound to one `ExportSettings` (studio.media.presets)."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from studio.media.motion import MOTION_LABELS
from studio.media.presets import DEFAULT_CRF, FORMAT_LABELS, SPEEDS, ExportSettings

SPEED_FORMATS = ("h264", "h265", "vp9")  # the formats whose encoder has a speed preset


class ExportSettingsForm(QGroupBox):
    edited = Signal()  # the user changed a field (not `fill`)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Settings", parent)
        self._filling = False
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

        form = QFormLayout(self)
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
            w.currentIndexChanged.connect(self._changed)
        for w in (self.width_box, self.height_box, self.crf):
            w.valueChanged.connect(self._changed)
        self.fps.valueChanged.connect(self._changed)

    def inputs(self) -> list[QWidget]:
        return [self.format, self.width_box, self.height_box, self.fps, self.fit, self.scaler, self.crf,
                self.speed, self.motion]

    def fill(self, s: ExportSettings) -> None:
        """Show these settings (no `edited`)."""
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

    def fields(self) -> dict:
        """The fields as `ExportSettings` keywords (not validated)."""
        return {
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

    def set_locked(self, locked: bool) -> None:
        """Everything read-only while an export runs; otherwise what the format uses."""
        for w in self.inputs():
            w.setEnabled(not locked)
        if not locked:
            fmt = self.format.currentData()
            self.crf.setEnabled(fmt in DEFAULT_CRF)
            self.speed.setEnabled(fmt in SPEED_FORMATS)

    @Slot()
    def _changed(self, *_args) -> None:
        if not self._filling:
            self.edited.emit()
