"""Generate: the shot list's Generate actions → the engine's job queue → takes in the document.

The queue (studio.engine.queue.JobQueue) runs jobs; this controller is the seam to the project:
it queues shots (marking them queued), follows each job (generating, failed, cancelled), turns a
finished clip's files and metadata into a Take for `doc.add_take`, keeps `doc.data.queue` equal to
the queue's jobs, and builds requests that need the project (continuity from the previous shot,
extend the previous take).
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.engine.params import request_from_params
from studio.errors import StudioError
from studio.media.frames import read_frames, take_media_path
from studio.project.schema import Job, JobState, Mode, Take

MAX_SEED = 2**31 - 1


def _relative(project_dir: Path, path: str | None) -> str | None:
    if not path:
        return None
    p = Path(path).resolve()
    try:
        return p.relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return None


def take_from_clip(project_dir: Path, job: Job, files: dict[str, str], meta: dict) -> Take:
    """The Take for a finished job: project-relative files, the parameters it was made with."""
    params = job.params.model_copy()
    seed = meta.get("seed")
    if isinstance(seed, int) and 0 <= seed <= MAX_SEED:
        params.seed = seed
    timings = {k: float(v) for k, v in (meta.get("timings") or {}).items() if isinstance(v, int | float)}
    return Take(
        clip=_relative(project_dir, files.get("video")) or _relative(project_dir, files.get("frames")) or "",
        poster=_relative(project_dir, files.get("poster")),
        frames_file=_relative(project_dir, files.get("frames")),
        params=params,
        model_id=str(meta.get("model_id", "")),
        checkpoint_hash=str(meta.get("checkpoint_hash", "")),
        fps=float(meta.get("fps") or 8.0),
        frames=int(meta.get("frames") or 0),
        width=int(meta.get("width") or 0),
        height=int(meta.get("height") or 0),
        timings=timings,
        created=float(meta.get("created") or 0.0),
    )


class GenerationController(QObject):
    message = Signal(str)  # one line for the status bar
    engineChanged = Signal()  # engine state / model info changed (status bar)

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

    def restore(self) -> None:
        """Take over the jobs saved with the project (after opening it), unless one is running."""
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
            try:
                self.queue.enqueue(sid, params)
            except StudioError as e:
                self.doc.mark_failed(sid, e.message)
                self._fail(StudioError(e.kind, f"shot {self.doc.row_of(sid) + 1}: {e.message}"))
                continue
            queued.append(sid)
        if queued:
            self.doc.mark_queued(queued)
            self.message.emit(f"Queued {len(queued)} shot{'s' if len(queued) != 1 else ''} for generation")
        return None

    def build_request(self, job: Job, fps: float) -> dict:
        """GenParams → request, plus what only the project knows: the previous shot's take for
        extend, and its last frame for continuity."""
        folder = self.doc.path
        req = request_from_params(job.params, folder, fps)
        row = self.doc.row_of(job.shot_id)
        prev = self.doc.shot_at(row - 1) if row > 0 else None
        prev_take = self.doc.chosen_take(prev.id) if prev is not None else None
        p = job.params
        if p.mode == Mode.EXTEND and not p.source_video:
            if prev_take is None:
                raise StudioError("missing_reference", "extend needs a chosen take on the shot before this one")
            req["video"] = str(take_media_path(folder, prev_take))
        if p.continue_from_previous and p.mode == Mode.TEXT_TO_VIDEO:
            if prev_take is None:
                raise StudioError("missing_reference",
                                  "“continue from previous shot” needs a chosen take on the shot before this one")
            req["mode"] = Mode.IMAGE_TO_VIDEO.value
            req["image"] = str(self._last_frame_png(prev_take))
        return req

    def _last_frame_png(self, take: Take) -> Path:
        import cv2  # only when continuity is used

        folder = Path(self.doc.path)
        out = folder / "media" / "continuity" / f"{take.id}-last.png"
        if not out.is_file():
            frame = read_frames(take_media_path(folder, take))[-1]
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.partial.png")
            if not cv2.imwrite(str(tmp), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
                raise StudioError("io", f"could not write {out.name}")
            tmp.replace(out)
        return out

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
        take = take_from_clip(Path(folder), job, clip.files, clip.metadata)
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
