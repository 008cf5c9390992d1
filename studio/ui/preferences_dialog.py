"""The Settings dialog: this project's frame rate, resolution and model (an undoable document edit)
and the user's preferences (default model, open model folders, device, steps for new shots), saved
through studio.project.preferences. A model folder is checked the moment it is added."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.errors import StudioError, from_validation
from studio.project import preferences as prefs
from studio.project.bundled_models import DEFAULT_NAME, bundled_models
from studio.project.model_choices import add_model_folder, effective_model, model_choices

FPS_CHOICES = [23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 60.0]
RESOLUTIONS = [(1280, 720), (1920, 1080), (3840, 2160), (1080, 1920), (1024, 1024), (512, 512)]
DEVICES = ["auto", "cpu", "cuda", "mps"]


class PreferencesDialog(QDialog):
    def __init__(self, doc, preferences: prefs.Preferences, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(480)
        self.doc = doc
        self.preferences = preferences
        self.error = QLabel()
        self.error.setObjectName("Error")
        self.error.hide()

        project = QGroupBox(f"This project — {doc.title}")
        pf = QFormLayout(project)
        self.fps = QComboBox()
        self.fps.setEditable(True)
        for f in FPS_CHOICES:
            self.fps.addItem(f"{f:g}", f)
        self.fps.setCurrentText(f"{doc.settings.fps:g}")
        self.width = QSpinBox()
        self.width.setRange(16, 8192)
        self.width.setValue(doc.settings.width)
        self.height = QSpinBox()
        self.height.setRange(16, 8192)
        self.height.setValue(doc.settings.height)
        preset = QComboBox()
        preset.addItem("Preset…", None)
        for w, h in RESOLUTIONS:
            preset.addItem(f"{w} × {h}", (w, h))
        preset.activated.connect(lambda _i: self._preset(preset.currentData()))
        res = QHBoxLayout()
        res.addWidget(self.width)
        res.addWidget(QLabel("×"))
        res.addWidget(self.height)
        res.addWidget(preset)
        res_w = QWidget()
        res_w.setLayout(res)
        res.setContentsMargins(0, 0, 0, 0)
        pf.addRow("Frame rate", self.fps)
        pf.addRow("Resolution", res_w)
        # the project's model: the studio default, a bundled model or an open model folder
        self.project_model = QComboBox()
        self.project_model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.project_model.setMinimumContentsLength(24)
        self._fill_models(doc.settings.model)
        add_folder = QPushButton("Add model folder…")
        add_folder.setToolTip("An open video model on this computer: a diffusers folder with model_index.json "
                              "(Wan, LTX-Video, …)")
        add_folder.clicked.connect(self._add_folder)
        mrow = QHBoxLayout()
        mrow.setContentsMargins(0, 0, 0, 0)
        mrow.addWidget(self.project_model, 1)
        mrow.addWidget(add_folder)
        mrow_w = QWidget()
        mrow_w.setLayout(mrow)
        pf.addRow("Model", mrow_w)

        studio = QGroupBox("Studio defaults")
        sf = QFormLayout(studio)
        self.checkpoint = QLineEdit(preferences.checkpoint)
        self.checkpoint.setPlaceholderText(f"bundled default ({DEFAULT_NAME})")
        self.checkpoint.setMinimumWidth(240)  # a path, readable beside the picker
        # the models shipped in assets/models, by what they make; picking one fills the path
        self.bundled = QComboBox()
        self.bundled.addItem("Bundled models…", None)
        for m in bundled_models():
            self.bundled.addItem(m.label, "" if m.name == DEFAULT_NAME else m.path)
        self.bundled.activated.connect(self._pick_bundled)
        # compact beside the path field; the open list is wide enough for the full labels
        self.bundled.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.bundled.setMinimumContentsLength(14)
        self.bundled.view().setMinimumWidth(340)
        self.bundled.setMaximumWidth(160)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        ck = QHBoxLayout()
        ck.setContentsMargins(0, 0, 0, 0)
        ck.addWidget(self.checkpoint, 1)
        ck.addWidget(self.bundled)
        ck.addWidget(browse)
        ck_w = QWidget()
        ck_w.setLayout(ck)
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(DEVICES)
        self.device.setCurrentText(preferences.device)
        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.steps.setValue(preferences.default_steps)
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0, 30)
        self.guidance.setSingleStep(0.5)
        self.guidance.setValue(preferences.default_guidance)
        sf.addRow("Default model", ck_w)
        sf.addRow("Device", self.device)
        # an open model on a small GPU: trade speed for memory (the bundled model ignores both)
        self.offload = QCheckBox("CPU offload")
        self.offload.setChecked(preferences.offload)
        self.offload.setToolTip("Keep an open model's parts in RAM and move each to the GPU only while it runs")
        self.vae_tiling = QCheckBox("VAE tiling")
        self.vae_tiling.setChecked(preferences.vae_tiling)
        self.vae_tiling.setToolTip("Decode an open model's frames in tiles: less GPU memory, a little slower")
        savers = QHBoxLayout()
        savers.setContentsMargins(0, 0, 0, 0)
        savers.addWidget(self.offload)
        savers.addWidget(self.vae_tiling)
        savers.addStretch(1)
        savers_w = QWidget()
        savers_w.setLayout(savers)
        sf.addRow("Memory savers", savers_w)
        sf.addRow("Default steps", self.steps)
        sf.addRow("Default guidance", self.guidance)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(project)
        lay.addWidget(studio)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.engine_changed = False

    def _preset(self, size) -> None:
        if size:
            self.width.setValue(size[0])
            self.height.setValue(size[1])

    def _fill_models(self, current: str) -> None:
        self.project_model.clear()
        self.project_model.addItem("Studio default", "")
        for choice in model_choices(self.preferences):
            if choice.path == "":
                continue  # the bundled default is what "Studio default" means unless changed below
            label = choice.label + (f"  ({choice.problem})" if choice.problem else "")
            self.project_model.addItem(label, choice.path)
        index = self.project_model.findData(current)
        if index < 0 and current:  # a model this project names that is not in the list (another machine)
            self.project_model.addItem(f"{current}  (not in this studio's list)", current)
            index = self.project_model.count() - 1
        self.project_model.setCurrentIndex(max(0, index))

    def _add_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Open model folder (with model_index.json)")
        if not name:
            return
        try:
            self.preferences = add_model_folder(self.preferences, name)
        except StudioError as e:
            self._fail(e.message)
            return
        self.error.hide()
        self._fill_models(str(Path(name).resolve()))  # added (or already there): picked for this project

    def _pick_bundled(self, index: int) -> None:
        path = self.bundled.itemData(index)
        if path is not None:
            self.checkpoint.setText(path)
        self.bundled.setCurrentIndex(0)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Model checkpoint", "", "Checkpoints (*.safetensors)")
        if name:
            self.checkpoint.setText(name)

    def apply(self) -> None:
        try:
            fps = float(self.fps.currentText())
        except ValueError:
            self._fail(f"frame rate {self.fps.currentText()!r} is not a number")
            return
        before = effective_model(self.doc.settings, self.preferences)
        err = self.doc.set_project_settings(fps=fps, width=self.width.value(), height=self.height.value(),
                                            model=self.project_model.currentData() or "")
        if err is not None:
            self._fail(err.message)
            return
        s = self.preferences
        try:
            new = prefs.Preferences.model_validate({
                **s.model_dump(), "checkpoint": self.checkpoint.text().strip(),
                "device": self.device.currentText().strip(), "default_steps": self.steps.value(),
                "default_guidance": self.guidance.value(), "offload": self.offload.isChecked(),
                "vae_tiling": self.vae_tiling.isChecked()})
        except ValidationError as e:
            self._fail(from_validation(e).message)
            return
        try:
            prefs.save_preferences(new)
        except StudioError as e:
            self._fail(e.message)
            return
        self.engine_changed = ((effective_model(self.doc.settings, new), new.device, new.savers())
                               != (before, s.device, s.savers()))
        self.preferences = new
        self.accept()

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
