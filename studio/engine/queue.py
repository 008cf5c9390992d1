"""The job queue: jobs (studio.project.schema.Job) in order, run one at a time on the engine client.

No Qt: the GUI binds widgets to the events below (ui/queue_panel.py wraps them in Qt signals), the
headless renderer awaits `drained()`. The list of Job objects is what `ProjectData.queue` saves;
`restore_queue` brings it back after a restart, with a job that was running queued again.

Live, unsaved status (ETA, the latest preview, step counts) is kept here too, so views own nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from contract import protocol as P
from studio.engine.client import EngineClient, EngineState
from studio.engine.estimates import estimate as estimate_params
from studio.engine.events import Event
from studio.engine.params import request_from_params, validate_for_worker
from studio.errors import StudioError
from studio.project.schema import GenParams, Job, JobState

FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)



class RequestSource(Protocol):
    """Where the queue gets a job's request. The default reads the job's GenParams alone; the
    generation service (studio.engine.generation) adds what only the project knows."""

    def build(self, job: Job, ready: P.WorkerReady | None, draft: bool = False) -> dict[str, Any]:
        """The request for `job` on the worker that sent `ready` (None: none yet, the length stays
        open). `draft`: the job waits on another, whose take it will use: a stand-in reference."""

    def waits_on(self, job: Job, jobs: list[Job]) -> Job | None:
        """The unfinished job in `jobs` whose take `job` needs before its request can be built."""


class ParamsOnly:
    """Requests from a job's GenParams alone (no project around it): it never waits on a job."""

    def __init__(self, queue: JobQueue):
        self.queue = queue

    def build(self, job: Job, ready: P.WorkerReady | None, draft: bool = False) -> dict[str, Any]:
        return request_from_params(job.params, self.queue.project_dir, ready.fps if ready else None)

    def waits_on(self, job: Job, jobs: list[Job]) -> Job | None:
        return None


@dataclasses.dataclass
class LiveStatus:
    """What a running (or just finished) job is doing right now; never saved."""

    step: int = 0
    total: int = 0
    eta_s: float | None = None
    preview: np.ndarray | None = None  # uint8 T×H×W×3, the latest x0 prediction
    preview_step: int = 0
    started: float | None = None
    cancelling: bool = False
    clip: P.ClipDone | None = None


class JobQueue:
    def __init__(
        self,
        client: EngineClient,
        media_dir: str | Path,
        project_dir: str | Path | None = None,
        requests: RequestSource | None = None,
        preview_interval_s: float = 0.0,
    ):
        self.client = client
        self.media_dir = Path(media_dir)
        self.project_dir = Path(project_dir) if project_dir is not None else None
        self.requests: RequestSource = requests or ParamsOnly(self)
        self.preview_interval_s = preview_interval_s
        self.jobs: list[Job] = []
        self._live: dict[str, LiveStatus] = {}
        self._retried: set[str] = set()  # jobs already retried once after their worker died
        # Seconds per step measured by finished jobs (a moving average); refines the calibration,
        # which is one short snapshot taken while the machine may have been busier or quieter.
        self.sec_per_step: float | None = None
        self._idle = asyncio.Event()
        self._idle.set()

        self.on_jobs_changed = Event("on_jobs_changed")  # () jobs added / removed / reordered / restored
        self.on_job_changed = Event("on_job_changed")  # (Job) state, progress or error changed
        self.on_progress = Event("on_progress")  # (Job, LiveStatus)
        self.on_preview = Event("on_preview")  # (Job, np.ndarray uint8 T×H×W×3)
        self.on_done = Event("on_done")  # (Job, ClipDone): make the Take from it
        self.on_failed = Event("on_failed")  # (Job, kind, message); cancelled jobs too (kind "cancelled")
        self.on_retried = Event("on_retried")  # (Job, reason): its worker died; it runs once more by itself
        self.on_engine_state = Event("on_engine_state")  # (EngineState)
        self.on_estimates_changed = Event("on_estimates_changed")  # () a new calibration arrived

        client.on_ready.connect(self._on_ready)
        client.on_progress.connect(self._on_progress)
        client.on_preview.connect(self._on_preview)
        client.on_done.connect(self._on_done)
        client.on_error.connect(self._on_error)
        client.on_state_changed.connect(self._on_state)

    # ---- reading -------------------------------------------------------------------------------
    def job(self, job_id: str) -> Job | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def index_of(self, job_id: str) -> int:
        return next((i for i, j in enumerate(self.jobs) if j.id == job_id), -1)

    def live(self, job_id: str) -> LiveStatus | None:
        return self._live.get(job_id)

    @property
    def running(self) -> Job | None:
        return next((j for j in self.jobs if j.state == JobState.RUNNING), None)

    def pending(self) -> list[Job]:
        return [j for j in self.jobs if j.state in (JobState.QUEUED, JobState.RUNNING)]

    def estimate(self, job: Job) -> tuple[float, int] | None:
        """(seconds, bytes) from the worker's calibration; None until a worker has been ready."""
        if self.client.info is None:
            return None
        return estimate_params(job.params, self.client.info, self.sec_per_step)

    def stem_for(self, job: Job) -> str:
        return f"{job.shot_id}-{job.id}"

    # ---- persistence ---------------------------------------------------------------------------
    def snapshot(self) -> list[Job]:
        """Copies of the jobs for ProjectData.queue (a running job is saved as running)."""
        return [j.model_copy(deep=True) for j in self.jobs]

    def restore_queue(self, jobs: Iterable[Job]) -> None:
        """Replace the queue with saved jobs. A job that was running when the studio went away runs
        again from the start; finished jobs keep their state."""
        if self.running is not None:
            raise StudioError("queue_busy", "cannot restore a queue while a job is running")
        self.jobs = [j.restored() for j in jobs]
        self._live.clear()
        self.on_jobs_changed.emit()
        self._pump()

    # ---- editing -------------------------------------------------------------------------------
    def enqueue(self, shot_id: str, params: GenParams, front: bool = False) -> Job:
        """Add a job for a shot. Bad parameters raise StudioError now, not later in the worker."""
        job = Job(shot_id=shot_id, params=params.model_copy(deep=True), created=time.time())
        self._check(job)
        self.jobs.insert(self._front_index() if front else len(self.jobs), job)
        self.on_jobs_changed.emit()
        self._pump()
        return job

    def move(self, job_id: str, index: int) -> None:
        """Move a job to `index` in the list (clamped)."""
        i = self.index_of(job_id)
        if i < 0:
            raise StudioError("no_job", f"no job {job_id} in the queue")
        index = max(0, min(index, len(self.jobs) - 1))
        if index == i:
            return
        self.jobs.insert(index, self.jobs.pop(i))
        self.on_jobs_changed.emit()

    def cancel(self, job_id: str) -> None:
        """Cancel a queued job now, or ask the worker to stop a running one."""
        job = self._get(job_id)
        if job.state == JobState.QUEUED:
            self._set(job, state=JobState.CANCELLED)
            self.on_failed.emit(job, "cancelled", "cancelled")
            self._check_idle()
        elif job.state == JobState.RUNNING:
            live = self._live.setdefault(job.id, LiveStatus())
            live.cancelling = True
            self.on_job_changed.emit(job)
            if not self.client.cancel(job.id):  # not on the worker (it just went): settle here
                self._finish(job, JobState.CANCELLED, "")
                self.on_failed.emit(job, "cancelled", "cancelled")
                self._pump()

    def retry(self, job_id: str) -> None:
        """Queue a failed or cancelled job again (same place in the list)."""
        job = self._get(job_id)
        if job.state not in (JobState.FAILED, JobState.CANCELLED):
            raise StudioError("not_retryable", f"only a failed or cancelled job can be retried (it is {job.state.value})")
        self._check(job)
        self._live.pop(job.id, None)
        self._set(job, state=JobState.QUEUED, progress=0.0, error="")
        self._pump()

    def remove(self, job_id: str) -> None:
        """Drop a job that is not running."""
        job = self._get(job_id)
        if job.state == JobState.RUNNING:
            raise StudioError("job_running", "cancel the running job before removing it")
        self.jobs.remove(job)
        self._live.pop(job.id, None)
        self.on_jobs_changed.emit()
        self._check_idle()

    def clear_finished(self) -> None:
        keep = [j for j in self.jobs if j.state not in FINISHED]
        if len(keep) != len(self.jobs):
            for j in self.jobs:
                if j.state in FINISHED:
                    self._live.pop(j.id, None)
            self.jobs = keep
            self.on_jobs_changed.emit()

    async def drained(self) -> None:
        """Wait until no job is queued or running (headless rendering)."""
        self._check_idle()
        await self._idle.wait()

    # ---- scheduling ----------------------------------------------------------------------------
    def waits_on(self, job: Job) -> Job | None:
        """The queued or running job whose take `job` needs first (it starts after that one)."""
        return self.requests.waits_on(job, self.jobs)

    def _check(self, job: Job) -> None:
        info = self.client.info
        draft = self.waits_on(job) is not None  # its reference is a take still to be made
        req = self.requests.build(job, info, draft=draft)
        validate_for_worker(req, info, check_files=not draft)

    def _front_index(self) -> int:
        """Front of the waiting line: after the running job and anything finished above it."""
        run = self.running
        return self.index_of(run.id) + 1 if run is not None else 0

    def _pump(self) -> None:
        """Start the first queued job if the engine is idle."""
        self._check_idle()
        if self.client.state != EngineState.READY or self.running is not None:
            return
        for job in self.jobs:
            if job.state != JobState.QUEUED or self.waits_on(job) is not None:
                continue
            info = self.client.info
            try:
                req = self.requests.build(job, info)
                self.client.submit(job.id, req, self.media_dir, self.stem_for(job), self.preview_interval_s)
            except StudioError as e:  # e.g. the reference image was deleted since it was queued
                self._set(job, state=JobState.FAILED, error=e.message)
                self.on_failed.emit(job, e.kind, e.message)
                continue
            self._live[job.id] = LiveStatus(started=time.monotonic())
            self._set(job, state=JobState.RUNNING, progress=0.0, error="")
            self._idle.clear()
            return
        self._check_idle()

    def _check_idle(self) -> None:
        if self.pending():
            self._idle.clear()
        else:
            self._idle.set()

    def _finish(self, job: Job, state: JobState, error: str) -> None:
        live = self._live.get(job.id)
        if live is not None:
            live.cancelling = False
            live.eta_s = None
        self._set(job, state=state, error=error, **({"progress": 1.0} if state == JobState.DONE else {}))

    # ---- client events -------------------------------------------------------------------------
    def _on_ready(self, info: P.WorkerReady) -> None:
        self.sec_per_step = None  # a new worker (maybe another model or device): its calibration first
        self.on_estimates_changed.emit()
        self._pump()

    def _on_state(self, state: EngineState) -> None:
        self.on_engine_state.emit(state)
        if state == EngineState.READY:
            self._pump()

    def _on_progress(self, msg: P.Progress) -> None:
        job = self.job(msg.job_id)
        if job is None or job.state != JobState.RUNNING:
            return
        live = self._live.setdefault(job.id, LiveStatus())
        live.step, live.total, live.eta_s = msg.step, msg.total, msg.eta_s
        job.progress = min(1.0, msg.step / msg.total) if msg.total else 0.0
        self.on_progress.emit(job, live)

    def _on_preview(self, msg: P.Preview) -> None:
        job = self.job(msg.job_id)
        if job is None or job.state != JobState.RUNNING:
            return
        live = self._live.setdefault(job.id, LiveStatus())
        live.preview = np.frombuffer(msg.frames, np.uint8).reshape(msg.shape)
        live.preview_step = msg.step
        self.on_preview.emit(job, live.preview)

    def _on_done(self, msg: P.ClipDone) -> None:
        job = self.job(msg.job_id)
        if job is None:
            return
        live = self._live.setdefault(job.id, LiveStatus())
        live.clip = msg
        self._learn_speed(live, msg)
        self._finish(job, JobState.DONE, "")
        self.on_done.emit(job, msg)
        self._pump()

    def _learn_speed(self, live: LiveStatus, msg: P.ClipDone) -> None:
        gen_s = (msg.metadata.get("timings") or {}).get("generate_s")
        if not live.total or not isinstance(gen_s, int | float) or gen_s <= 0:
            return
        per_step = gen_s / live.total
        self.sec_per_step = per_step if self.sec_per_step is None else 0.5 * (self.sec_per_step + per_step)
        self.on_estimates_changed.emit()

    def _on_error(self, msg: P.JobError) -> None:
        job = self.job(msg.job_id) if msg.job_id else None
        if job is None or job.state != JobState.RUNNING:
            return
        if msg.kind == "worker_died" and job.id not in self._retried:
            # a crash (out of memory, a driver reset, kill -9) is retried once by itself on the
            # restarted worker; a second one fails the job with the reason
            self._retried.add(job.id)
            self._live.pop(job.id, None)
            self._set(job, state=JobState.QUEUED, progress=0.0, error="")
            self.on_retried.emit(job, msg.message)
            self._pump()
            return
        if msg.kind == "cancelled":
            self._finish(job, JobState.CANCELLED, "")
        else:
            self._finish(job, JobState.FAILED, msg.message)
        self.on_failed.emit(job, msg.kind, msg.message)
        self._pump()

    # ---- helpers -------------------------------------------------------------------------------
    def _get(self, job_id: str) -> Job:
        job = self.job(job_id)
        if job is None:
            raise StudioError("no_job", f"no job {job_id} in the queue")
        return job

    def _set(self, job: Job, **fields: Any) -> None:
        for k, v in fields.items():
            setattr(job, k, v)
        self.on_job_changed.emit(job)
