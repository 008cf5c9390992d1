"""The transition dialog: the kind and length of the cut into a clip."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout

from studio.project.schema import TransitionKind
from studio.ui.labels import TRANSITION_NAMES


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
