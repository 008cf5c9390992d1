"""A project-relative media path with Browse… and Clear (the inspector's reference image and source
video): a file picked from outside the project is copied into it first."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QToolButton, QWidget

from contract.files import atomic_path

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp)"
VIDEO_FILTER = "Video (*.mp4 *.mov *.mkv *.webm *.npy)"


def project_relative(project_dir: Path, path: Path, subfolder: str) -> str:
    """A project-relative path for a picked file: as is when it is inside the project, else a copy
    in media/<subfolder>/ (written to a temp name first, so a failed copy leaves nothing)."""
    path = path.resolve()
    project_dir = project_dir.resolve()
    if path.is_relative_to(project_dir):
        return path.relative_to(project_dir).as_posix()
    dest_dir = project_dir / "media" / subfolder
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / path.name
    n = 1
    while dest.exists():
        dest = dest_dir / f"{path.stem}-{n}{path.suffix}"
        n += 1
    with atomic_path(dest) as tmp:
        shutil.copyfile(path, tmp)
    return dest.relative_to(project_dir).as_posix()


class MediaPicker(QWidget):
    """A project-relative file path with Browse… and Clear."""

    picked = Signal(str)  # "" = cleared

    def __init__(self, file_filter: str, parent=None):
        super().__init__(parent)
        self.file_filter = file_filter
        self.path = QLineEdit()
        self.path.setReadOnly(True)
        self.path.setPlaceholderText("none")
        self.browse = QPushButton("Browse…")
        self.clear = QToolButton()
        self.clear.setText("✕")
        self.clear.setToolTip("Clear")
        self.clear.setAutoRaise(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.path, 1)
        lay.addWidget(self.browse)
        lay.addWidget(self.clear)
        self.clear.clicked.connect(lambda: self.picked.emit(""))
        self.dialog = lambda: QFileDialog.getOpenFileName(self, "Choose a file", "", self.file_filter)[0]
        self.browse.clicked.connect(self._browse)
        self.choose = None  # set by the inspector: (absolute path) -> None

    def _browse(self) -> None:
        name = self.dialog()
        if name and self.choose is not None:
            self.choose(Path(name))

    def set_value(self, value: str | None) -> None:
        self.path.setText(value or "")
