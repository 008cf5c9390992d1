"""Takes' pixels for the widgets: frames, frame sources and thumbnails, cached.

A take's native clip is tiny (16×32×32×3), so whole clips are kept (LRU) and every widget that
shows a take (shot list poster, takes grid, timeline filmstrip, player) reads the same arrays.
Native frames are pre-upscaled 4× with the media conform's bicubic stage once, so Qt's bilinear
scaling on screen gives the same soft picture as an export instead of a 32-px lattice.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap

from studio.errors import StudioError
from studio.media.frames import read_frames, take_media_path
from studio.project.schema import Take
from studio.ui.frame_source import ArrayFrameSource
from studio.ui.images import to_qimage

PREVIEW_UPSCALE = 4


def _upscale(frames: np.ndarray) -> np.ndarray:
    t, h, w, _ = frames.shape
    if h >= 128:
        return frames
    from studio.media.conform import scale  # cv2 only when a take is shown

    return np.stack([scale(f, w * PREVIEW_UPSCALE, h * PREVIEW_UPSCALE, "smooth") for f in frames])


class TakeMediaCache:
    """Frames of takes by absolute file path (+ modification time, so a regenerated file reloads)."""

    def __init__(self, project_dir_fn, max_takes: int = 64):
        self._project_dir = project_dir_fn  # () -> Path | None: the document's folder right now
        self._frames: OrderedDict[tuple[str, float], np.ndarray] = OrderedDict()
        self._pixmaps: dict[tuple, QPixmap] = {}
        self._max = max_takes
        self.errors: dict[str, str] = {}  # take id -> last error, for tooltips

    def path_for(self, take: Take) -> Path | None:
        folder = self._project_dir()
        return None if folder is None else take_media_path(folder, take)

    def frames(self, take: Take) -> np.ndarray | None:
        """Display frames (upscaled native pixels), or None when the media is missing/unreadable."""
        path = self.path_for(take)
        if path is None or not path.is_file():
            self.errors[take.id] = "media file is missing"
            return None
        key = (str(path), path.stat().st_mtime)
        hit = self._frames.get(key)
        if hit is not None:
            self._frames.move_to_end(key)
            return hit
        try:
            frames = _upscale(read_frames(path))
        except StudioError as e:
            self.errors[take.id] = e.message
            return None
        self.errors.pop(take.id, None)
        self._frames[key] = frames
        while len(self._frames) > self._max:
            self._frames.popitem(last=False)
        return frames

    def source(self, take: Take) -> ArrayFrameSource | None:
        frames = self.frames(take)
        return None if frames is None else ArrayFrameSource(frames, take.fps)

    def image(self, take: Take, index: int = 0) -> QImage | None:
        frames = self.frames(take)
        if frames is None:
            return None
        return to_qimage(frames[min(max(index, 0), len(frames) - 1)])

    def poster(self, take: Take, size: QSize) -> QPixmap | None:
        """A thumbnail: the take's poster PNG when it has one, else its middle frame."""
        path = self.path_for(take)
        key = (take.id, str(path), size.width(), size.height())
        hit = self._pixmaps.get(key)
        if hit is not None:
            return hit
        image = None
        folder = self._project_dir()
        if take.poster and folder is not None and (folder / take.poster).is_file():
            image = QImage(str(folder / take.poster))
            if image.isNull():
                image = None
        if image is None:
            frames = self.frames(take)
            if frames is None:
                return None
            image = to_qimage(frames[len(frames) // 2])
        pm = QPixmap.fromImage(image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
        self._pixmaps[key] = pm
        return pm

    def clear(self) -> None:
        self._frames.clear()
        self._pixmaps.clear()
        self.errors.clear()
