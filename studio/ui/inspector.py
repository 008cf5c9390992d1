"""The inspector: every parameter of the current shot, edited in place.

It shows what the document says and sends every change back as a document edit (one undo step;
typing in a text field merges into one). Nothing is kept here: switching shots, undo and redo all
reload the widgets from the document.
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio import vocabulary
from studio.project.schema import MAX_SEED, Mode, ShotStatus, TransitionKind
from studio.ui.badges import STATUS_COLORS
from studio.ui.form_parts import combo, section, set_combo
from studio.ui.generation_settings import GenerationRows, row
from studio.ui.inspector_notes import timeline_note
from studio.ui.labels import CAMERA_ITEMS, MODE_LABELS, MOTION_ITEMS, SIZE_ITEMS, TRANSITION_NAMES
from studio.ui.media_picker import IMAGE_FILTER, VIDEO_FILTER, MediaPicker, project_relative
from studio.ui.prompt_highlighter import UnknownWordHighlighter

PROMPT_LINES = 3  # the prompt box's height in lines (longer prompts scroll inside it)


class Inspector(QWidget):
    """Prompt, then generation (seed, steps, guidance, sampler, Generate N takes: above the fold
    even with the render queue docked below), then the shot's framing and timing, mode, notes."""

    generateTakesRequested = Signal(int)  # "Generate N takes" of the current shot

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.setObjectName("Inspector")
        self.doc = doc
        self.shot_id = ""
        self._loading = False
        self._build()
        doc.currentShotChanged.connect(self.show_shot)
        doc.shotChanged.connect(self._on_shot_changed)
        doc.shotsReset.connect(lambda: self.show_shot(doc.current_shot_id))
        doc.shotsRemoved.connect(lambda *_: self.show_shot(doc.current_shot_id))
        doc.shotsMoved.connect(lambda: self.show_shot(doc.current_shot_id))
        doc.takesChanged.connect(self._on_shot_changed)
        doc.timelineChanged.connect(self._refresh_notes)  # a trim changes what Duration says
        doc.settingsChanged.connect(self._refresh_notes)
        self._vocab_timer = QTimer(self)
        self._vocab_timer.setSingleShot(True)
        self._vocab_timer.setInterval(150)
        self._vocab_timer.timeout.connect(self._update_unknown_words)
        self.show_shot(doc.current_shot_id)

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.header = QLabel()
        self.header.setObjectName("PanelTitle")
        self.status = QLabel()
        self.status.setObjectName("StatusBadge")
        self.stale_note = QLabel("Parameters changed since the chosen take was made — generate again.")
        self.stale_note.setObjectName("Warning")
        self.stale_note.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)

        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("wide shot of a red lantern moving up at night, camera tilts up")
        self.prompt.setTabChangesFocus(True)
        fm = QFontMetrics(self.prompt.font())
        self.prompt.setFixedHeight(PROMPT_LINES * fm.lineSpacing() + 18)
        self.highlighter = UnknownWordHighlighter(self.prompt.document())
        self.unknown = QLabel()
        self.unknown.setObjectName("Dim")
        self.unknown.setWordWrap(True)
        self.negative = QLineEdit()
        self.negative.setPlaceholderText("what to avoid")

        self.gen = GenerationRows()
        g = self.gen
        self.seed, self.dice, self.seed_locked, self.seed_note = g.seed, g.dice, g.seed_locked, g.seed_note
        self.steps, self.guidance, self.sampler = g.steps, g.guidance, g.sampler
        self.takes, self.generate_takes = g.takes, g.generate_takes

        self.size = combo(SIZE_ITEMS)
        self.camera = combo(CAMERA_ITEMS)
        self.motion = combo(MOTION_ITEMS)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0.1, 600)
        self.duration.setDecimals(2)
        self.duration.setSingleStep(0.5)
        self.duration.setSuffix(" s")
        self.duration.setToolTip("How long the next take is asked to be")
        # Beside Duration: the clip's length on the timeline when a trim (or the take) differs.
        self.timeline_length = QLabel()
        self.timeline_length.setObjectName("Dim")

        self.mode = combo(MODE_LABELS)
        self.reference = MediaPicker(IMAGE_FILTER)
        self.source_video = MediaPicker(VIDEO_FILTER)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.01, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setDecimals(2)
        self.strength.setToolTip("How far from the source video the result may go (1 = ignore it)")
        self.continue_prev = QCheckBox("Continue from the previous shot's last frame")

        self.transition = combo(TRANSITION_NAMES)
        self.transition_length = QDoubleSpinBox()
        self.transition_length.setRange(0.0, 10.0)
        self.transition_length.setSingleStep(0.25)
        self.transition_length.setSuffix(" s")
        self.transition_length.setToolTip("Transition length")

        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Notes for this shot")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(64)

        for spin in (self.duration, self.seed, self.steps, self.guidance, self.strength, self.transition_length):
            spin.setKeyboardTracking(False)  # one edit when typing is done, not one per digit

        form_w = QWidget()
        form = QFormLayout(form_w)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(10, 0, 10, 10)
        form.setVerticalSpacing(6)
        form.addRow(section("Prompt"))
        form.addRow(self.prompt)
        form.addRow(self.unknown)
        form.addRow("Negative", self.negative)
        form.addRow(section("Generation"))
        g.add_to(form)
        form.addRow(section("Shot"))
        form.addRow("Duration", row(self.duration, self.timeline_length, stretch=(2, 3)))
        form.addRow("Transition in", row(self.transition, self.transition_length, stretch=(2, 1)))
        form.addRow("Shot size", self.size)
        form.addRow("Camera", self.camera)
        form.addRow("Subject motion", self.motion)
        form.addRow(section("Mode"))
        form.addRow("Mode", self.mode)
        self.reference_label = QLabel("Reference")
        form.addRow(self.reference_label, self.reference)
        self.source_label = QLabel("Source video")
        form.addRow(self.source_label, self.source_video)
        self.strength_label = QLabel("Strength")
        form.addRow(self.strength_label, self.strength)
        self.extend_note = QLabel("Continues the chosen take of the shot before this one.")
        self.extend_note.setObjectName("Dim")
        self.extend_note.setWordWrap(True)
        form.addRow(self.extend_note)
        form.addRow(self.continue_prev)
        form.addRow(section("Notes"))
        form.addRow(self.notes)
        self.form = form

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(form_w)
        self.scroll = scroll

        head = QHBoxLayout()
        head.setContentsMargins(10, 6, 10, 0)
        head.addWidget(self.header, 1)
        head.addWidget(self.status)
        editor = QWidget()
        lay = QVBoxLayout(editor)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(head)
        for w in (self.stale_note, self.error):
            w.setContentsMargins(10, 0, 10, 0)
            lay.addWidget(w)
        lay.addWidget(scroll, 1)
        empty = QLabel("Select a shot in the shot list to edit it.")
        empty.setObjectName("Dim")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(editor)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self._connect()

    def _connect(self) -> None:
        self.prompt.textChanged.connect(lambda: self._edit(prompt=self.prompt.toPlainText()))
        self.prompt.textChanged.connect(self._vocab_soon)
        self.negative.textEdited.connect(lambda t: self._edit(negative_prompt=t))
        self.size.activated.connect(lambda _i: self._edit(shot_size=self.size.currentData()))
        self.camera.activated.connect(lambda _i: self._edit(camera=self.camera.currentData()))
        self.motion.activated.connect(lambda _i: self._edit(motion=self.motion.currentData()))
        self.duration.valueChanged.connect(lambda v: self._edit(duration=v))
        self.seed.valueChanged.connect(lambda v: self._edit(seed=v))
        self.dice.clicked.connect(self.roll_seed)
        self.seed_locked.toggled.connect(lambda on: self._edit(seed_locked=on))
        self.steps.valueChanged.connect(lambda v: self._edit(steps=v))
        self.guidance.valueChanged.connect(lambda v: self._edit(guidance=v))
        self.sampler.activated.connect(lambda _i: self._edit(sampler=self.sampler.currentData()))
        self.mode.activated.connect(lambda _i: self._edit(mode=self.mode.currentData()))
        self.strength.valueChanged.connect(lambda v: self._edit(strength=v))
        self.continue_prev.toggled.connect(lambda on: self._edit(continue_from_previous=on))
        self.reference.picked.connect(lambda rel: self._edit(reference_image=rel or None))
        self.reference.choose = lambda path: self._pick_media(path, "references", "reference_image")
        self.source_video.picked.connect(lambda rel: self._edit(source_video=rel or None))
        self.source_video.choose = lambda path: self._pick_media(path, "sources", "source_video")
        self.transition.activated.connect(lambda _i: self._edit_transition())
        self.transition_length.valueChanged.connect(lambda _v: self._edit_transition())
        self.notes.textChanged.connect(self._edit_notes)
        self.takes.valueChanged.connect(lambda _n: self._refresh_notes())
        self.generate_takes.clicked.connect(self.request_takes)

    # -- showing --------------------------------------------------------------------------------------
    def show_shot(self, shot_id: str) -> None:
        shot = self.doc.shot(shot_id) if shot_id else None
        self.shot_id = shot.id if shot is not None else ""
        self.error.hide()
        self.stack.setCurrentIndex(1 if shot is not None else 0)
        if shot is not None:
            self.reload()

    def _on_shot_changed(self, shot_id: str) -> None:
        if shot_id == self.shot_id:
            self.reload()

    def reload(self) -> None:
        """Widgets ← document (signals blocked so this is not taken for an edit)."""
        shot = self.doc.shot(self.shot_id)
        if shot is None:
            self.show_shot("")
            return
        p = shot.params
        self._loading = True
        try:
            row = self.doc.row_of(shot.id)
            self.header.setText(f"Shot {row + 1}")
            color = STATUS_COLORS[shot.status]
            self.status.setText(shot.status.value)
            self.status.setStyleSheet(f"background:{color.name()}; color:white; border-radius:8px; padding:1px 8px;")
            self.stale_note.setVisible(shot.status == ShotStatus.STALE)
            if shot.status == ShotStatus.FAILED and shot.error:
                self._show_error(f"Generation failed: {shot.error}")
            elif self.error.text().startswith("Generation failed"):
                self.error.hide()  # it no longer holds: the shot was queued again or has a new take
                self.error.setText("")
            if self.prompt.toPlainText() != p.prompt:
                with QSignalBlocker(self.prompt):
                    cursor = self.prompt.textCursor()
                    pos = cursor.position()
                    self.prompt.setPlainText(p.prompt)
                    cursor.setPosition(min(pos, len(p.prompt)))
                    self.prompt.setTextCursor(cursor)
                self._update_unknown_words()
            if self.negative.text() != p.negative_prompt:
                self.negative.setText(p.negative_prompt)
            for w, value in ((self.size, p.shot_size), (self.camera, p.camera), (self.motion, p.motion),
                             (self.sampler, p.sampler), (self.mode, p.mode), (self.transition, shot.transition.kind)):
                with QSignalBlocker(w):
                    set_combo(w, value)
            # times are frames in the project; the editor speaks seconds (set_params converts back)
            for w, value in ((self.duration, p.duration.seconds), (self.seed, p.seed), (self.steps, p.steps),
                             (self.guidance, p.guidance), (self.strength, p.strength),
                             (self.transition_length, shot.transition.duration.seconds)):
                with QSignalBlocker(w):
                    w.setValue(value)
            for box, on in ((self.continue_prev, p.continue_from_previous), (self.seed_locked, p.seed_locked)):
                with QSignalBlocker(box):
                    box.setChecked(on)
            self.reference.set_value(p.reference_image)
            self.source_video.set_value(p.source_video)
            if self.notes.toPlainText() != shot.notes:
                with QSignalBlocker(self.notes):
                    self.notes.setPlainText(shot.notes)
            self.transition_length.setEnabled(shot.transition.kind != TransitionKind.CUT)
            self._mode_rows(p.mode)
            self.continue_prev.setEnabled(row > 0)
            self.seed.setEnabled(True)
            self._refresh_notes()
        finally:
            self._loading = False
        if not self.prompt.hasFocus():
            self._update_unknown_words()

    def _refresh_notes(self) -> None:
        """The notes that follow from the document, not from one field: what the next takes do
        with the seed, and the clip's length on the timeline beside Duration."""
        shot = self.doc.shot(self.shot_id) if self.shot_id else None
        if shot is None:
            return
        self.gen.refresh(shot)
        note, tip = timeline_note(shot, self.doc.clip_for(shot.id), self.doc.settings.fps)
        self.timeline_length.setText(note)
        self.timeline_length.setToolTip(tip)

    def set_capabilities(self, caps) -> None:
        """Offer only what the running model can do (contract.capabilities.Capabilities; None: no
        model known yet, everything): its modes, its sampler choice (none for an open model, which
        runs its own scheduler), its steps and guidance ranges."""
        items = self.mode.model()
        for i in range(self.mode.count()):
            value = self.mode.itemData(i)
            items.item(i).setEnabled(caps is None or getattr(value, "value", value) in caps.modes)
        self.sampler.setEnabled(caps is None or bool(caps.samplers))
        self.sampler.setToolTip("" if caps is None or caps.samplers else "This model runs its own scheduler")
        steps, guidance = (caps.steps, caps.guidance) if caps is not None else ((1, 1000, 20), (0.0, 30.0, 3.0))
        for w, (lo, hi, _default) in ((self.steps, steps), (self.guidance, guidance)):
            with QSignalBlocker(w):  # a narrower range must not edit the shot by clamping its value
                w.setRange(lo, hi)
        self._toy_vocabulary = caps is None or caps.family == "uvit"  # the bundled model's fixed words
        self.reload()
        self._update_unknown_words()

    def _mode_rows(self, mode: Mode) -> None:
        i2v, v2v, ext = mode == Mode.IMAGE_TO_VIDEO, mode == Mode.VIDEO_TO_VIDEO, mode == Mode.EXTEND
        for w, on in ((self.reference_label, i2v), (self.reference, i2v), (self.source_label, v2v),
                      (self.source_video, v2v), (self.strength_label, v2v), (self.strength, v2v),
                      (self.extend_note, ext)):
            w.setVisible(on)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    # -- editing --------------------------------------------------------------------------------------
    def _edit(self, **changes) -> None:
        if self._loading or not self.shot_id:
            return
        err = self.doc.set_params(self.shot_id, **changes)
        if err is not None:
            self._show_error(err.message)
            self.reload()  # show what the shot really has
        else:
            self.error.hide()

    def _edit_notes(self) -> None:
        if not self._loading and self.shot_id:
            self.doc.set_notes(self.shot_id, self.notes.toPlainText())

    def _edit_transition(self) -> None:
        if self._loading or not self.shot_id:
            return
        kind = self.transition.currentData()
        length = self.transition_length.value()
        if kind != TransitionKind.CUT and length <= 0:
            length = 0.5
        err = self.doc.set_transition(self.shot_id, kind, length)
        if err is not None:
            self._show_error(err.message)
            self.reload()

    def request_takes(self) -> None:
        """Generate N takes of this shot: the main window queues them (engine.variations picks the seeds)."""
        if self.shot_id:
            self.generateTakesRequested.emit(self.takes.value())

    def roll_seed(self) -> None:
        self._edit(seed=random.randint(0, MAX_SEED))

    def _pick_media(self, path: Path, subfolder: str, field: str) -> None:
        folder = self.doc.path
        if folder is None:
            self._show_error("Save the project first: reference media is kept inside the project folder.")
            return
        try:
            rel = project_relative(folder, path, subfolder)
        except OSError as e:
            self._show_error(f"Could not copy {path.name} into the project: {e.strerror or e}")
            return
        self._edit(**{field: rel})

    # -- vocabulary -------------------------------------------------------------------------------------
    def _vocab_soon(self) -> None:
        self._vocab_timer.start()

    def _update_unknown_words(self) -> None:
        if not getattr(self, "_toy_vocabulary", True):  # an open model reads any words
            self.highlighter.set_words([])
            self.unknown.setText("")
            return
        words = vocabulary.unknown_words(self.prompt.toPlainText())
        if words is None:
            self.highlighter.set_words([])
            self.unknown.setText("Vocabulary check unavailable (prompt parser not installed).")
            return
        self.highlighter.set_words(words)
        if words:
            self.unknown.setText("The model does not know: " + ", ".join(f"“{w}”" for w in words))
            self.unknown.setObjectName("Warning")
        else:
            self.unknown.setText("Every word is in the model's vocabulary." if self.prompt.toPlainText().strip()
                                 else "")
            self.unknown.setObjectName("Dim")
        self.unknown.style().unpolish(self.unknown)
        self.unknown.style().polish(self.unknown)
