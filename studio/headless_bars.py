"""Progress of a headless render on stderr (tqdm): the whole render in sampler steps, the current
shot, the export; transient status lines only on a terminal, so a log or a pipe holds just the
one-line outcome."""

from __future__ import annotations

import sys


class Bars:
    """tqdm bars on stderr: the whole render in sampler steps, the current shot, the export."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.total = self.shot = None

    def _bar(self, **kw):
        from tqdm import tqdm

        return tqdm(file=sys.stderr, disable=self.quiet, dynamic_ncols=True, mininterval=0.2, **kw)

    def status(self, text: str = "") -> None:
        """A transient line on a terminal (cleared by the next one): nothing in a log or a pipe, so a
        failure that follows is still the only line there."""
        if not self.quiet and sys.stderr.isatty():
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()

    def note(self, text: str) -> None:
        if not self.quiet:
            from tqdm import tqdm

            tqdm.write(text, file=sys.stderr)

    def start_render(self, steps: int) -> None:
        self.total = self._bar(total=steps, desc="render", unit="step", position=0)

    def start_shot(self, label: str, steps: int) -> None:
        self.end_shot()
        self.shot = self._bar(total=steps, desc=label, unit="step", position=1, leave=False)

    def shot_progress(self, step: int, total: int, done_before: int) -> None:
        if self.shot is not None:
            if total and self.shot.total != total:
                self.shot.total = total
            self.shot.update(max(0, step - self.shot.n))
        if self.total is not None:
            self.total.update(max(0, done_before + step - self.total.n))

    def end_shot(self, done: int | None = None) -> None:
        if self.shot is not None:
            self.shot.close()
            self.shot = None
        if done is not None and self.total is not None:
            self.total.update(max(0, done - self.total.n))

    def close(self) -> None:
        self.end_shot()
        if self.total is not None:
            self.total.close()
            self.total = None
