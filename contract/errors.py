"""The error a bad toy-world input raises, on either side of the contract."""

from __future__ import annotations


class ToyworldError(ValueError):
    """Bad input to the toy world (kind + one-line message)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message
