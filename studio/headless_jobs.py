"""The headless renderer's generation phase: every shot to render is queued at once on the engine's
generation service (the same requests, job order and takes as in the studio; a shot that continues
the previous one waits for that shot's take), with a progress bar per shot and one for the render.

The first failure ends the phase with a one-line StudioError naming the shot; whatever is still
queued or running is cancelled by the caller stopping the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from contract.protocol import WorkerReady
from studio.engine.estimates import total_steps
from studio.engine.generation import GenerationService
from studio.engine.params import request_from_params, validate_request
from studio.engine.queue import JobQueue
from studio.engine.takes import needs_previous_take
from studio.engine.variations import take_params
from studio.errors import StudioError
from studio.project.choice import add_take, chosen
from studio.project.schema import Job, JobState, Mode, ProjectData, Shot, Take


def preflight(project: ProjectData, todo: list[Shot], folder: Path | None) -> None:
    """What every shot to render needs, checked before the model loads (one line naming the shot): a
    reference image or source video that exists, and a shot before one that continues it, with a
    chosen take or a job in this render."""
    rendering = {s.id for s in todo}
    for shot in todo:
        row = project.shots.index(shot)
        label = f"shot {row + 1}"
        if needs_previous_take(shot.params):
            what = "extend" if shot.params.mode == Mode.EXTEND else "“continue from previous shot”"
            before = project.shots[row - 1] if row > 0 else None
            if before is None:
                raise StudioError("missing_reference", f"{label}: {what} needs a shot before it")
            if before.id not in rendering and chosen(before) is None:
                raise StudioError("missing_reference", f"{label}: {what} needs a chosen take on shot {row}")
            continue
        try:
            validate_request(request_from_params(shot.params, folder, None))
        except StudioError as e:
            raise StudioError(e.kind, f"{label}: {e.message}") from None


class _Host:
    """The headless project as the service's host: a new take is chosen at once, and the project is
    saved after every take so the folder on disk always lists every finished take."""

    def __init__(self, project: ProjectData, folder: Path, save: Callable[[], None]):
        self.data, self.path, self._save = project, folder, save
        self._made: set[str] = set()

    def add_take(self, shot_id: str, take: Take) -> bool:
        shot = next((s for s in self.data.shots if s.id == shot_id), None)
        if shot is None:
            return False
        first = shot_id not in self._made  # this render's first take of the shot is the chosen one
        self._made.add(shot_id)
        add_take(self.data, shot, take, choose=first)
        self._save()
        return True


async def render_shots(client, info: WorkerReady, project: ProjectData, folder: Path, todo: list[Shot], bars,
                       save: Callable[[], None], takes: int = 1) -> None:
    """Generate `takes` takes for every shot of `todo` (seeds S, S+1, … from the shot's seed: a
    render is repeatable); the first is chosen. Returns when all are in the project (saved)."""
    # Nobody looks at previews here: a huge interval leaves only the first and the last.
    queue = JobQueue(client, folder / "media", folder, preview_interval_s=1e9)
    service = GenerationService(queue, _Host(project, folder, save))
    loop = asyncio.get_running_loop()
    plan = {s.id: total_steps(s.params, info) for s in todo}  # sampler steps of one take
    row = {s.id: project.shots.index(s) + 1 for s in project.shots}
    results: dict[str, asyncio.Future] = {}
    done_steps = 0

    def settle(job: Job, outcome) -> None:
        # a job can settle inside enqueue() (its request could not be sent), before anyone awaits it
        fut = results.setdefault(job.id, loop.create_future())
        if not fut.done():
            fut.set_result(outcome)

    def started(job: Job) -> None:
        if job.state == JobState.RUNNING:
            bars.start_shot(f"shot {row[job.shot_id]}/{len(project.shots)}", plan[job.shot_id])

    queue.on_job_changed.connect(started)
    queue.on_progress.connect(lambda job, live: bars.shot_progress(live.step, live.total, done_steps))
    service.on_take.connect(lambda job, take: settle(job, take))
    service.on_take_failed.connect(lambda job, e: settle(job, e))
    queue.on_failed.connect(lambda job, kind, message: settle(job, StudioError(kind, message)))
    bars.start_render(sum(plan.values()) * takes)

    jobs: list[tuple[Shot, Job]] = []
    for shot in todo:
        for params in take_params(shot.params.model_copy(update={"seed_locked": True}), takes):
            try:
                job = service.enqueue(shot.id, params)
            except StudioError as e:
                raise StudioError(e.kind, f"shot {row[shot.id]}: {e.message}") from None
            results.setdefault(job.id, loop.create_future())
            jobs.append((shot, job))
    for shot, job in jobs:
        try:
            outcome = await results[job.id]
        except asyncio.CancelledError:
            queue.cancel(job.id)  # the worker drops the job and its partial files
            raise
        if isinstance(outcome, StudioError):
            raise StudioError(outcome.kind, f"shot {row[shot.id]}: {outcome.message}")
        done_steps += plan[shot.id]
        bars.end_shot(done=done_steps)
