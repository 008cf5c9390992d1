"""What the edit journal costs while typing: the sample project (7 shots) and a 500-shot project.

    python benchmarks/bench_journal.py [--shots 500] [--takes 4] [--seconds 3] [--interval-ms 30]

For each project a prompt is typed one character every `--interval-ms` (a fast typist) for
`--seconds`, with the Qt event loop running, so the journal's timer batches keystrokes as in the
studio. Printed: the time one keystroke's `set_params` takes with the journal on and off (a project
without a folder has no journal), each journal flush (serialise the changed shots, append one line,
fsync) with its line size, the per-keystroke cost including the flushes, a snapshot (first write
and compaction: every shot serialised, the file replaced atomically), the safety-net full pass,
and reading the journal back (store.recover).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_project import big_project  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer  # noqa: E402

from studio.project import journal, keeper, store  # noqa: E402
from studio.project.demo import DEMO_STORYBOARD  # noqa: E402
from studio.project.document import ProjectDocument  # noqa: E402
from studio.project.schema import GenParams, ProjectData  # noqa: E402
from studio.project.storyboard import load_storyboard  # noqa: E402

TEXT = "wide shot of a red lantern rising over the river at night, camera tilts up slowly "


def type_for(doc: ProjectDocument, seconds: float, interval_ms: int) -> tuple[list[float], list[tuple[float, int]]]:
    """Type into the middle shot's prompt with the event loop running; returns the keystroke times
    and (time, bytes) of every journal flush."""
    sid = doc.shot_ids()[len(doc.shot_ids()) // 2]
    keys: list[float] = []
    flushes: list[tuple[float, int]] = []
    k = doc._keeper
    real_flush = k.flush

    def timed_flush():
        before = _size(doc)
        t = time.perf_counter()
        out = real_flush()
        flushes.append((time.perf_counter() - t, _size(doc) - before))
        return out

    k._flush_timer.timeout.disconnect()
    k._flush_timer.timeout.connect(timed_flush)
    n = 0

    def keystroke():
        nonlocal n
        n += 1
        t = time.perf_counter()
        doc.set_params(sid, prompt=TEXT[: n % len(TEXT) + 1])
        keys.append(time.perf_counter() - t)

    loop = QEventLoop()
    typing = QTimer()
    typing.timeout.connect(keystroke)
    typing.start(interval_ms)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    typing.stop()
    return keys, flushes


def _size(doc: ProjectDocument) -> int:
    p = doc.path / journal.JOURNAL_NAME if doc.path else None
    try:
        return p.stat().st_size if p else 0
    except OSError:
        return 0


def ms(x: float) -> str:
    return f"{x * 1000:7.2f} ms"


def bench(name: str, data: ProjectData, seconds: float, interval_ms: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = store.new_project(Path(tmp) / "p", data)
        size_mb = (folder / "project.json").stat().st_size / 1e6
        # journal off: the same project without a folder
        off = ProjectDocument()
        off.load_data(store.open_project(folder))
        keys_off, _ = type_for(off, min(seconds, 1.0), interval_ms)
        doc = ProjectDocument()
        doc.open(folder)
        keys_on, flushes = type_for(doc, seconds, interval_ms)
        doc.journal_now()
        patches = flushes[1:]  # the first flush is the session's snapshot
        first = flushes[0]
        j = journal.Journal(folder)
        t = time.perf_counter()
        j.write(doc.data)  # a snapshot (what compaction does)
        snap_s = time.perf_counter() - t
        t = time.perf_counter()
        j.write(doc.data, None)  # the full pass: every shot serialised again, one patch line
        full_s = time.perf_counter() - t
        j.close()
        t = time.perf_counter()
        store.recover(folder)
        rec_s = time.perf_counter() - t
        typed = len(keys_on)
        per_key = (sum(keys_on) + sum(f for f, _ in flushes)) / typed
    print(f"{name}: {len(data.shots)} shots, project.json {size_mb:.2f} MB; typed {typed} keys in {seconds:.0f} s "
          f"(one per {interval_ms} ms), journal flush every {keeper.FLUSH_MS} ms")
    print(f"  keystroke (set_params), journal off : {ms(statistics.median(keys_off))} median")
    print(f"  keystroke (set_params), journal on  : {ms(statistics.median(keys_on))} median, "
          f"{ms(max(keys_on))} max")
    if patches:
        print(f"  flush (patch line + fsync)          : {ms(statistics.median([f for f, _ in patches]))} median, "
              f"{ms(max(f for f, _ in patches))} max, {statistics.median([b for _, b in patches]) / 1e3:.1f} kB "
              f"per line, {len(patches)} flushes")
    print(f"  first flush of the session (snapshot): {ms(first[0])}, {first[1] / 1e3:.0f} kB")
    print(f"  per keystroke with the journal      : {ms(per_key)} (keystrokes + flushes, averaged)")
    print(f"  snapshot / compaction               : {ms(snap_s)}")
    print(f"  full pass (every {journal.FULL_PASS_S:.0f} s)            : {ms(full_s)}")
    print(f"  recover (read + rebuild + validate) : {ms(rec_s)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, default=500)
    ap.add_argument("--takes", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--interval-ms", type=int, default=30)
    a = ap.parse_args()
    app = QCoreApplication.instance() or QCoreApplication([])  # noqa: F841 (QObjects need an app)
    bench("sample (lantern festival)", load_storyboard(DEMO_STORYBOARD, GenParams()), a.seconds, a.interval_ms)
    bench(f"big ({a.takes} takes each)", big_project(a.shots, a.takes), a.seconds, a.interval_ms)


if __name__ == "__main__":
    main()
