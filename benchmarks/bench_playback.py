"""Player playback: a 512×512 preview at 24 fps for a few seconds, offscreen, with the real timer.

Two sources:
  - take: decoded frames in memory (what a take or an A/B compare plays from)
  - film: the whole timeline, assembled on the fly by studio.media.assembly at 512×512 through the
    player's cached stream source (four 2-second 32-px takes with a crossfade and a fade through
    black between them, conformed to 24 fps)

Figures per source: frames shown, frames painted, dropped frames, achieved fps (shown / wall time),
and the time to fetch a frame from the source (mean, p95). Run:
    .venv/bin/python benchmarks/bench_playback.py [--seconds 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

SIZE = 512
FPS = 24.0


class TimedSource:
    """Wraps a source to time frame fetches."""

    def __init__(self, source):
        self.source = source
        self.fps = source.fps
        self.fetch_s: list[float] = []

    def __len__(self):
        return len(self.source)

    def frame(self, i):
        t0 = time.perf_counter()
        f = self.source.frame(i)
        self.fetch_s.append(time.perf_counter() - t0)
        return f


def take_source():
    from studio.ui.frame_source import ArrayFrameSource

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (8, SIZE, SIZE, 3), dtype=np.uint8)
    frames = np.concatenate([np.roll(base, k, axis=2) for k in range(6)])  # 48 distinct frames (2 s)
    return ArrayFrameSource(frames, FPS)


def film_source(folder: Path):
    from contract.prompt_parser import parse_prompt
    from model_runtime import toyworld as tw  # numpy only
    from studio.media.assembly import Segment, assemble, frame_count
    from studio.ui.frame_source import StreamFrameSource

    prompts = ["wide shot of a red lantern moving up at night", "close-up of a white sailboat on the sea",
               "medium shot of a yellow ball bouncing in a studio", "a purple star in the desert, camera zooms in"]
    transitions = [("cut", 0.0), ("crossfade", 0.5), ("fade_black", 1.0), ("crossfade", 0.5)]
    segments = []
    for k, (prompt, (kind, d)) in enumerate(zip(prompts, transitions, strict=True)):
        frames = tw.render(tw.complete_scene(parse_prompt(prompt), np.random.default_rng(k)), k, size=32, frames=16)
        segments.append(Segment(frames=lambda f=frames: f, fps=8.0, in_s=0.0, out_s=2.0, transition=kind,
                                transition_s=d, label=f"shot {k + 1}"))
    count = frame_count(segments, FPS)
    return StreamFrameSource(lambda start: assemble(segments, FPS, SIZE, SIZE, start=start), count, FPS)


def run(name: str, source, seconds: float) -> dict:
    from studio.ui.player import Player

    timed = TimedSource(source)
    player = Player()
    player.resize(SIZE + 40, SIZE + 90)
    player.show()
    painted = [0]
    original = player.view.paintEvent

    def counting(e):
        painted[0] += 1
        original(e)

    player.view.paintEvent = counting
    player.set_source(timed, name)
    player.set_loop(True)
    QApplication.processEvents()
    timed.fetch_s.clear()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    t0 = time.perf_counter()
    player.play()
    loop.exec()
    elapsed = time.perf_counter() - t0
    player.pause()
    shown, dropped = player.clock.shown, player.clock.dropped
    fetch = sorted(timed.fetch_s) or [0.0]
    player.close()
    return {
        "source": name, "seconds": elapsed, "shown": shown, "painted": painted[0], "dropped": dropped,
        "fps": shown / elapsed, "fetch_ms_mean": 1000 * statistics.fmean(fetch),
        "fetch_ms_p95": 1000 * fetch[int(0.95 * (len(fetch) - 1))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive)
    with tempfile.TemporaryDirectory() as tmp:
        results = [run("take", take_source(), args.seconds), run("film", film_source(Path(tmp)), args.seconds)]
    print(f"playback of a {SIZE}×{SIZE} preview at {FPS:g} fps, {args.seconds:g} s each, "
          f"QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}")
    print(f"{'source':8} {'shown':>6} {'painted':>8} {'dropped':>8} {'fps':>7} {'fetch ms':>9} {'p95':>7}")
    for r in results:
        print(f"{r['source']:8} {r['shown']:6d} {r['painted']:8d} {r['dropped']:8d} {r['fps']:7.2f} "
              f"{r['fetch_ms_mean']:9.2f} {r['fetch_ms_p95']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
