"""The dark theme: Fusion, a dark palette and a small stylesheet for the studio's own widgets."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#3f7fd9"

STYLESHEET = f"""
QMainWindow::separator {{ background: #101114; width: 3px; height: 3px; }}
QDockWidget {{ titlebar-close-icon: none; font-weight: 600; }}
QDockWidget::title {{ background: #26272c; padding: 4px 8px; border-bottom: 1px solid #101114; }}
QLabel#PanelTitle {{ font-weight: 600; font-size: 10.5pt; color: #e6e7ec; }}
QLabel#PlayerTitle {{ color: #c9cad2; font-weight: 600; }}
QLabel#Dim {{ color: #8d8f9a; }}
QLabel#Warning {{ color: #f0a640; }}
QLabel#Error {{ color: #ff6b5e; }}
QLabel#Chosen {{ color: #5fcf86; font-size: 8.5pt; }}
QLabel#CardTitle {{ font-weight: 600; }}
QLabel#Section {{ color: #7f8290; font-size: 8pt; font-weight: 700; letter-spacing: 1px;
                  padding-top: 8px; border-bottom: 1px solid #2d2e34; }}
QLineEdit#Timecode {{ font-family: "DejaVu Sans Mono", "Menlo", "Consolas", monospace; font-size: 13pt;
                   color: #f2f2f2; background: #0d0e10; border: 1px solid #2b2c31; border-radius: 3px;
                   padding: 1px 6px; }}
QToolButton#Primary {{ background: {ACCENT}; color: white; border-radius: 3px; padding: 3px 10px;
                       font-weight: 600; }}
QToolButton#Primary:hover {{ background: #5290e6; }}
QToolButton#Primary:disabled {{ background: #3a3c44; color: #888; }}
QToolButton#CompareA:checked {{ background: #e67828; color: white; border-radius: 3px; }}
QToolButton#CompareB:checked {{ background: #3c8ce6; color: white; border-radius: 3px; }}
QFrame#TakeCard {{ background: #222328; border: 1px solid #33353c; border-radius: 6px; }}
QFrame#TakeCard[focused="true"] {{ border: 1px solid {ACCENT}; }}
QFrame#TakeCard[chosen="true"] {{ border: 2px solid #4dbb72; }}
QPushButton:checked {{ background: #2f7d4a; color: white; border: 1px solid #3f9a5f; }}
QPushButton#ModeButton {{ padding: 2px 8px; }}
QPushButton#ModeButton:checked {{ background: {ACCENT}; border: 1px solid #5a93e3; }}
QToolButton#PlayButton {{ background: #2d2e35; border-radius: 4px; }}
QTableView {{ gridline-color: #2a2b30; selection-background-color: #2c4a75; selection-color: #ffffff;
              alternate-background-color: #1c1d21; }}
QHeaderView::section {{ background: #26272c; color: #a9abb5; border: none;
                        border-right: 1px solid #1a1b1f; padding: 4px 6px; }}
QStatusBar {{ background: #19191d; color: #a0a2ac; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QScrollArea {{ background: transparent; }}
QToolTip {{ background: #2b2c33; color: #e8e8ee; border: 1px solid #44464f; }}
QPlainTextEdit, QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ padding: 2px 4px; }}
"""


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(32, 33, 37), QColor(22, 23, 26), QColor(216, 217, 222)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(28, 29, 33),
        QPalette.ColorRole.ToolTipBase: QColor(43, 44, 51),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(110, 112, 122),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(44, 45, 51),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 80),
        QPalette.ColorRole.Link: QColor(ACCENT),
        QPalette.ColorRole.Highlight: QColor(ACCENT),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Light: QColor(60, 61, 68),
        QPalette.ColorRole.Midlight: QColor(50, 51, 57),
        QPalette.ColorRole.Mid: QColor(38, 39, 44),
        QPalette.ColorRole.Dark: QColor(18, 18, 21),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    disabled = QColor(112, 114, 122)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    font = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
    font.setPointSizeF(max(font.pointSizeF(), 9.0))
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
