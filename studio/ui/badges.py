"""Status colours and the pill-shaped badge painter shared by the shot list and the takes panel."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from studio.project.schema import ShotStatus

STATUS_COLORS = {
    ShotStatus.DRAFT: QColor(96, 98, 108),
    ShotStatus.QUEUED: QColor(86, 110, 150),
    ShotStatus.GENERATING: QColor(44, 132, 214),
    ShotStatus.READY: QColor(56, 158, 92),
    ShotStatus.STALE: QColor(214, 140, 30),
    ShotStatus.FAILED: QColor(208, 62, 62),
}


def paint_badge(p: QPainter, rect: QRectF, text: str, color: QColor, progress: float | None = None) -> None:
    """A rounded pill with `text`, filled with `color`; `progress` (0..1) fills it partly."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    fm = p.fontMetrics()
    w = min(rect.width(), fm.horizontalAdvance(text) + 18)
    h = min(rect.height(), fm.height() + 4)
    pill = QRectF(rect.left(), rect.center().y() - h / 2, w, h)
    p.setPen(Qt.PenStyle.NoPen)
    if progress is None:
        p.setBrush(color)
        p.drawRoundedRect(pill, h / 2, h / 2)
    else:
        p.setBrush(color.darker(220))
        p.drawRoundedRect(pill, h / 2, h / 2)
        p.setClipRect(QRectF(pill.left(), pill.top(), pill.width() * max(0.0, min(progress, 1.0)), h))
        p.setBrush(color)
        p.drawRoundedRect(pill, h / 2, h / 2)
        p.setClipping(False)
    p.setPen(QColor(250, 250, 252))
    p.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
    p.restore()
