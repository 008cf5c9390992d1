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


def from_validation(e, kind: str = "invalid_value", prefix: str = "") -> StudioError:
    """The first problem of a pydantic ValidationError as one line: `<prefix><field>: <message>`
    (no field for a whole-model check). Duck-typed, so this module needs no pydantic import."""
    err = e.errors()[0]
    field = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return StudioError(kind, f"{prefix}{field}: {msg}" if field else f"{prefix}{msg}")
