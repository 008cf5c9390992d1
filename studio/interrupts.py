"""SIGINT and SIGTERM, handled the same way at any moment of a headless job.

Outside the event loop either signal raises `Interrupted`; inside it, it cancels the main task, so
every `finally` and `except CancelledError` on the way out runs (the worker is stopped, the encoder
is told to stop and removes its partial file, the temporary project is removed). While the caller
cleans up, further signals are held back, so a second Ctrl-C or a service manager's repeated
SIGTERM cannot leave half of the cleanup undone.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal, as a shell reports it


class Interrupted(Exception):  # noqa: N818 (what happened, not an error of the program)
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 128 + self.signum)


def _raise(signum, _frame) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Both signals raise Interrupted in the main thread (KeyboardInterrupt is converted)."""
    old = {s: signal.signal(s, _raise) for s in SIGNALS}
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT) from None
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Ignore both signals (cleanup in progress), then restore what was there."""
    old = {s: signal.signal(s, signal.SIG_IGN) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run(main: Callable[[], Awaitable[T]]) -> T:
    """asyncio.run(main()) where the first SIGINT / SIGTERM cancels the main task and surfaces as
    Interrupted once it has unwound; later ones wait for that."""
    got: list[int] = []

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal(signum: int) -> None:
            if not got:
                got.append(signum)
                task.cancel()

        for s in SIGNALS:
            loop.add_signal_handler(s, on_signal, s)
        try:
            return await main()
        except asyncio.CancelledError:
            if got:
                raise Interrupted(got[0]) from None
            raise
        finally:
            for s in SIGNALS:
                loop.remove_signal_handler(s)
                signal.signal(s, signal.SIG_IGN)  # until the caller has cleaned up (see held())

    try:
        return asyncio.run(guarded())
    except KeyboardInterrupt:  # a SIGINT that reached the loop before our handler was in place
        raise Interrupted(got[0] if got else signal.SIGINT) from None
