"""Generate: the shot list's Generate actions → the engine's job queue → takes in the document.

The queue (studio.engine.queue.JobQueue) runs jobs; this controller is the seam to the document:
it queues shots (marking them queued), follows each job (generating, failed, cancelled), turns a
finished clip into a Take for `doc.add_take` and keeps `doc.data.queue` equal to the queue's jobs.
Requests and takes are built by studio.engine.takes, the same rules the headless renderer uses.
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.engine.takes import shot_request, take_from_clip
from studio.errors import StudioError
from studio.project.schema import MAX_SEED, Job, JobState


class GenerationController(QObject):
    message = Signal(str)  # one line for the status bar
    engineChanged = Signal()  # engine state / model info changed (status bar)
    progressChanged = Signal(str)  # shot id whose running job made progress

    def __init__(self, doc, queue, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.queue = queue
        self._restoring = False
        queue.request_builder = self.build_request
        self._follow_path()
        doc.pathChanged.connect(lambda _p: self._follow_path())
        queue.on_jobs_changed.connect(self._sync_jobs)
        queue.on_job_changed.connect(self._job_changed)
        queue.on_done.connect(self._done)
        queue.on_failed.connect(self._failed)
        queue.on_engine_state.connect(lambda _s: self.engineChanged.emit())
        queue.on_progress.connect(lambda job, _live: self.progressChanged.emit(job.shot_id))

    def restore(self) -> None:
        """Take over the jobs saved with the project (after opening it), unless one is running.
        Opening already made the shots' saved queued/generating states agree with these jobs
        (studio.project.status.normalize_engine_state), so restoring changes nothing in the document."""
        if self.queue.running is not None:
            return
        self._restoring = True
        try:
            self.queue.restore_queue(self.doc.data.queue)
        finally:
            self._restoring = False

    def _follow_path(self) -> None:
        folder = self.doc.path
        if folder is not None:
            self.queue.project_dir = Path(folder)
            self.queue.media_dir = Path(folder) / "media"

    # -- queueing -------------------------------------------------------------------------------
    def generate(self, shot_ids: list[str]) -> StudioError | None:
        """Queue one job per shot, in shot-list order. Errors are values (also on `message`)."""
        if self.doc.path is None:
            return self._fail(StudioError("no_path", "save the project first: takes are written into its folder"))
        ids = sorted((i for i in shot_ids if self.doc.row_of(i) >= 0), key=self.doc.row_of)
        queued = []
        for sid in ids:
            params = self.doc.shot(sid).params.model_copy()
            if not params.seed_locked:
                params.seed = random.randint(0, MAX_SEED)
            # Queued first: enqueueing may start the job at once (generating) when the engine is idle.
            self.doc.mark_queued([sid])
            try:
                self.queue.enqueue(sid, params)
            except StudioError as e:
                self.doc.mark_failed(sid, e.message)
                self._fail(StudioError(e.kind, f"shot {self.doc.row_of(sid) + 1}: {e.message}"))
                continue
            queued.append(sid)
        if queued:
            self.message.emit(f"Queued {len(queued)} shot{'s' if len(queued) != 1 else ''} for generation")
        return None

    def progress(self, shot_id: str) -> float | None:
        """0..1 for the shot's running job (live, not saved), else None."""
        job = self.queue.running
        if job is None or job.shot_id != shot_id:
            return None
        live = self.queue.live(job.id)
        return live.step / live.total if live is not None and live.total else job.progress

    def build_request(self, job: Job, info) -> dict:
        """GenParams → request, plus what only the project knows (the previous shot's take for
        extend and continuity, the film's aspect): the engine's shared rule, as headless uses it."""
        return shot_request(self.doc.data, self.doc.path, job.shot_id, job.params,
                            info.fps if info else 8.0, info.aspects if info else None)

    # -- following the queue --------------------------------------------------------------------------
    def _sync_jobs(self) -> None:
        if not self._restoring:  # restoring what the project already holds is not a change
            self.doc.set_queue(self.queue.snapshot())

    def _job_changed(self, job: Job) -> None:
        if job.state == JobState.RUNNING and self.doc.shot(job.shot_id) is not None:
            shot = self.doc.shot(job.shot_id)
            if shot.status.value != "generating":
                self.doc.mark_generating(job.shot_id)
        self._sync_jobs()

    def _done(self, job: Job, clip) -> None:
        folder = self.doc.path
        if folder is None:
            return
        try:
            take = take_from_clip(Path(folder), job, clip.files, clip.metadata)
        except StudioError as e:  # files outside the project: the project moved while generating
            self.doc.mark_failed(job.shot_id, e.message)
            return
        if self.doc.add_take(job.shot_id, take):
            self.message.emit(f"Shot {self.doc.row_of(job.shot_id) + 1}: new take (seed {take.params.seed})")

    def _failed(self, job: Job, kind: str, message: str) -> None:
        if self.doc.shot(job.shot_id) is None:
            return
        if kind == "cancelled":
            self.doc.clear_engine_status([job.shot_id])
        else:
            self.doc.mark_failed(job.shot_id, message)
            self.message.emit(f"Shot {self.doc.row_of(job.shot_id) + 1} failed: {message}")

    def _fail(self, e: StudioError) -> StudioError:
        self.message.emit(e.message)
        return e
