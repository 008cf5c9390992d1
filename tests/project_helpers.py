"""Builders shared by the project tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

from studio.project.schema import (
    GenParams,
    ProjectData,
    Shot,
    Take,
    TimelineClip,
    Transition,
    TransitionKind,
    at_fps,
)

DATA = Path(__file__).resolve().parent / "data"
SAMPLE_JSON = DATA / "lantern_festival.json"
SAMPLE_CSV = DATA / "lantern_festival.csv"


def make_take(params: GenParams, n: int = 0, frames: int = 16, fps: float = 8.0) -> Take:
    """A take as the engine would report it (params copied: a take keeps what it was made with)."""
    return Take(clip=f"media/take_{n}.mp4", poster=f"media/take_{n}.png", params=params.model_copy(),
                model_id="toy-uvit", checkpoint_hash="abc123", fps=fps, frames=frames, width=32, height=32,
                timings={"total_s": 1.5}, rating=n % 6, created=1700000000.0 + n)


def sample_project(n_shots: int = 3, takes_per_shot: int = 2) -> ProjectData:
    """Shots with takes, chosen takes, timeline clips with trims and transitions."""
    shots, clips = [], []
    for i in range(n_shots):
        p = GenParams(prompt=f"a red ball moving left, shot {i}", seed=i, duration=at_fps(2.0))
        takes = [make_take(p, i * 10 + k) for k in range(takes_per_shot)]
        tr = Transition(kind=TransitionKind.CROSSFADE, duration=at_fps(0.5)) if i % 2 else Transition()
        shot = Shot(params=p, takes=takes, chosen_take=takes[0].id if takes else None,
                    notes=f"note {i}", transition=tr)
        shot.status = "ready" if takes else "draft"
        shots.append(shot)
        if takes:
            clips.append(TimelineClip(shot_id=shot.id, take_id=takes[0].id, in_point=at_fps(0.25),
                                      out_point=at_fps(1.5)))
    return ProjectData(title="Sample", shots=shots, timeline={"clips": clips})


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes (to prove nothing changed on disk)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} | {
        str(p.relative_to(folder)) + "/": b"" for p in sorted(folder.rglob("*")) if p.is_dir()}
