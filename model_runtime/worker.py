"""The model worker: a separate process that loads the model once and serves jobs over the protocol.

Started by the studio's engine client with the multiprocessing `spawn` start method:
`main(conn, options)` where `conn` is this side of a duplex Pipe. It runs one job at a time,
streams Progress and Preview messages, polls the pipe for CancelJob between sampler steps, and
writes each clip atomically (temporary names, then os.replace; nothing is left on cancel/failure).
It exits when the pipe closes or the parent process dies.

model_runtime never imports studio: what both sides share (the wire protocol, the request and its
rules) is the stdlib-only `contract` package.
"""

from __future__ import annotations

import inspect
import math
import os
import queue
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import numpy as np

from contract import protocol as P
from contract.request import GenerationRequest, RequestError
from model_runtime import video_io
from model_runtime.clip_files import write_clip
from model_runtime.errors import RuntimeUserError

# The one spawn option set. Tests pass random_init=True and a tiny `config` so a job takes
# milliseconds; the studio passes a checkpoint path (or None for the bundled model).
DEFAULT_OPTIONS: dict[str, Any] = {
    "checkpoint": None,
    "device": "auto",
    "random_init": False,
    "config": None,
    # "module:attr" of the backend; "auto": by the checkpoint (model_runtime.backends.generator_spec: a
    # diffusers folder or a U-ViT checkpoint); tests substitute their own
    "generator": "auto",
    "savers": {},  # an open model's memory savers: {"offload": bool, "vae_tiling": bool}
    # guided steps timed at start; the first ones run slow (kernels and buffers warming up): with 3
    # the calibration read 2× the real step time, with 8 (the last 6 timed) it is within ±30 % at step 1
    "calibrate_steps": 8,
    "threads": None,  # torch.set_num_threads, None = torch's default
    "nice": 5,  # lower our CPU priority so the GUI thread wins a core when both want one (POSIX)
    "preview_max_side": 64,  # previews are downscaled (by striding) to at most this size
    "mp4_min_side": 256,  # the viewing MP4 and poster are upscaled to at least this size
    "protocol_version": P.PROTOCOL_VERSION,  # only tests of the mismatch path change this
}



class _Shutdown(Exception):
    """The studio asked us to stop (or went away) while a job was running."""


def main(conn, options: dict[str, Any] | None = None) -> None:
    """Process entry point. Never returns normally until told to shut down or orphaned."""
    # Ctrl-C in a terminal hits the whole process group; the studio decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    opts = {**DEFAULT_OPTIONS, **(options or {})}
    if opts.get("nice") and hasattr(os, "nice"):
        try:
            os.nice(int(opts["nice"]))
        except OSError:
            pass
    _start_parent_watch()
    worker = Worker(conn, opts)
    try:
        code = worker.serve()
    except (EOFError, OSError):
        code = 0  # the studio closed the pipe: nothing left to serve
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            conn.close()
        except OSError:
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown of torch threads: we are done


def _start_parent_watch() -> None:
    """Exit when the parent dies, even while busy in a long model load or a sampler step."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    ppid = os.getppid()

    def watch() -> None:
        while True:
            if parent is not None:
                if wait([parent.sentinel], timeout=0.5):
                    os._exit(0)
            else:
                time.sleep(0.5)
            if os.getppid() != ppid:  # re-parented: the studio is gone
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _load_attr(spec: str):
    import importlib

    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def _spec(opts: dict[str, Any]) -> str:
    spec = opts.get("generator") or "auto"
    if spec == "auto":
        from model_runtime.backends import generator_spec

        spec = generator_spec(opts.get("checkpoint"))
    return spec


def _api(spec: str):
    """The module that holds the Generator: it also defines Cancelled."""
    import importlib

    return importlib.import_module(spec.partition(":")[0])


def _device_memory(device: str) -> int:
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory)
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _proc_status_kb(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if isinstance(e, RuntimeUserError) else f"{type(e).__name__}: {text}"


class _PipeClosed(Exception):
    """The studio closed its end of the pipe."""


class Worker:
    def __init__(self, conn, opts: dict[str, Any]):
        self.conn = conn
        self.opts = opts
        self.version = int(opts["protocol_version"])
        self.gen = None
        self.ready: P.WorkerReady | None = None
        # A reader thread owns the receiving side of the pipe, so a cancel is seen at once, even in
        # the middle of a sampler step (see _install_cancel_hooks); everything else waits in the inbox.
        self.inbox: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._running_id: str | None = None
        self._cancelled_ids: set[str] = set()
        self._cancel = threading.Event()  # set: the running job must stop now
        self._shutdown = False

    # ---- plumbing ------------------------------------------------------------------------------
    def send(self, msg: P.Message) -> None:
        P.send(self.conn, msg, self.version)

    def _read_pipe(self) -> None:
        """Reader thread: pipe -> inbox; cancels and shutdown take effect immediately."""
        while True:
            try:
                msg = P.recv(self.conn)
            except P.ProtocolError as e:
                self.inbox.put(e)
                return
            except (EOFError, OSError):
                self._shutdown = True
                self._cancel.set()
                self.inbox.put(_PipeClosed())
                return
            if isinstance(msg, P.CancelJob):
                with self._lock:
                    self._cancelled_ids.add(msg.job_id)
                    if msg.job_id == self._running_id:
                        self._cancel.set()
                continue
            if isinstance(msg, P.Shutdown):
                self._shutdown = True
                self._cancel.set()
            self.inbox.put(msg)

    def _next(self) -> P.Message:
        item = self.inbox.get()
        if isinstance(item, Exception):
            raise item
        return item

    def _begin(self, job_id: str) -> None:
        with self._lock:
            self._running_id = job_id
            if job_id in self._cancelled_ids or self._shutdown:
                self._cancel.set()

    def _end(self, job_id: str) -> None:
        with self._lock:
            self._running_id = None
            self._cancelled_ids.discard(job_id)
            self._cancel.clear()

    def _cancelled(self, job_id: str) -> bool:
        return self._cancel.is_set()

    def _check_cancel(self, *_args) -> None:
        if self._cancel.is_set():
            raise _CancelledHere

    def _install_cancel_hooks(self, gen) -> None:
        """A sampler step of a big model on a busy CPU can take longer than the 0.5 s a cancel may
        take, so every submodule checks the cancel flag before it runs: the step stops part-way."""
        model = getattr(gen, "model", None)
        if model is None or not hasattr(model, "modules"):
            return
        for m in model.modules():
            if m is not model:
                m.register_forward_pre_hook(self._check_cancel)

    # ---- lifecycle -----------------------------------------------------------------------------
    def serve(self) -> int:
        self.send(P.Hello(protocol_version=self.version, pid=os.getpid(), role="worker"))
        threading.Thread(target=self._read_pipe, name="pipe-reader", daemon=True).start()
        if self.opts.get("threads"):
            import torch

            torch.set_num_threads(int(self.opts["threads"]))
        try:
            self.load(self.opts)
        except Exception as e:  # a model that cannot load is fatal at start: tell the studio why
            self.send(P.JobError("", getattr(e, "kind", "model_load"), _one_line(e)))
            if not isinstance(e, RuntimeUserError):
                traceback.print_exc()
            return 2
        while True:
            try:
                msg = self._next()
            except P.ProtocolError as e:
                self.send(P.JobError("", "protocol", str(e)))
                return 3
            except _PipeClosed:
                return 0
            if isinstance(msg, P.Hello):
                continue  # the studio's version was checked by decoding it
            if isinstance(msg, P.Shutdown):
                return 0
            if isinstance(msg, P.SubmitJob):
                self.run_job(msg)
                if self._shutdown:
                    return 0
            elif isinstance(msg, P.SwitchModel):
                self.switch(msg)

    def load(self, opts: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        self.spec = _spec(opts)
        cls = _load_attr(self.spec)
        accepts = inspect.signature(cls).parameters  # memory savers: only a backend that has them
        savers = {k: bool(v) for k, v in (opts.get("savers") or {}).items() if k in ("offload", "vae_tiling")
                  and k in accepts}
        gen = cls(
            checkpoint=opts.get("checkpoint"),
            device=opts.get("device", "auto"),
            random_init=bool(opts.get("random_init")),
            config=opts.get("config"),
            **savers,
        )
        load_s = time.perf_counter() - t0
        sec_per_step, peak, cal_s = self.calibrate(gen, int(opts.get("calibrate_steps") or 0))
        if hasattr(gen, "estimate_memory"):  # an open model was timed on a short clip: its default needs more
            try:
                peak = max(peak, int(gen.estimate_memory(GenerationRequest(prompt="estimate"))))
            except (RuntimeUserError, ValueError):
                pass
        info = gen.info
        # only a model of several aspects has one to ask for; a single-aspect model has its one size
        aspects = info.get("aspects", {}) if len(info.get("aspects", {})) > 1 else {}
        self._install_cancel_hooks(gen)
        self.gen = gen
        self.ready = P.WorkerReady(
            protocol_version=self.version,
            model_id=str(info.get("model_id", "")),
            checkpoint_hash=str(info.get("checkpoint_hash", "")),
            device=str(info.get("device", "")),
            memory_bytes=_device_memory(str(info.get("device", "cpu"))),
            frames=int(info["frames"]),
            width=int(info.get("width", info["size"])),
            height=int(info.get("height", info["size"])),
            fps=float(info["fps"]),
            params=int(info.get("params", 0)),
            sec_per_step=sec_per_step,
            peak_memory_bytes=peak,
            load_s=load_s,
            calibrate_s=cal_s,
            extend_frames=GenerationRequest.__dataclass_fields__["extend_frames"].default,
            aspects={str(a): [int(v) for v in hw] for a, hw in aspects.items()},
            capabilities=dict(info.get("capabilities") or {}),
        )
        self.send(self.ready)

    def calibrate(self, gen, steps: int) -> tuple[float, int, float]:
        """Time guided sampler steps of one native clip on this device; measure peak memory."""
        if steps <= 0:
            return 0.0, 0, 0.0
        cuda = str(gen.info.get("device", "")).startswith("cuda")
        if cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
        stamps: list[float] = []
        t0 = time.perf_counter()
        req = GenerationRequest(prompt="calibration", steps=steps, sampler="ddim", guidance=3.0)
        caps, scale = getattr(gen, "capabilities", None), 1.0
        if caps is not None and not caps.chain:
            # an open model's default clip (e.g. 81 frames at 480×832) takes minutes on a CPU: time
            # its shortest clip and scale by latent frames (its VAE packs frame_step frames in one)
            short = caps.legal_frames(caps.min_frames)
            req = GenerationRequest(prompt="calibration", steps=min(steps, 4), frames=short,
                                    guidance=caps.guidance[2])
            scale = ((caps.frames - caps.frame_offset) // caps.frame_step + 1) / (
                (short - caps.frame_offset) // caps.frame_step + 1)
        gen.generate(req, lambda step, total, preview: stamps.append(time.perf_counter()) and False)
        cal_s = time.perf_counter() - t0
        # The first step carries one-off costs (text encoding, kernel warm-up): time the rest.
        gaps = np.diff(stamps) if len(stamps) >= 2 else np.array([cal_s / max(1, len(stamps))])
        gaps = gaps[1:] if len(gaps) >= 4 else gaps  # the second step still warms up
        sec_per_step = float(np.median(gaps)) * scale
        if cuda:
            import torch

            peak = int(torch.cuda.max_memory_allocated())
        else:
            peak = _proc_status_kb("VmHWM")  # the worker's peak resident memory
        return sec_per_step, peak, cal_s

    def switch(self, msg: P.SwitchModel) -> None:
        opts = {**self.opts, "checkpoint": msg.checkpoint, "device": msg.device,
                "random_init": msg.random_init, "config": msg.config, "savers": dict(msg.savers)}
        old = self.gen
        try:
            self.gen = None
            del old  # free the old weights before loading the new ones
            self._gc()
            self.load(opts)
            self.opts = opts
        except Exception as e:
            self.send(P.JobError("", getattr(e, "kind", "model_load"), _one_line(e)))
            # Fall back to the model we had so the studio keeps a working worker.
            self.load(self.opts)

    @staticmethod
    def _gc() -> None:
        import gc

        gc.collect()
        if "torch" in sys.modules:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    # ---- jobs ----------------------------------------------------------------------------------
    def _build_request(self, fields: dict[str, Any]) -> GenerationRequest:
        """The contract's request from the wire, with the files it names loaded as arrays."""
        try:
            req = GenerationRequest.from_wire(fields)
        except RequestError as e:
            raise RuntimeUserError(e.kind, e.message) from None
        for key, reader in (("image", video_io.read_image), ("video", video_io.read_video)):
            value = getattr(req, key)
            if isinstance(value, str) and value:
                path = Path(value)
                if not path.is_file():
                    raise RuntimeUserError("missing_input", f"{key} file not found: {path}")
                try:
                    setattr(req, key, reader(path))
                except ValueError as e:
                    raise RuntimeUserError("bad_input", str(e)) from None
        return req

    def run_job(self, job: P.SubmitJob) -> None:
        self._begin(job.job_id)
        t_start = time.perf_counter()
        try:
            req = self._build_request(job.request)
            frames = self._generate(job, req)
            t_gen = time.perf_counter() - t_start
            if self._cancelled(job.job_id):
                raise _CancelledHere
            files, meta = self._write_clip(job, frames, t_gen, t_start)
        except Exception as e:
            kind, message = self._classify(e)
            if kind == "internal":
                traceback.print_exc()
            self.send(P.JobError(job.job_id, kind, message))
            return
        finally:
            self._end(job.job_id)
        self.send(P.ClipDone(job.job_id, files, meta))

    def _classify(self, e: Exception) -> tuple[str, str]:
        if isinstance(e, _api(self.spec).Cancelled | _CancelledHere):
            return "cancelled", "cancelled"
        if isinstance(e, RuntimeUserError):
            return e.kind, _one_line(e)
        if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError":
            return "out_of_memory", f"out of memory on {self.ready.device if self.ready else 'device'}: {_one_line(e)}"
        return "internal", _one_line(e)

    def _generate(self, job: P.SubmitJob, req) -> np.ndarray:
        interval = float(job.preview_interval_s)
        max_side = int(self.opts["preview_max_side"])
        calib = self.ready.sec_per_step if self.ready else 0.0
        state = {"last_preview": -math.inf, "t0": time.perf_counter(), "first": None}

        def callback(step: int, total: int, preview: np.ndarray) -> bool:
            if self._cancelled(job.job_id):
                return True
            now = time.perf_counter()
            if state["first"] is None:
                state["first"] = (step, now)
            s0, t0 = state["first"]
            per_step = (now - t0) / (step - s0) if step > s0 else (calib or (now - state["t0"]) / max(step, 1))
            eta = max(0.0, per_step * (total - step))
            self.send(P.Progress(job.job_id, int(step), int(total), float(eta) if math.isfinite(eta) else 0.0))
            if step >= total or now - state["last_preview"] >= interval:
                state["last_preview"] = now
                small = _shrink(np.asarray(preview, dtype=np.uint8), max_side)
                self.send(P.Preview(job.job_id, int(step), int(total), tuple(small.shape), small.tobytes()))
            return False

        return self.gen.generate(req, callback)

    def _write_clip(self, job: P.SubmitJob, frames: np.ndarray, t_gen: float, t_start: float):
        def last_chance() -> None:  # a cancel wins over a finished encode
            if self._cancelled(job.job_id):
                raise _CancelledHere

        return write_clip(job, frames, self.gen.info, int(self.opts["mp4_min_side"]), self.version,
                          {"generate_s": t_gen}, t_start, before_commit=last_chance)


class _CancelledHere(Exception):
    """A cancel that arrived after sampling finished but before the files were committed."""


def _shrink(frames: np.ndarray, max_side: int) -> np.ndarray:
    _, h, w, _ = frames.shape
    step = max(1, -(-max(h, w) // max_side))
    return np.ascontiguousarray(frames[:, ::step, ::step]) if step > 1 else np.ascontiguousarray(frames)
