"""Decoded frames (numpy RGB) as Qt images, for every widget that draws one (no widgets here)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def to_qimage(frame: np.ndarray) -> QImage:
    """RGB uint8 H×W×3 → QImage that owns a copy (the array may be reused by the source)."""
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    return QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
