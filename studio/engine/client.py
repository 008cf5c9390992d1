"""The engine client: spawns the model worker and talks to it over the protocol, on an asyncio loop.

No Qt and no torch here: the GUI runs this on a qasync loop, the headless renderer on a plain one.
A reader thread blocks on the pipe *and* the worker's process sentinel, decodes frames and hands
each message to the loop with call_soon_threadsafe, so the loop itself never blocks on the worker.
(Under qasync that is a queued Qt signal; PySide6 6.12.0 corrupts True's refcount on every Python
Signal.emit, hence pyproject's `pyside6!=6.12.0`.)

Crash recovery: when the worker process dies (kill -9, OOM killer, segfault) the sentinel fires at
once; the running job is reported failed ("worker died (exit code -9)"), its partial files are
removed, and a fresh worker is started. A worker that dies again before it is ready, too many
times in a row, is given up on (state FAILED) instead of restarted forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import sys
import threading
import types
from enum import StrEnum
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from contract import protocol as P
from studio.engine.events import Event
from studio.engine.params import validate_for_worker
from studio.errors import StudioError

log = logging.getLogger(__name__)


class EngineState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"  # spawning / loading the model / calibrating
    READY = "ready"  # idle, accepts a job
    BUSY = "busy"  # running a job
    FAILED = "failed"  # gave up: model cannot load, protocol mismatch, crash loop


@dataclasses.dataclass
class WorkerOptions:
    """How the worker is started (see model_runtime.worker.DEFAULT_OPTIONS)."""

    checkpoint: str | None = None
    device: str = "auto"
    random_init: bool = False
    config: dict[str, Any] | None = None
    calibrate_steps: int = 8  # see model_runtime.worker.DEFAULT_OPTIONS
    threads: int | None = None
    nice: int = 5  # worker CPU priority below the GUI's (POSIX nice increment)
    preview_max_side: int = 64
    mp4_min_side: int = 256
    savers: dict[str, bool] = dataclasses.field(default_factory=dict)  # an open model's memory savers
    generator: str = "auto"  # the backend, by the checkpoint (a diffusers folder or a U-ViT file)
    protocol_version: int = P.PROTOCOL_VERSION  # tests of the mismatch path only

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _worker_entry(conn, options: dict[str, Any]) -> None:
    """Runs in the spawned child: only there is model_runtime (and torch) imported."""
    import importlib

    importlib.import_module("model_runtime.worker").main(conn, options)


class EngineClient:
    def __init__(
        self,
        options: WorkerOptions | None = None,
        *,
        auto_restart: bool = True,
        max_start_failures: int = 3,
        hello_timeout_s: float = 60.0,
        cancel_grace_s: float = 10.0,
    ):
        self.options = options or WorkerOptions()
        self.auto_restart = auto_restart
        self.max_start_failures = max_start_failures
        self.hello_timeout_s = hello_timeout_s  # no Hello by then: the worker is not speaking to us
        self.cancel_grace_s = cancel_grace_s  # a cancel not acknowledged by then kills the worker

        self.on_ready = Event("on_ready")  # (WorkerReady)
        self.on_progress = Event("on_progress")  # (Progress)
        self.on_preview = Event("on_preview")  # (Preview)
        self.on_done = Event("on_done")  # (ClipDone)
        self.on_error = Event("on_error")  # (JobError); job_id "" = about the worker, not a job
        self.on_state_changed = Event("on_state_changed")  # (EngineState)

        self.state = EngineState.STOPPED
        self.info: P.WorkerReady | None = None
        self.last_error: StudioError | P.ProtocolError | None = None
        self.current_job: str | None = None
        self._current_files: tuple[str, str] | None = None  # (out_dir, stem) of the running job
        self._cancelling: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proc = None
        self._conn = None
        self._gen = 0  # incarnation counter: messages from a dead worker are ignored
        self._start_failures = 0
        self._startup_error: P.JobError | None = None
        self._stopping = False
        self._waiters: list[asyncio.Future] = []
        self._exited: asyncio.Event | None = None
        self._hello_timer: asyncio.TimerHandle | None = None
        self._got_hello = False
        self._switch_prev: WorkerOptions | None = None  # options to go back to if a switch fails

    # ---- public API ----------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    async def start(self) -> P.WorkerReady:
        """Start the worker (if not running) and wait until it is ready. Raises ProtocolError on a
        version mismatch and StudioError when the model cannot load."""
        self._loop = asyncio.get_running_loop()
        if self.state == EngineState.READY or self.state == EngineState.BUSY:
            assert self.info is not None
            return self.info
        fut = self._loop.create_future()
        self._waiters.append(fut)
        if self._proc is None:
            self._stopping = False
            self._start_failures = 0
            self._spawn()
        return await fut

    def submit(self, job_id: str, request: dict[str, Any], out_dir: str | Path, stem: str,
               preview_interval_s: float = 0.0) -> None:
        """Send one job. Bad parameters raise StudioError here and never reach the worker."""
        validate_for_worker(request, self.info)
        if self.state != EngineState.READY:
            raise StudioError("engine_busy", f"the engine cannot take a job now (it is {self.state.value})")
        out_dir = str(Path(out_dir).resolve())
        self.current_job = job_id
        self._current_files = (out_dir, stem)
        self._cancelling = None
        self._set_state(EngineState.BUSY)
        self._send(P.SubmitJob(job_id, dict(request), out_dir, stem, float(preview_interval_s)))

    def cancel(self, job_id: str) -> bool:
        """Ask the worker to stop the running job. Returns False if it is not the running job.
        The job ends with on_error(kind="cancelled"); a worker that does not answer within
        cancel_grace_s is killed and restarted."""
        if job_id != self.current_job or self._cancelling == job_id:
            return job_id == self.current_job
        self._cancelling = job_id
        self._send(P.CancelJob(job_id))
        if self._loop is not None and self.cancel_grace_s > 0:
            gen = self._gen
            self._loop.call_later(self.cancel_grace_s, self._cancel_overdue, gen, job_id)
        return True

    async def switch_model(self, checkpoint: str | None = None, device: str = "auto",
                           random_init: bool = False, config: dict[str, Any] | None = None,
                           savers: dict[str, bool] | None = None) -> P.WorkerReady:
        """Reload the worker with another model/device. Later restarts use the new model too."""
        if self.current_job is not None:
            raise StudioError("engine_busy", "cannot switch models while a job is running")
        if self.state != EngineState.READY:
            raise StudioError("engine_not_ready", f"the engine is {self.state.value}")
        self._switch_prev = self.options
        savers = dict(self.options.savers if savers is None else savers)
        self.options = dataclasses.replace(self.options, checkpoint=checkpoint, device=device,
                                           random_init=random_init, config=config, savers=savers)
        fut = self._loop.create_future()
        self._waiters.append(fut)
        self._set_state(EngineState.STARTING)
        self._send(P.SwitchModel(checkpoint, device, random_init, config, savers))
        return await fut

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to shut down; kill it if it does not within `timeout`."""
        self._stopping = True
        proc = self._proc
        if proc is None:
            self._set_state(EngineState.STOPPED)
            return
        try:
            self._send(P.Shutdown())
        except (OSError, ValueError):
            pass
        exited = self._exited
        try:
            if exited is not None:
                await asyncio.wait_for(exited.wait(), timeout)
        except TimeoutError:
            log.warning("worker %s did not shut down in %.1f s; killing it", proc.pid, timeout)
            proc.kill()
            if exited is not None:
                await exited.wait()
        self._set_state(EngineState.STOPPED)

    def close(self) -> None:
        """Synchronous last-resort stop (application exit): kill the worker now."""
        self._stopping = True
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(2)
        self._drop_process()
        self._set_state(EngineState.STOPPED)

    # ---- process management --------------------------------------------------------------------
    def _spawn(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_worker_entry, args=(child_conn, self.options.to_dict()),
                           name="vstudio-worker", daemon=True)
        self._set_state(EngineState.STARTING)
        with _bare_main():
            proc.start()
        child_conn.close()  # the child has its copy; ours would keep the pipe open after it dies
        self._gen += 1
        self._proc, self._conn = proc, parent_conn
        self._startup_error = None
        self._got_hello = False
        self._exited = asyncio.Event()
        P.send(parent_conn, P.Hello(pid=os.getpid(), role="studio"))
        self._attach(self._gen, parent_conn, proc.sentinel)
        if self.hello_timeout_s > 0:
            self._hello_timer = self._loop.call_later(self.hello_timeout_s, self._hello_overdue, self._gen)

    # ---- reading the worker's messages without blocking the loop -------------------------------
    # A thread per worker does the blocking reads. Not loop.add_reader: the pipe turns readable when
    # a frame *starts* arriving, and Connection.recv_bytes then blocks until the rest is there. The
    # worker writes a preview's header and pixels in two writes and runs at a lower priority, so on
    # a busy machine the GUI thread would wait for it (measured: stalls of 0.5 s).

    def _attach(self, gen: int, conn, sentinel: int) -> None:
        threading.Thread(target=self._reader, args=(gen, conn, sentinel),
                         name=f"engine-reader-{gen}", daemon=True).start()

    def _reader(self, gen: int, conn, sentinel: int) -> None:
        """Reader thread: pipe + process sentinel -> loop, in order. Ends when the worker is gone."""
        while True:
            ready = wait([conn, sentinel])
            if conn not in ready:  # process gone and nothing left to read
                break
            try:
                frame = conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                msg = P.decode(frame)
            except P.ProtocolError as e:
                self._post(self._on_protocol_error, gen, e)
                break
            self._post(self._dispatch, gen, msg)
        self._post(self._on_exit, gen)

    def _post(self, fn, *args) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # loop closed: the application is exiting
            pass

    def _send(self, msg: P.Message) -> None:
        if self._conn is None:
            raise StudioError("engine_stopped", "the engine is not running")
        try:
            P.send(self._conn, msg)
        except (OSError, ValueError) as e:  # broken pipe: the reader thread reports the death
            log.warning("could not send %s to the worker: %s", type(msg).__name__, e)

    def _drop_process(self) -> None:
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._proc, self._conn = None, None

    # ---- events from the reader thread (run on the loop) ---------------------------------------
    def _dispatch(self, gen: int, msg: P.Message) -> None:
        if gen != self._gen:
            return
        if isinstance(msg, P.Hello):
            self._got_hello = True
            if self._hello_timer is not None:
                self._hello_timer.cancel()
                self._hello_timer = None
        elif isinstance(msg, P.WorkerReady):
            self.info = msg
            self._start_failures = 0
            self._switch_prev = None
            self._set_state(EngineState.READY if self.current_job is None else EngineState.BUSY)
            self._resolve(msg)
            self.on_ready.emit(msg)
        elif isinstance(msg, P.Progress | P.Preview):
            if msg.job_id == self.current_job:
                (self.on_progress if isinstance(msg, P.Progress) else self.on_preview).emit(msg)
        elif isinstance(msg, P.ClipDone):
            if msg.job_id == self.current_job:
                self._job_finished()
                self.on_done.emit(msg)
        elif isinstance(msg, P.JobError):
            if msg.job_id and msg.job_id == self.current_job:
                self._job_finished()
                self.on_error.emit(msg)
            elif not msg.job_id:
                self._worker_error(msg)

    def _worker_error(self, msg: P.JobError) -> None:
        """An error about the worker itself, not a job."""
        if msg.kind == "protocol":  # it could not decode what we sent; it exits next
            err = P.ProtocolError(msg.message)
            self.last_error = err
            self._fail(err)
        elif self.info is None:  # the model failed to load at start; it exits next (see _on_exit)
            self._startup_error = msg
        elif self._switch_prev is not None:
            # SwitchModel failed: the worker reloads the previous model and sends WorkerReady for it.
            err = StudioError(msg.kind, msg.message)
            self.last_error = err
            self.options, self._switch_prev = self._switch_prev, None
            self._reject(err)
        self.on_error.emit(msg)

    def _job_finished(self) -> None:
        self.current_job = None
        self._current_files = None
        self._cancelling = None
        if self.state == EngineState.BUSY:
            self._set_state(EngineState.READY)

    def _on_protocol_error(self, gen: int, e: P.ProtocolError) -> None:
        if gen != self._gen:
            return
        self._startup_error = P.JobError("", "protocol", str(e))
        self.last_error = e
        self._fail(e)
        if self._proc is not None:
            self._proc.kill()

    def _on_exit(self, gen: int) -> None:
        if gen != self._gen:
            return
        proc = self._proc
        code = None
        if proc is not None:
            proc.join(1.0)
            if proc.is_alive():  # pipe closed but process lingering: make sure it is gone
                proc.kill()
                proc.join(1.0)
            code = proc.exitcode
        self._drop_process()
        if self._exited is not None:
            self._exited.set()
        job, files, cancelling = self.current_job, self._current_files, self._cancelling
        self.current_job, self._current_files, self._cancelling = None, None, None
        if files is not None:
            _remove_partials(*files)
        if self._stopping:
            self._set_state(EngineState.STOPPED)
            self._reject(StudioError("engine_stopped", "the engine was stopped"))
            return
        if self.state == EngineState.FAILED:  # protocol error already handled
            if job is not None:
                self.on_error.emit(P.JobError(job, "protocol", str(self.last_error)))
            return
        reason = f"worker died (exit code {code})"
        if job is not None:
            if cancelling == job:
                self.on_error.emit(P.JobError(job, "cancelled", "cancelled"))
            else:
                self.on_error.emit(P.JobError(job, "worker_died", reason))
        if self._startup_error is not None and self.info is None:
            # The worker told us why it could not start (bad checkpoint, no CUDA): restarting won't help.
            err = StudioError(self._startup_error.kind, self._startup_error.message)
            self.last_error = err
            self._fail(err)
            return
        ready_before = self.state in (EngineState.READY, EngineState.BUSY)
        if not ready_before:
            self._start_failures += 1
        if not self.auto_restart or self._start_failures >= self.max_start_failures:
            err = StudioError("worker_died", f"{reason}; not restarting"
                              + (f" after {self._start_failures} failed starts" if self._start_failures else ""))
            self.last_error = err
            self._fail(err)
            return
        log.warning("%s; restarting the worker", reason)
        self.info = None
        self._spawn()

    def _hello_overdue(self, gen: int) -> None:
        if gen != self._gen or self._got_hello:
            return
        self._hello_timer = None
        err = StudioError("worker_silent", f"the worker sent nothing within {self.hello_timeout_s:g} s of starting")
        self.last_error = err
        self._fail(err)
        if self._proc is not None:
            self._proc.kill()

    def _cancel_overdue(self, gen: int, job_id: str) -> None:
        if gen == self._gen and self.current_job == job_id and self._cancelling == job_id and self._proc:
            log.warning("worker ignored a cancel for %.1f s; killing it", self.cancel_grace_s)
            self._proc.kill()  # _on_exit reports the job cancelled and restarts the worker

    def _fail(self, err: Exception) -> None:
        self._set_state(EngineState.FAILED)
        self._reject(err)

    def _resolve(self, ready: P.WorkerReady) -> None:
        waiters, self._waiters = self._waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(ready)

    def _reject(self, err: Exception) -> None:
        waiters, self._waiters = self._waiters, []
        for f in waiters:
            if not f.done():
                f.set_exception(err)

    def _set_state(self, state: EngineState) -> None:
        if state != self.state:
            self.state = state
            self.on_state_changed.emit(state)


@contextlib.contextmanager
def _bare_main():
    """Spawn re-runs the parent's __main__ module in the child (to find pickled functions defined
    there). Ours never are, and the studio's main module imports Qt and builds the GUI: show spawn an
    empty __main__ while it records what to prepare, so the worker starts light, without Qt."""
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


def _remove_partials(out_dir: str, stem: str) -> None:
    """A worker that died mid-write leaves hidden partial files; finished files are never partial."""
    for role in P.CLIP_FILES:
        try:
            (Path(out_dir) / P.partial_name(stem, role)).unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not remove a partial clip file: %s", e)
