"""The generation service: shots in, takes out, without Qt. The GUI's controller and the headless
renderer both drive generation through it, so a shot's request, the order jobs may run in and the
take a finished clip becomes are one rule, not two.

- Requests: a shot's GenParams plus what only the project knows (studio.engine.takes.shot_request:
  extend the previous shot's chosen take, continuity from its last frame, the film's aspect), at the
  model's own frame rate and aspects from the worker's WorkerReady.
- Dependencies: a shot that continues the previous one (extend, "continue from previous shot") needs
  that shot's take. When the previous shot has a job queued or running, this shot's job waits for
  it and its request is built only then, from the take that job made.
- Results: a finished clip becomes a Take (project-relative files, the parameters it was made with)
  handed to the host's `add_take`; a clip that cannot become a take is `on_take_failed`.

The host is the project's owner: the GUI's ProjectDocument, or the headless renderer's project. It
needs `data` (ProjectData), `path` (its folder, or None before it was saved) and
`add_take(shot_id, take) -> bool`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from contract import protocol as P
from studio.engine.events import Event
from studio.engine.params import capabilities_of
from studio.engine.queue import FINISHED, JobQueue
from studio.engine.takes import needs_previous_take, shot_request, take_from_clip
from studio.errors import StudioError
from studio.project.containment import inside
from studio.project.schema import GenParams, Job, ProjectData, Take

# What a draft request names as its reference while the take it continues is still being made:
# never opened (a draft is only checked for its values), and never sent.
PENDING_TAKE = "(the take the shot before is making)"


def no_folder() -> StudioError:
    return StudioError("no_path", "save the project first: takes are written into its folder")


class ProjectHost(Protocol):
    @property
    def data(self) -> ProjectData: ...

    @property
    def path(self) -> Path | str | None: ...

    def add_take(self, shot_id: str, take: Take) -> bool: ...


class GenerationService:
    def __init__(self, queue: JobQueue, host: ProjectHost):
        self.queue = queue
        self.host = host
        queue.requests = self
        self.on_take = Event("on_take")  # (Job, Take): a finished job's take, added to its shot
        self.on_take_failed = Event("on_take_failed")  # (Job, StudioError): its clip could not become a take
        queue.on_done.connect(self._done)

    # ---- queueing ------------------------------------------------------------------------------
    def enqueue(self, shot_id: str, params: GenParams, front: bool = False) -> Job:
        """Queue a job for a shot; bad parameters (or a project not saved yet) raise StudioError now
        (one line): the queue builds the job's request (`build`) before it takes the job."""
        return self.queue.enqueue(shot_id, params, front=front)

    def _follow_folder(self) -> None:
        folder = Path(self.host.path)
        self.queue.project_dir = folder
        self.queue.media_dir = inside(folder, "media")  # never a clip written through a link out of it

    # ---- the queue's RequestSource -------------------------------------------------------------------
    def build(self, job: Job, ready: P.WorkerReady | None, draft: bool = False) -> dict[str, Any]:
        if self.host.path is None:
            raise no_folder()
        self._follow_folder()  # the project may have been saved elsewhere since the job was queued
        fps = ready.fps if ready else None
        aspects = ready.aspects if ready else None
        return shot_request(self.host.data, self.host.path, job.shot_id, job.params, fps, aspects,
                            pending_take=PENDING_TAKE if draft else None, capabilities=capabilities_of(ready))

    def waits_on(self, job: Job, jobs: list[Job]) -> Job | None:
        """The unfinished job of the previous shot, when this job continues that shot."""
        shots = self.host.data.shots
        ids = [s.id for s in shots]
        row = ids.index(job.shot_id) if job.shot_id in ids else -1
        if row <= 0 or not needs_previous_take(job.params):
            return None
        before = ids[row - 1]
        return next((j for j in jobs if j.shot_id == before and j.id != job.id and j.state not in FINISHED), None)

    # ---- results --------------------------------------------------------------------------------
    def _done(self, job: Job, clip: P.ClipDone) -> None:
        if self.host.path is None:
            return
        try:
            take = take_from_clip(Path(self.host.path), job, clip.files, clip.metadata)
        except StudioError as e:  # files outside the project: the project moved while generating
            self.on_take_failed.emit(job, e)
            return
        if self.host.add_take(job.shot_id, take):
            self.on_take.emit(job, take)
