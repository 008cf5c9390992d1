"""Engine responsiveness with the GUI up: a QMainWindow with the queue dock, offscreen, on a qasync
loop, with the model worker running a job.

Figures:
  - worker cold start to ready (spawn + imports + model load + calibration)
  - submit -> first preview with the model warm (goal <= 1 s)
  - the UI loop's worst stall while a job runs: a 5 ms QTimer heartbeat, lateness of each beat
    (goal <= 30 ms)
  - cancel -> acknowledged
  - resident memory of the worker and of the GUI process (/proc/<pid>/status VmRSS)

Model: the bundled checkpoint if assets/models/ has one, else a random-init model with the default
config (the same size as the bundled one). Run: .venv/bin/python benchmarks/bench_engine.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss(pid: int, key: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


class Heartbeat:
    """A 5 ms QTimer; lateness = how much later than 5 ms after the previous beat each beat fires."""

    def __init__(self, interval_ms: int = 5):
        from PySide6.QtCore import Qt, QTimer

        self.interval = interval_ms / 1000
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._beat)
        self.late: list[float] = []
        self.cpu: list[float] = []  # GUI-thread CPU time used between the two beats
        self._last = None
        self._last_cpu = time.thread_time()

    def start(self) -> None:
        self.timer.start()
        self.reset()

    def reset(self) -> None:
        self.late, self.cpu = [], []
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()

    def _beat(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self._last is not None:
            self.late.append(max(0.0, now - self._last - self.interval))
            self.cpu.append(cpu - self._last_cpu)
        self._last, self._last_cpu = now, cpu

    def summary(self) -> str:
        if not self.late:
            return "no beats"
        xs = sorted(self.late)
        p99 = xs[min(len(xs) - 1, int(0.99 * len(xs)))]
        worst = max(range(len(self.late)), key=self.late.__getitem__)
        # If the GUI thread hardly ran during the worst gap, the stall was the OS giving the CPU to
        # other processes, not work on the loop.
        return (f"worst {xs[-1] * 1000:.1f} ms (GUI-thread CPU in that gap {self.cpu[worst] * 1000:.1f} ms), "
                f"p99 {p99 * 1000:.1f} ms, median {statistics.median(xs) * 1000:.2f} ms over {len(xs)} beats")


async def bench(args) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMainWindow

    from studio.engine.client import EngineClient, WorkerOptions
    from studio.engine.queue import JobQueue
    from studio.project.schema import GenParams, JobState
    from studio.ui.queue_panel import QueuePanel

    bundled = sorted((ROOT / "assets" / "models").glob("*.safetensors"))
    if args.random_init or not bundled:
        opts = WorkerOptions(random_init=True, config=None, device=args.device, threads=args.threads)
        model = "random-init, default config"
    else:
        opts = WorkerOptions(checkpoint=str(bundled[0]), device=args.device, threads=args.threads)
        model = f"bundled checkpoint {bundled[0].name}"
    if args.generator:
        opts.generator = args.generator
    if args.nice is not None:
        opts.nice = args.nice

    media = Path(tempfile.mkdtemp(prefix="bench_engine_"))
    client = EngineClient(opts)
    queue = JobQueue(client, media, preview_interval_s=args.preview_interval)
    window = QMainWindow()
    window.resize(1280, 800)
    panel = QueuePanel(queue, window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    window.show()
    beat = Heartbeat()
    beat.start()
    loop = asyncio.get_running_loop()

    t0 = time.perf_counter()
    info = await client.start()
    cold = time.perf_counter() - t0
    print(f"load average before start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; worker nice {opts.nice}")
    print(f"model: {model}; {info.params / 1e6:.2f} M parameters on {info.device}; "
          f"native {info.frames} frames {info.width}x{info.height} @ {info.fps:g} fps")
    print(f"worker cold start to ready: {cold:.2f} s (model load {info.load_s:.2f} s, "
          f"calibration {info.calibrate_s:.2f} s: {info.sec_per_step * 1000:.1f} ms per guided step, "
          f"peak {mb(info.peak_memory_bytes)})")
    print(f"UI heartbeat during cold start: {beat.summary()}")
    beat.reset()
    await asyncio.sleep(args.idle)
    print(f"UI heartbeat idle (worker ready, no job) for {args.idle:g} s: {beat.summary()}")

    # Time the loop spends in our own code per worker message (decode, queue, panel repaint).
    handler_times: list[tuple[float, float]] = []  # (wall, CPU of this thread)
    real_dispatch = client._dispatch

    def timed_dispatch(gen, msg):
        t, c = time.perf_counter(), time.thread_time()
        real_dispatch(gen, msg)
        handler_times.append((time.perf_counter() - t, time.thread_time() - c))

    client._dispatch = timed_dispatch

    async def run_job(steps: int):
        first = loop.create_future()
        done = loop.create_future()

        def on_preview(job, frames):
            if not first.done():
                first.set_result(time.perf_counter())

        def on_changed(job):
            if job.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED) and not done.done():
                done.set_result((time.perf_counter(), job))

        queue.on_preview.connect(on_preview)
        queue.on_job_changed.connect(on_changed)
        beat.reset()
        t_submit = time.perf_counter()
        job = queue.enqueue("bench", GenParams(prompt="close-up shot of a red ball moving left at sunset",
                                               steps=steps, sampler="dpmpp_2m", guidance=3.0, seed=1))
        est = queue.estimate(job)
        t_first = await first
        t_done, job = await done
        queue.on_preview.disconnect(on_preview)
        queue.on_job_changed.disconnect(on_changed)
        return job, t_first - t_submit, t_done - t_submit, est

    rss_worker = []
    rss_gui = []

    async def sample_rss():
        while True:
            if client.pid:
                rss_worker.append(rss(client.pid))
            rss_gui.append(rss(os.getpid()))
            await asyncio.sleep(0.05)

    sampler = asyncio.ensure_future(sample_rss())
    firsts = []
    for i in range(args.repeats):
        job, first_s, total_s, est = await run_job(args.steps)
        assert job.state == JobState.DONE, (job.state, job.error)
        firsts.append(first_s)
        print(f"job {i + 1} ({args.steps} steps): submit -> first preview {first_s * 1000:.0f} ms; "
              f"done in {total_s:.2f} s (estimate {est[0]:.2f} s); UI heartbeat while running: {beat.summary()}")
    print(f"submit -> first preview (warm), best/median of {len(firsts)}: "
          f"{min(firsts) * 1000:.0f} / {statistics.median(firsts) * 1000:.0f} ms")
    walls = [w for w, _ in handler_times]
    cpus = [c for _, c in handler_times]
    print(f"GUI time per worker message (queue + panel update), over {len(walls)} messages: "
          f"wall worst {max(walls) * 1000:.1f} ms / median {statistics.median(walls) * 1000:.2f} ms; "
          f"CPU worst {max(cpus) * 1000:.1f} ms / median {statistics.median(cpus) * 1000:.2f} ms")

    # Cancel latency: a long job, cancelled after its first progress message.
    progressed = loop.create_future()
    cancelled = loop.create_future()
    queue.on_progress.connect(lambda j, live: progressed.done() or progressed.set_result(j))
    queue.on_failed.connect(lambda j, kind, msg: cancelled.done() or cancelled.set_result(time.perf_counter()))
    job = queue.enqueue("bench", GenParams(prompt="a panda", steps=1000))
    await progressed
    t_cancel = time.perf_counter()
    queue.cancel(job.id)
    t_ack = await cancelled
    print(f"cancel -> acknowledged: {(t_ack - t_cancel) * 1000:.0f} ms (state {job.state.value}, "
          f"files left: {len(list(media.glob('bench-' + job.id + '*')) + list(media.glob('.*partial*')))})")

    sampler.cancel()
    print(f"resident memory: worker {mb(rss(client.pid))} now, peak {mb(max(rss_worker))} "
          f"(VmHWM {mb(rss(client.pid, 'VmHWM'))}); GUI {mb(rss(os.getpid()))} now, peak {mb(max(rss_gui))}")
    await client.stop()
    window.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idle heartbeat baseline")
    ap.add_argument("--nice", type=int, default=None, help="worker nice increment (default: the client's)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None, help="torch threads in the worker")
    ap.add_argument("--preview-interval", type=float, default=0.0, help="seconds between previews (0 = every step)")
    ap.add_argument("--random-init", action="store_true", help="ignore a bundled checkpoint")
    ap.add_argument("--generator", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    # Qt is imported here, not at module level: nothing heavy runs before the loop exists.
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(bench(args))


if __name__ == "__main__":
    main()
