"""Grab the studio window to a PNG and quit (VSTUDIO_SCREENSHOT: how the docs and a look under Xvfb
see what a person sees)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow


def screenshot_later(window: QMainWindow, path: str, delay_ms: int = 1000, quit_after: bool = True) -> None:
    """Grab the window to a PNG after `delay_ms` (VSTUDIO_SCREENSHOT), then quit."""
    from PySide6.QtWidgets import QApplication

    def grab() -> None:
        try:
            app = QApplication.instance()
            screen = app.primaryScreen()
            # On a real display grab the screen, so a dialog on top (recovery, errors) is in the
            # picture; offscreen has no screen contents, only the window's.
            if app.platformName() != "offscreen" and screen is not None:
                screen.grabWindow(0).copy(window.frameGeometry()).save(path)
            else:
                window.grab().save(path)
        finally:
            if quit_after:
                QApplication.instance().quit()

    QTimer.singleShot(delay_ms, grab)
