"""Shared by the engine, queue and queue-panel tests: a tiny real model, an event recorder, and a
stub engine client (same events and calls as EngineClient, driven by the test) for queue/UI logic."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from contract import protocol as P
from studio.engine.client import EngineState, WorkerOptions
from studio.engine.events import Event
from studio.engine.params import validate_request

# A random-init U-ViT small enough that a 20-step job takes a fraction of a second on one core.
TINY = {"width": 32, "depth": 3, "heads": 2, "text_width": 32, "text_layers": 1}
GENERATOR = os.environ.get("VSTUDIO_TEST_GENERATOR", "model_runtime.pipeline:Generator")


def tiny_options(**over: Any) -> WorkerOptions:
    opts = {"random_init": True, "device": "cpu", "config": dict(TINY), "threads": 1, "calibrate_steps": 2,
            "generator": GENERATOR, "mp4_min_side": 64}
    opts.update(over)
    return WorkerOptions(**opts)


def run(loop: asyncio.AbstractEventLoop, coro, timeout: float = 60.0):
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


class Recorder:
    """Collects a client's events; `await rec.wait(pred)` returns once an event matches."""

    def __init__(self, client):
        self.events: list[tuple[str, Any, float]] = []
        self._waiters: list[tuple[Any, asyncio.Future]] = []
        for name in ("on_ready", "on_progress", "on_preview", "on_done", "on_error", "on_state_changed"):
            getattr(client, name).connect(lambda msg, name=name: self._add(name, msg))

    def _add(self, name: str, msg: Any) -> None:
        item = (name, msg, time.monotonic())
        self.events.append(item)
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(item):
                fut.set_result(item)
                self._waiters.remove((pred, fut))

    def of(self, name: str, job_id: str | None = None) -> list[Any]:
        return [m for n, m, _ in self.events if n == name and (job_id is None or getattr(m, "job_id", None) == job_id)]

    async def wait(self, pred) -> tuple[str, Any, float]:
        for item in self.events:
            if pred(item):
                return item
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return await fut

    async def wait_for(self, name: str, job_id: str | None = None, after: int = 0):
        return await self.wait(lambda it: it[0] == name and (job_id is None or getattr(it[1], "job_id", None) == job_id)
                               and self.events.index(it) >= after)


def leftovers(folder: Path) -> list[str]:
    """Partial (hidden) clip files in a media folder."""
    return sorted(p.name for p in Path(folder).glob(".*partial*"))


def ready_message(**over: Any) -> P.WorkerReady:
    fields = {"protocol_version": P.PROTOCOL_VERSION, "model_id": "stub", "checkpoint_hash": "abc", "device": "cpu",
              "memory_bytes": 8 << 30, "frames": 16, "width": 32, "height": 32, "fps": 8.0, "params": 1000,
              "sec_per_step": 0.05, "peak_memory_bytes": 300 << 20}
    fields.update(over)
    return P.WorkerReady(**fields)


class StubClient:
    """Stands in for EngineClient where the queue's (or the panel's) logic is under test: no process;
    the test plays the worker's part with ready() / progress() / preview() / done() / error()."""

    def __init__(self):
        for name in ("on_ready", "on_progress", "on_preview", "on_done", "on_error", "on_state_changed"):
            setattr(self, name, Event(name))
        self.state = EngineState.STOPPED
        self.info: P.WorkerReady | None = None
        self.last_error = None
        self.current_job: str | None = None
        self.submitted: list[P.SubmitJob] = []
        self.cancelled: list[str] = []

    def _state(self, s: EngineState) -> None:
        self.state = s
        self.on_state_changed.emit(s)

    def ready(self, **over: Any) -> None:
        self.info = ready_message(**over)
        self._state(EngineState.READY)
        self.on_ready.emit(self.info)

    def submit(self, job_id, request, out_dir, stem, preview_interval_s=0.0) -> None:
        validate_request(request, self.info.frames if self.info else None, self.info.aspects if self.info else None)
        assert self.state == EngineState.READY, "the queue submitted while the engine was not ready"
        self.current_job = job_id
        self.submitted.append(P.SubmitJob(job_id, dict(request), str(out_dir), stem, preview_interval_s))
        self._state(EngineState.BUSY)

    def cancel(self, job_id: str) -> bool:
        if job_id != self.current_job:
            return False
        self.cancelled.append(job_id)
        return True

    def progress(self, step: int, total: int, eta: float = 1.0) -> None:
        self.on_progress.emit(P.Progress(self.current_job, step, total, eta))

    def preview(self, step: int, total: int, frames: np.ndarray) -> None:
        self.on_preview.emit(P.Preview(self.current_job, step, total, frames.shape, frames.tobytes()))

    def _end(self) -> str:
        job, self.current_job = self.current_job, None
        self._state(EngineState.READY)
        return job

    def done(self, **metadata: Any) -> None:
        job = self._end()
        self.on_done.emit(P.ClipDone(job, {"video": f"/media/{job}.mp4"}, {"seed": 0, **metadata}))

    def error(self, kind: str, message: str) -> None:
        job = self._end()
        self.on_error.emit(P.JobError(job, kind, message))
