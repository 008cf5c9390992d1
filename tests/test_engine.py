"""The engine client against a real worker process running a tiny random-init model.

One worker is shared by the tests that only submit and cancel; the crash, mismatch and start-up
tests start their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from engine_helpers import Recorder, leftovers, run, tiny_options

from contract import protocol as P
from studio.engine.client import EngineClient, EngineState
from studio.errors import StudioError

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def engine(loop):
    client = EngineClient(tiny_options())
    rec = Recorder(client)
    run(loop, client.start())
    yield client, rec
    run(loop, client.stop())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0
    except OSError:
        return False


def test_ready_reports_model_device_and_calibration(engine):
    client, rec = engine
    info = client.info
    assert client.state == EngineState.READY
    assert info.protocol_version == P.PROTOCOL_VERSION
    assert info.model_id == "random-init" and info.device == "cpu"
    assert (info.frames, info.width, info.height, info.fps) == (16, 32, 32, 8.0)
    assert info.params > 0 and info.memory_bytes > 0
    assert info.sec_per_step > 0 and info.peak_memory_bytes > 0
    assert rec.of("on_ready") == [info]


def test_submit_streams_progress_previews_and_writes_the_clip(engine, loop, tmp_path):
    client, rec = engine
    start = len(rec.events)
    request = {"prompt": "a red ball moving left at sunset", "seed": 7, "steps": 6, "sampler": "ddim", "guidance": 2.0}
    client.submit("job-a", request, tmp_path, "shot1-a")
    assert client.state == EngineState.BUSY
    _, done, _ = run(loop, rec.wait_for("on_done", "job-a", after=start))

    steps = [p.step for p in rec.of("on_progress", "job-a")]
    assert steps == sorted(steps) and steps[-1] == 6 and all(p.total == 6 for p in rec.of("on_progress", "job-a"))
    previews = rec.of("on_preview", "job-a")
    assert previews and previews[-1].step == 6
    frames0 = np.frombuffer(previews[0].frames, np.uint8).reshape(previews[0].shape)
    assert frames0.shape == (16, 32, 32, 3)
    assert client.state == EngineState.READY and client.current_job is None

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["shot1-a.json", "shot1-a.mp4", "shot1-a.npy", "shot1-a.png"]
    assert done.files == {role: str(tmp_path / f"shot1-a{ext}") for role, ext in P.CLIP_FILES.items()}

    clip = np.load(tmp_path / "shot1-a.npy")
    assert clip.dtype == np.uint8 and clip.shape == (16, 32, 32, 3)
    # The last preview is the sampler's final x0: the clip the worker saved.
    last = np.frombuffer(previews[-1].frames, np.uint8).reshape(previews[-1].shape)
    assert np.abs(last.astype(int) - clip.astype(int)).mean() < 2

    reader = imageio_ffmpeg.read_frames(str(tmp_path / "shot1-a.mp4"))
    meta = next(reader)
    video = list(reader)
    assert meta["size"] == (64, 64) and len(video) == 16  # upscaled for viewing (mp4_min_side=64)
    assert meta["codec"].startswith("h264")
    poster = cv2.imread(str(tmp_path / "shot1-a.png"))
    assert poster.shape == (64, 64, 3)

    saved = json.loads((tmp_path / "shot1-a.json").read_text())
    assert saved == done.metadata
    assert saved["parameters"] == request and saved["seed"] == 7
    assert saved["model_id"] == "random-init" and "checkpoint_hash" in saved
    assert saved["frames"] == 16 and saved["fps"] == 8.0
    assert saved["timings"]["generate_s"] > 0 and saved["timings"]["total_s"] >= saved["timings"]["generate_s"]
    assert saved["files"]["video"] == "shot1-a.mp4"


def test_same_seed_same_pixels(engine, loop, tmp_path):
    client, rec = engine
    req = {"prompt": "a blue box", "seed": 3, "steps": 3}
    for stem in ("x", "y"):
        start = len(rec.events)
        client.submit(f"job-{stem}", req, tmp_path, stem)
        run(loop, rec.wait_for("on_done", f"job-{stem}", after=start))
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), np.load(tmp_path / "y.npy"))


def test_cancel_running_job_stops_fast_and_leaves_nothing(engine, loop, tmp_path):
    client, rec = engine
    start = len(rec.events)
    client.submit("job-long", {"prompt": "a panda", "steps": 1000}, tmp_path, "long")
    _, first, _ = run(loop, rec.wait_for("on_progress", "job-long", after=start))
    t_cancel = time.monotonic()
    assert client.cancel("job-long")
    _, err, t_end = run(loop, rec.wait_for("on_error", "job-long", after=start))
    assert (err.kind, err.message) == ("cancelled", "cancelled")
    last_step = max(p.step for p in rec.of("on_progress", "job-long"))
    assert last_step < 1000  # it did not run to the end
    # The worker polls the pipe every step, so it stops within a step or two of the cancel.
    assert t_end - t_cancel < 0.5, f"cancel took {t_end - t_cancel:.3f} s"
    assert list(tmp_path.iterdir()) == []  # no clip, no partial files
    assert client.state == EngineState.READY
    # ...and the worker is free for the next job.
    start = len(rec.events)
    client.submit("job-after", {"prompt": "a star", "steps": 2}, tmp_path, "after")
    run(loop, rec.wait_for("on_done", "job-after", after=start))


def test_cancel_of_a_job_that_is_not_running_is_refused(engine):
    client, _ = engine
    assert client.cancel("never-submitted") is False


@pytest.mark.parametrize(
    ("change", "kind", "words"),
    [
        ({"sampler": "euler"}, "bad_request", "unknown sampler 'euler'"),
        ({"steps": 0}, "bad_request", "steps must be"),
        ({"steps": 2.5}, "bad_request", "steps must be"),
        ({"guidance": -1}, "bad_request", "guidance must be"),
        ({"mode": "i2v"}, "missing_reference", "needs a reference image"),
        ({"mode": "i2v", "image": "/nonexistent/ref.png"}, "missing_reference", "reference image not found"),
        ({"mode": "v2v"}, "missing_reference", "source video"),
        ({"mode": "dream"}, "bad_request", "unknown mode"),
        ({"frames": 0}, "bad_request", "frames must be"),
        ({"seed": -1}, "bad_request", "seed must be"),
        ({"extend_frames": 16}, "bad_request", "extend_frames"),
        ({"temperature": 1.0}, "bad_request", "unknown generation parameter"),
    ],
)
def test_bad_parameters_are_rejected_before_the_worker(engine, tmp_path, change, kind, words):
    client, _ = engine
    sent = []
    real_send = client._send
    client._send = lambda msg: sent.append(msg) or real_send(msg)
    try:
        with pytest.raises(StudioError) as exc:
            client.submit("bad", {"prompt": "a ball", **change}, tmp_path, "bad")
    finally:
        del client._send
    assert exc.value.kind == kind
    assert words in str(exc.value) and "\n" not in str(exc.value)
    assert sent == [] and client.state == EngineState.READY and client.current_job is None


def test_i2v_with_a_reference_image_runs(engine, loop, tmp_path):
    client, rec = engine
    ref = np.zeros((48, 48, 3), np.uint8)
    ref[..., 0] = 200
    cv2.imwrite(str(tmp_path / "ref.png"), ref)
    start = len(rec.events)
    client.submit("job-i2v", {"prompt": "a ball", "mode": "i2v", "image": str(tmp_path / "ref.png"), "steps": 2},
                  tmp_path / "media", "i2v")
    _, done, _ = run(loop, rec.wait_for("on_done", "job-i2v", after=start))
    assert Path(done.files["frames"]).exists()


@pytest.mark.parametrize("mode", ["v2v", "extend"])
def test_video_modes_read_their_source_from_a_file(engine, loop, tmp_path, mode):
    client, rec = engine
    src = np.random.default_rng(1).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    np.save(tmp_path / "src.npy", src)
    start = len(rec.events)
    client.submit(f"job-{mode}", {"prompt": "a ball", "mode": mode, "video": str(tmp_path / "src.npy"), "steps": 4,
                                  "frames": 20}, tmp_path, mode)
    _, done, _ = run(loop, rec.wait_for("on_done", f"job-{mode}", after=start))
    assert np.load(done.files["frames"]).shape[0] == 20 and done.metadata["frames"] == 20


def test_switch_model_reloads_and_a_bad_switch_keeps_the_old_model(engine, loop, tmp_path):
    client, rec = engine
    old = client.info
    new = run(loop, client.switch_model(None, "cpu", random_init=True, config={**tiny_options().config, "width": 64,
                                                                               "heads": 4}))
    assert new.params > old.params and client.info == new and client.state == EngineState.READY
    with pytest.raises(StudioError) as exc:
        run(loop, client.switch_model(str(tmp_path / "missing.safetensors"), "cpu"))
    assert exc.value.kind == "checkpoint"
    run(loop, rec.wait(lambda it: it[0] == "on_ready" and it[1].params == new.params and it[1] is not new))
    assert client.state == EngineState.READY and client.options.config["width"] == 64
    start = len(rec.events)
    client.submit("job-after-switch", {"prompt": "a car", "steps": 2}, tmp_path, "s")
    run(loop, rec.wait_for("on_done", "job-after-switch", after=start))


# ---- workers of their own ----------------------------------------------------------------------


def test_killed_worker_fails_the_job_with_the_reason_and_is_restarted(loop, tmp_path):
    client = EngineClient(tiny_options())
    rec = Recorder(client)
    try:
        run(loop, client.start())
        pid = client.pid
        start = len(rec.events)
        client.submit("doomed", {"prompt": "a lantern", "steps": 1000}, tmp_path, "doomed")
        run(loop, rec.wait_for("on_progress", "doomed", after=start))
        t_kill = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        _, err, t_seen = run(loop, rec.wait_for("on_error", "doomed", after=start))
        assert err.kind == "worker_died" and err.message == "worker died (exit code -9)"
        assert t_seen - t_kill < 2.0
        assert leftovers(tmp_path) == [] and list(tmp_path.glob("doomed*")) == []
        # A new worker comes up by itself and takes the next job.
        run(loop, rec.wait(lambda it: it[0] == "on_ready" and it[2] > t_kill))
        assert client.pid != pid and client.state == EngineState.READY
        start = len(rec.events)
        client.submit("next", {"prompt": "a lantern", "steps": 2}, tmp_path, "next")
        run(loop, rec.wait_for("on_done", "next", after=start))
        assert (tmp_path / "next.json").exists()
    finally:
        run(loop, client.stop())
    assert not _alive(pid)


def test_protocol_version_mismatch_is_a_clear_error_not_a_hang(loop):
    client = EngineClient(tiny_options(protocol_version=P.PROTOCOL_VERSION + 1))
    t0 = time.monotonic()
    with pytest.raises(P.ProtocolError, match="version mismatch"):
        run(loop, client.start(), timeout=30)
    assert time.monotonic() - t0 < 20
    assert client.state == EngineState.FAILED
    run(loop, asyncio.sleep(0.2))
    assert not client.is_alive  # the worker that spoke the wrong version was stopped, not restarted


def test_model_that_cannot_load_fails_start_without_restarting(loop, tmp_path):
    client = EngineClient(tiny_options(random_init=False, checkpoint=str(tmp_path / "nope.safetensors")))
    rec = Recorder(client)
    with pytest.raises(StudioError) as exc:
        run(loop, client.start())
    assert exc.value.kind == "checkpoint" and "nope" in str(exc.value)
    assert client.state == EngineState.FAILED
    assert [s for s in rec.of("on_state_changed")].count(EngineState.STARTING) == 1


PARENT_SCRIPT = """
import asyncio, sys, time
sys.path[:0] = {paths!r}
from engine_helpers import tiny_options
from studio.engine.client import EngineClient

async def main():
    client = EngineClient(tiny_options(calibrate_steps=0))
    await client.start()
    print(client.pid, flush=True)
    await asyncio.sleep(300)

asyncio.run(main())
"""


def test_worker_exits_when_its_parent_dies(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT_SCRIPT.format(paths=[str(ROOT), str(ROOT / "tests")]))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker_pid = int(parent.stdout.readline())
        assert _alive(worker_pid)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 5
        while _alive(worker_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker_pid)
    finally:
        parent.kill()


def test_a_cancel_stops_the_model_part_way_through_a_step():
    """Big models on busy CPUs take longer than 0.5 s per step, so the worker's cancel check also
    runs inside the model, before every submodule."""
    from engine_helpers import TINY

    from model_runtime.pipeline import GenerationRequest, Generator
    from model_runtime.worker import DEFAULT_OPTIONS, Worker, _CancelledHere

    gen = Generator(random_init=True, device="cpu", config=TINY)
    worker = Worker(None, dict(DEFAULT_OPTIONS))
    worker._install_cancel_hooks(gen)
    blocks = [m for m in gen.model.modules() if type(m).__name__ == "Block"]
    assert blocks
    # The flag goes up while the model is inside its first block of the first step.
    trip = blocks[0].register_forward_hook(lambda *a: worker._cancel.set())
    steps = []
    with pytest.raises(_CancelledHere):
        gen.generate(GenerationRequest(prompt="a ball", steps=3), lambda s, t, p: steps.append(s) and False)
    assert steps == []  # it never finished that step
    trip.remove()
    worker._cancel.clear()
    assert gen.generate(GenerationRequest(prompt="a ball", steps=2)).shape == (16, 32, 32, 3)


def test_the_engine_side_never_imports_torch_or_model_runtime():
    code = ("import sys; import studio.engine.client, studio.engine.queue, studio.engine.takes, "
            "studio.ui.queue_panel; print(sorted(m for m in ('torch', 'model_runtime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
