"""The inspector's generation section, compact enough to sit above the fold: seed (roll, lock and a
line saying what the next take does with it), steps and guidance side by side, sampler, and
"Generate N takes" of this shot."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from studio.engine.variations import MAX_TAKES
from studio.project.schema import MAX_SEED, Shot
from studio.ui.form_parts import combo
from studio.ui.inspector_notes import seed_note, seed_rule
from studio.ui.labels import SAMPLER_ITEMS

DEFAULT_TAKES = 3  # as Generate → Generate Takes… suggests


def row(*widgets, stretch: tuple[int, ...] = ()) -> QWidget:
    """Widgets side by side in one form field."""
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(6)
    for i, w in enumerate(widgets):
        lay.addWidget(w, stretch[i] if i < len(stretch) else 0)
    return box


class GenerationRows:
    """Builds the section's widgets; `add_to(form)` lays them out, `refresh(shot)` rewords the notes.
    The inspector binds the values to the document."""

    def __init__(self):
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.dice = QToolButton()
        self.dice.setText("Roll")
        self.dice.setToolTip("Pick a new random seed")
        self.seed_locked = QCheckBox("Lock")
        self.seed_locked.setToolTip("Locked: every take uses this seed.\nUnlocked: each new take rolls its own seed.")
        # One line, always there (no jump when it changes): what the next take does with the seed.
        self.seed_note = QLabel()
        self.seed_note.setObjectName("Dim")

        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0, 30)
        self.guidance.setSingleStep(0.5)
        self.guidance.setDecimals(1)
        self.guidance_label = QLabel("Guidance")
        self.sampler = combo(SAMPLER_ITEMS)

        self.takes = QSpinBox()
        self.takes.setRange(1, MAX_TAKES)
        self.takes.setValue(DEFAULT_TAKES)
        self.takes.setPrefix("×")
        self.takes.setToolTip("How many takes to generate")
        self.takes.setMaximumWidth(self.takes.fontMetrics().horizontalAdvance("×32") + 44)
        self.generate_takes = QToolButton()
        self.generate_takes.setObjectName("Primary")
        self.generate_takes.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.takes.valueChanged.connect(lambda _n: self._name_button())
        self._name_button()

    def add_to(self, form: QFormLayout) -> None:
        form.addRow("Seed", row(self.seed, self.dice, self.seed_locked, stretch=(1,)))
        form.addRow("", self.seed_note)
        form.addRow("Steps", row(self.steps, self.guidance_label, self.guidance, stretch=(1, 0, 1)))
        form.addRow("Sampler", self.sampler)
        form.addRow("Takes", row(self.takes, self.generate_takes, stretch=(0, 1)))

    def _name_button(self) -> None:
        n = self.takes.value()
        self.generate_takes.setText(f"Generate {n} take{'s' if n != 1 else ''}")

    def refresh(self, shot: Shot) -> None:
        note, warns = seed_note(shot)
        self.seed_note.setText(note)
        if self.seed_note.objectName() != ("Warning" if warns else "Dim"):
            self.seed_note.setObjectName("Warning" if warns else "Dim")
            self.seed_note.style().unpolish(self.seed_note)
            self.seed_note.style().polish(self.seed_note)
        self.seed_note.setToolTip(seed_rule(shot))
        self.generate_takes.setToolTip(f"Queue {self.takes.value()} new takes of this shot.\n"
                                       + seed_rule(shot, self.takes.value()))
