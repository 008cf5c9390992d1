"""Marks, in a prompt being typed, the words the model does not know."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat


class UnknownWordHighlighter(QSyntaxHighlighter):
    """Wavy-underlines the words the model does not know."""

    def __init__(self, document):
        super().__init__(document)
        self.words: list[str] = []
        self.fmt = QTextCharFormat()
        self.fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self.fmt.setUnderlineColor(QColor(240, 150, 40))
        self.fmt.setForeground(QColor(250, 190, 120))

    def set_words(self, words: list[str]) -> None:
        if words != self.words:
            self.words = list(words)
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802
        for word in self.words:
            # Whole words for Latin text; CJK has no spaces, so a plain substring there.
            ascii_word = word.isascii()
            pattern = rf"(?<![\w-]){re.escape(word)}(?![\w-])" if ascii_word else re.escape(word)
            for m in re.finditer(pattern, text, flags=re.IGNORECASE):
                self.setFormat(m.start(), m.end() - m.start(), self.fmt)
