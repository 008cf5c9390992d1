"""Opening and saving a big project: 500 shots with 4 takes each, clips on the timeline.

    python benchmarks/bench_project.py [--shots 500] [--takes 4] [--repeats 5]

Prints the median of several runs for: store open (read + parse + migrate + validate + reference
checks), store save (serialise + backup + atomic write with fsync), the Qt document open/save
wrappers, and an undoable edit on the big document. Target: open and save each ≤ 1 s.
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QCoreApplication  # noqa: E402

from studio.project import store  # noqa: E402
from studio.project.document import ProjectDocument  # noqa: E402
from studio.project.schema import (  # noqa: E402
    GenParams,
    ProjectData,
    Shot,
    Take,
    TimelineClip,
    Transition,
    at_fps,
)


def big_project(n_shots: int, n_takes: int) -> ProjectData:
    shots, clips = [], []
    for i in range(n_shots):
        p = GenParams(prompt=f"wide shot of a red lantern moving up at night, camera tilts up, shot {i}",
                      negative_prompt="blurry", seed=i, duration=at_fps(2.0 + i % 5))
        takes = [Take(clip=f"media/{i:04d}_{k}.mp4", poster=f"media/{i:04d}_{k}.png",
                      frames_file=f"media/{i:04d}_{k}.npy", params=p.model_copy(update={"seed": i + k}),
                      model_id="toy-uvit", checkpoint_hash="0" * 64, fps=8.0, frames=16, width=32, height=32,
                      timings={"total_s": 3.2, "first_preview_s": 0.4}, rating=k % 6, created=1.7e9 + i)
                 for k in range(n_takes)]
        tr = Transition(kind="crossfade", duration=at_fps(0.5)) if i % 3 == 1 else Transition()
        shot = Shot(params=p, takes=takes, chosen_take=takes[0].id, notes=f"shot {i} notes", transition=tr)
        shots.append(shot)
        clips.append(TimelineClip(shot_id=shot.id, take_id=takes[0].id, in_point=at_fps(0.125), out_point=at_fps(1.875)))
    return ProjectData(title="Big", shots=shots, timeline={"clips": clips})


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, default=500)
    ap.add_argument("--takes", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    app = QCoreApplication.instance() or QCoreApplication([])  # noqa: F841 (QObjects need an app)
    data = big_project(a.shots, a.takes)
    with tempfile.TemporaryDirectory() as tmp:
        folder = store.new_project(Path(tmp) / "big", data)
        size_mb = (folder / "project.json").stat().st_size / 1e6
        save = median_s(lambda: store.save_project(folder, data), a.repeats)
        opened = median_s(lambda: store.open_project(folder), a.repeats)
        doc = ProjectDocument()
        doc_open = median_s(lambda: doc.open(folder), a.repeats)
        doc_save = median_s(lambda: doc.save(), a.repeats)
        sid = doc.shot_ids()[250 % len(doc.shot_ids())]
        edit = median_s(lambda: (doc.set_params(sid, steps=doc.shot(sid).params.steps % 900 + 1),
                                 doc.undo_stack.undo(), doc.undo_stack.redo()), a.repeats)
    print(f"project: {a.shots} shots x {a.takes} takes, {len(data.timeline.clips)} clips, "
          f"project.json {size_mb:.2f} MB (median of {a.repeats})")
    print(f"  store.open_project : {opened * 1000:8.1f} ms   (target <= 1000 ms)")
    print(f"  store.save_project : {save * 1000:8.1f} ms   (target <= 1000 ms)")
    print(f"  document.open      : {doc_open * 1000:8.1f} ms")
    print(f"  document.save      : {doc_save * 1000:8.1f} ms")
    print(f"  edit+undo+redo     : {edit * 1000:8.1f} ms")
    ok = opened <= 1.0 and save <= 1.0
    print("  within target" if ok else "  OVER TARGET")


if __name__ == "__main__":
    main()
