"""Small form pieces the inspector's sections share: combo boxes bound to values, section titles."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel


def combo(items: dict) -> QComboBox:
    """A combo box whose items carry their values (`currentData()`)."""
    c = QComboBox()
    for value, label in items.items():
        c.addItem(label, value)
    # narrow: a long label must not widen the inspector dock
    c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    c.setMinimumContentsLength(8)
    return c


def set_combo(c: QComboBox, value) -> None:
    i = c.findData(value)
    if i >= 0 and i != c.currentIndex():
        c.setCurrentIndex(i)


def section(title: str) -> QLabel:
    label = QLabel(title.upper())
    label.setObjectName("Section")
    return label
