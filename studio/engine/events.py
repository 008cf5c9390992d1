"""A minimal observer: `event.connect(fn)`, `event.emit(*args)`. No Qt, so the engine runs on a
plain asyncio loop (headless) as well as on qasync (GUI, where widgets wrap these in Qt signals)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Event:
    def __init__(self, name: str = ""):
        self.name = name
        self._handlers: list[Callable[..., Any]] = []

    def connect(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if fn not in self._handlers:
            self._handlers.append(fn)
        return fn

    def disconnect(self, fn: Callable[..., Any]) -> None:
        if fn in self._handlers:
            self._handlers.remove(fn)

    def emit(self, *args: Any) -> None:
        # One broken listener must not stop the engine or starve the other listeners.
        for fn in list(self._handlers):
            try:
                fn(*args)
            except Exception:
                log.exception("handler %r of event %s failed", fn, self.name)

    def __len__(self) -> int:
        return len(self._handlers)
