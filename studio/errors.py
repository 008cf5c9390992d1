"""User-facing failures of the studio: a kind and a one-line message, never a traceback."""

from __future__ import annotations


class StudioError(Exception):
    """A failure the user can understand and act on. `str(e)` is the one-line message."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = " ".join(str(message).split())  # one line, whatever the source said

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"StudioError({self.kind!r}, {self.message!r})"
