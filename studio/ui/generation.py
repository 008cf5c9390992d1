"""Generate: the shot list's Generate actions → the generation service → takes in the document.

The engine's generation service (studio.engine.generation, no Qt, shared with the headless
renderer) builds requests, orders dependent jobs and turns finished clips into takes for
`doc.add_take`; this controller binds it to the document's look: shots marked queued, generating,
failed or cleared, `doc.data.queue` kept equal to the queue's jobs, one-line messages.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.engine.client import EngineState
from studio.engine.generation import GenerationService, no_folder
from studio.engine.variations import repeated_take, take_params
from studio.errors import StudioError
from studio.project.model_choices import effective_model
from studio.project.schema import Job, JobState


class GenerationController(QObject):
    message = Signal(str)  # one line for the status bar
    engineChanged = Signal()  # engine state / model info changed (status bar)
    progressChanged = Signal(str)  # shot id whose running job made progress

    def __init__(self, doc, queue, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.queue = queue
        self.service = GenerationService(queue, doc)
        self._restoring = False
        queue.on_jobs_changed.connect(self._sync_jobs)
        queue.on_job_changed.connect(self._job_changed)
        self.service.on_take.connect(self._took)
        self.service.on_take_failed.connect(lambda job, e: self.doc.mark_failed(job.shot_id, e.message))
        queue.on_failed.connect(self._failed)
        queue.on_retried.connect(lambda job, reason: self.message.emit(
            f"Shot {self.doc.row_of(job.shot_id) + 1}: {reason}; trying once more"))
        queue.on_engine_state.connect(self._engine_state)
        self._pending_model: tuple[str | None, str, dict[str, bool]] | None = None
        queue.on_progress.connect(lambda job, _live: self.progressChanged.emit(job.shot_id))

    # -- which model ----------------------------------------------------------------------------------
    def follow(self, preferences) -> None:
        """The worker runs the project's model (else the studio default) on the chosen device."""
        self.sync_model(effective_model(self.doc.settings, preferences), preferences.device, preferences.savers())

    def sync_model(self, checkpoint: str, device: str, savers: dict[str, bool] | None = None) -> None:
        """Have the worker run this model (the project's, else the studio default: model_choices.
        effective_model). A worker that is loading or busy switches when it is next idle."""
        client = self.queue.client
        savers = dict(client.options.savers if savers is None else savers)
        want = (checkpoint or None, device, savers)
        if (client.options.checkpoint, client.options.device, dict(client.options.savers)) == want:
            self._pending_model = None
            return
        if client.state != EngineState.READY or self.queue.running is not None:
            self._pending_model = want
            return
        self._pending_model = None
        asyncio.ensure_future(self._switch(*want))

    async def _switch(self, checkpoint: str | None, device: str, savers: dict[str, bool]) -> None:
        name = Path(checkpoint).name if checkpoint else "the bundled model"
        self.message.emit(f"Loading {name}…")
        try:
            info = await self.queue.client.switch_model(checkpoint, device, savers=savers)
        except StudioError as e:
            self.message.emit(f"Could not load {name}: {e.message}")
            return
        self.message.emit(f"Model: {info.model_id or name} on {info.device}")

    def _engine_state(self, state) -> None:
        self.engineChanged.emit()
        if state == EngineState.READY and self._pending_model is not None and self.queue.running is None:
            self.sync_model(self._pending_model[0] or "", *self._pending_model[1:])

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

    # -- queueing -------------------------------------------------------------------------------
    def generate(self, shot_ids: list[str], takes: int = 1) -> StudioError | None:
        """Queue `takes` jobs per shot (engine.variations: an unlocked seed rolls for each), in
        shot-list order. Errors are values (also on `message`)."""
        if self.doc.path is None:
            return self._fail(no_folder())
        ids = sorted((i for i in shot_ids if self.doc.row_of(i) >= 0), key=self.doc.row_of)
        queued, repeats = [], []
        for sid in ids:
            shot = self.doc.shot(sid)
            # Queued first: enqueueing may start the job at once (generating) when the engine is idle.
            self.doc.mark_queued([sid])
            for params in take_params(shot.params, takes):
                if repeated_take(shot, params) is not None:
                    repeats.append(self.doc.row_of(sid) + 1)
                try:
                    self.service.enqueue(sid, params)
                except StudioError as e:
                    self.doc.mark_failed(sid, e.message)
                    self._fail(StudioError(e.kind, f"shot {self.doc.row_of(sid) + 1}: {e.message}"))
                    break
                queued.append(sid)
        if queued:
            n = len(queued)
            self.message.emit(f"Queued {n} take{'s' if n != 1 else ''} of {len(set(queued))} "
                              f"shot{'s' if len(set(queued)) != 1 else ''}" + (
                                  f" — shot {', '.join(map(str, sorted(set(repeats))))}: the seed is locked and "
                                  "nothing changed, so this repeats a take" if repeats else ""))
        return None

    def progress(self, shot_id: str) -> float | None:
        """0..1 for the shot's running job (live, not saved), else None."""
        job = self.queue.running
        if job is None or job.shot_id != shot_id:
            return None
        live = self.queue.live(job.id)
        return live.step / live.total if live is not None and live.total else job.progress

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

    def _took(self, job: Job, take) -> None:
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
