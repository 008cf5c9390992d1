"""The job queue: ordering, cancel/retry, persistence and estimates (stub engine), and the queue
driving a real worker through a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import numpy as np
import pytest
from engine_helpers import StubClient, leftovers, run, tiny_options

from studio.engine.client import EngineClient, EngineState
from studio.engine.queue import JobQueue
from studio.errors import StudioError
from studio.project.schema import GenParams, Job, JobState, Mode, ProjectData, at_fps

pytestmark = pytest.mark.timeout(120)


def params(**kw) -> GenParams:
    return GenParams(**{"prompt": "a red ball", "steps": 4, **kw})


@pytest.fixture
def stub(tmp_path):
    client = StubClient()
    queue = JobQueue(client, tmp_path / "media", project_dir=tmp_path)
    return client, queue


def states(queue: JobQueue) -> list[str]:
    return [j.state.value for j in queue.jobs]


def test_jobs_wait_for_the_engine_then_run_in_order(stub):
    client, queue = stub
    a = queue.enqueue("s1", params())
    b = queue.enqueue("s2", params())
    assert states(queue) == ["queued", "queued"] and client.submitted == []
    client.ready()
    assert [s.job_id for s in client.submitted] == [a.id]
    assert states(queue) == ["running", "queued"]
    sub = client.submitted[0]
    assert sub.stem == f"s1-{a.id}" and sub.out_dir == str(queue.media_dir)
    assert sub.request["prompt"] == "a red ball" and sub.request["steps"] == 4 and sub.request["frames"] == 16
    client.done()
    assert states(queue) == ["done", "running"] and a.progress == 1.0
    assert client.submitted[-1].job_id == b.id


def test_enqueue_front_goes_after_the_running_job(stub):
    client, queue = stub
    client.ready()
    a = queue.enqueue("s1", params())
    b = queue.enqueue("s2", params())
    c = queue.enqueue("s3", params(), front=True)
    assert [j.id for j in queue.jobs] == [a.id, c.id, b.id]
    client.done()
    assert client.submitted[-1].job_id == c.id


def test_move_changes_what_runs_next(stub):
    client, queue = stub
    a, b, c = (queue.enqueue(f"s{i}", params()) for i in range(3))
    queue.move(c.id, 0)
    assert [j.id for j in queue.jobs] == [c.id, a.id, b.id]
    queue.move(c.id, 99)  # clamped to the end
    assert [j.id for j in queue.jobs] == [a.id, b.id, c.id]
    queue.move(b.id, 0)
    client.ready()
    assert client.submitted[0].job_id == b.id
    with pytest.raises(StudioError):
        queue.move("nope", 0)


def test_progress_and_preview_are_live_status(stub):
    client, queue = stub
    client.ready()
    job = queue.enqueue("s1", params(steps=8))
    seen = []
    queue.on_progress.connect(lambda j, live: seen.append((j.id, live.step, live.eta_s)))
    client.progress(2, 8, eta=3.0)
    assert job.progress == pytest.approx(0.25) and seen == [(job.id, 2, 3.0)]
    frames = np.full((16, 32, 32, 3), 9, np.uint8)
    client.preview(2, 8, frames)
    np.testing.assert_array_equal(queue.live(job.id).preview, frames)


def test_failure_is_recorded_and_the_queue_carries_on(stub):
    client, queue = stub
    client.ready()
    a = queue.enqueue("s1", params())
    b = queue.enqueue("s2", params())
    failures = []
    queue.on_failed.connect(lambda j, kind, msg: failures.append((j.id, kind, msg)))
    client.error("internal", "the sampler blew up")
    assert a.state == JobState.FAILED and a.error == "the sampler blew up"
    assert failures == [(a.id, "internal", "the sampler blew up")]
    assert b.state == JobState.RUNNING


def test_a_job_whose_worker_died_is_retried_once_by_itself(stub):
    client, queue = stub
    client.ready()
    a = queue.enqueue("s1", params())
    retried, failures = [], []
    queue.on_retried.connect(lambda j, reason: retried.append((j.id, reason)))
    queue.on_failed.connect(lambda j, kind, msg: failures.append((j.id, kind, msg)))
    client.error("worker_died", "worker died (exit code -9)")
    assert retried == [(a.id, "worker died (exit code -9)")] and failures == []
    assert a.state == JobState.RUNNING and [s.job_id for s in client.submitted] == [a.id, a.id]
    client.error("worker_died", "worker died (exit code -9)")  # twice: it fails, saying why
    assert a.state == JobState.FAILED and a.error == "worker died (exit code -9)"
    assert failures == [(a.id, "worker_died", "worker died (exit code -9)")] and len(retried) == 1


def test_cancel_queued_never_reaches_the_worker(stub):
    client, queue = stub
    client.ready()
    a = queue.enqueue("s1", params())
    b = queue.enqueue("s2", params())
    queue.cancel(b.id)
    assert b.state == JobState.CANCELLED and client.cancelled == []
    client.done()
    assert [s.job_id for s in client.submitted] == [a.id]


def test_cancel_running_asks_the_worker_and_waits_for_it(stub):
    client, queue = stub
    client.ready()
    a = queue.enqueue("s1", params())
    queue.cancel(a.id)
    assert client.cancelled == [a.id]
    assert a.state == JobState.RUNNING and queue.live(a.id).cancelling  # until the worker says so
    client.error("cancelled", "cancelled")
    assert a.state == JobState.CANCELLED and a.error == ""


def test_retry_failed_or_cancelled_only(stub):
    client, queue = stub
    client.ready()
    a = queue.enqueue("s1", params())
    client.error("internal", "boom")
    assert a.state == JobState.FAILED
    queue.retry(a.id)
    assert a.state == JobState.RUNNING and a.error == "" and len(client.submitted) == 2
    client.done()
    with pytest.raises(StudioError) as exc:
        queue.retry(a.id)
    assert exc.value.kind == "not_retryable"


def test_bad_parameters_are_rejected_at_enqueue(stub, tmp_path):
    client, queue = stub
    with pytest.raises(StudioError) as exc:
        queue.enqueue("s1", params(mode=Mode.IMAGE_TO_VIDEO))
    assert exc.value.kind == "missing_reference" and queue.jobs == []
    with pytest.raises(StudioError):
        queue.enqueue("s1", params(mode=Mode.IMAGE_TO_VIDEO, reference_image="media/missing.png"))
    # Bypassing pydantic's checks does not get a bad value to the worker either.
    with pytest.raises(StudioError, match="steps"):
        queue.enqueue("s1", GenParams.model_construct(**{**params().model_dump(), "steps": 0}))
    assert queue.jobs == [] and client.submitted == []


def test_a_reference_deleted_after_queueing_fails_that_job_only(stub, tmp_path):
    client, queue = stub
    ref = tmp_path / "ref.png"
    ref.write_bytes(b"not checked here")
    a = queue.enqueue("s1", params(mode=Mode.IMAGE_TO_VIDEO, reference_image="ref.png"))
    b = queue.enqueue("s2", params())
    ref.unlink()
    client.ready()
    assert a.state == JobState.FAILED and "reference image not found" in a.error
    assert b.state == JobState.RUNNING


def test_queue_persists_through_the_project_file_and_running_restarts(stub, tmp_path):
    client, queue = stub
    client.ready()
    a = queue.enqueue("s1", params())
    client.done()
    b = queue.enqueue("s2", params(seed=5))  # now running
    c = queue.enqueue("s3", params())
    client.progress(2, 4)
    data = ProjectData(queue=queue.snapshot())
    saved = data.model_dump_json()

    client2 = StubClient()
    queue2 = JobQueue(client2, tmp_path / "media")
    queue2.restore_queue(ProjectData.model_validate_json(saved).queue)
    assert [(j.id, j.state) for j in queue2.jobs] == [
        (a.id, JobState.DONE), (b.id, JobState.QUEUED), (c.id, JobState.QUEUED)]
    assert queue2.jobs[1].progress == 0 and queue2.jobs[1].params.seed == 5
    client2.ready()
    assert client2.submitted[0].job_id == b.id  # the interrupted job runs first, from the start


def test_estimates_come_from_the_worker_calibration(stub):
    client, queue = stub
    job = queue.enqueue("s1", params(steps=20, duration=at_fps(2.0)))
    assert queue.estimate(job) is None  # no calibration yet
    client.ready(sec_per_step=0.05, peak_memory_bytes=123 << 20)
    seconds, memory = queue.estimate(job)
    assert seconds == pytest.approx(0.05 * 20) and memory == 123 << 20
    long = Job(shot_id="s", params=params(steps=20, duration=at_fps(4.0)))  # 32 frames: 16 + 12 + 12 → 3 clips
    assert queue.estimate(long)[0] == pytest.approx(0.05 * 20 * 3)
    v2v = Job(shot_id="s", params=params(steps=20, mode=Mode.VIDEO_TO_VIDEO, strength=0.5, source_video="a.npy"))
    assert queue.estimate(v2v)[0] == pytest.approx(0.05 * 20)  # all 20 steps, over the shortened schedule


def test_estimates_learn_from_finished_jobs(stub):
    client, queue = stub
    client.ready(sec_per_step=0.05)
    first = queue.enqueue("s1", params(steps=20))
    waiting = queue.enqueue("s2", params(steps=10))
    assert queue.estimate(waiting)[0] == pytest.approx(0.5)
    client.progress(20, 20)
    client.done(timings={"generate_s": 4.0})  # this machine is slower now: 0.2 s per step
    assert first.state == JobState.DONE
    assert queue.estimate(waiting)[0] == pytest.approx(2.0)
    client.ready(sec_per_step=0.05)  # a new worker starts from its own calibration again
    assert queue.estimate(waiting)[0] == pytest.approx(0.5)


def test_drained_waits_for_every_job(stub):
    client, queue = stub

    async def scenario():
        queue.enqueue("s1", params())
        queue.enqueue("s2", params())
        client.ready()
        waiter = asyncio.ensure_future(queue.drained())
        await asyncio.sleep(0)
        assert not waiter.done()
        client.done()
        await asyncio.sleep(0)
        assert not waiter.done()
        client.error("internal", "boom")
        await asyncio.wait_for(waiter, 1)

    asyncio.run(scenario())


# ---- with a real worker ------------------------------------------------------------------------


def test_queue_survives_a_killed_worker(tmp_path):
    loop = asyncio.new_event_loop()
    client = EngineClient(tiny_options())
    queue = JobQueue(client, tmp_path / "media")
    try:
        run(loop, client.start())
        long = queue.enqueue("s1", params(steps=1000))
        nxt = queue.enqueue("s2", params(steps=3))
        skipped = queue.enqueue("s3", params(steps=3))
        queue.cancel(skipped.id)

        async def until(pred, timeout=60):
            t_end = time.monotonic() + timeout
            while not pred():
                assert time.monotonic() < t_end
                await asyncio.sleep(0.01)

        run(loop, until(lambda: long.progress > 0))
        first = client.pid
        os.kill(first, signal.SIGKILL)
        # retried once by itself on the restarted worker...
        run(loop, until(lambda: client.pid not in (None, first) and long.state == JobState.RUNNING and long.progress > 0))
        os.kill(client.pid, signal.SIGKILL)  # ...and a second crash fails it with the reason
        run(loop, until(lambda: long.state == JobState.FAILED, timeout=5))
        assert long.error == "worker died (exit code -9)"
        run(loop, queue.drained())
        assert nxt.state == JobState.DONE and skipped.state == JobState.CANCELLED
        media = tmp_path / "media"
        assert sorted(p.name for p in media.iterdir()) == sorted(
            f"s2-{nxt.id}{ext}" for ext in (".npy", ".mp4", ".png", ".json"))
        assert leftovers(media) == []
        assert client.state == EngineState.READY
    finally:
        run(loop, client.stop())
        loop.close()


def test_take_from_a_finished_clip_is_project_relative(tmp_path):
    from contract import protocol as P
    from studio.engine.takes import take_from_clip

    media = tmp_path / "media"
    job = Job(shot_id="s1", params=params(seed=9))
    files = {role: str(media / f"s1-{job.id}{ext}") for role, ext in P.CLIP_FILES.items()}
    meta = {"seed": 9, "model_id": "toy", "checkpoint_hash": "ab", "fps": 8.0, "frames": 16, "width": 32,
            "height": 32, "timings": {"generate_s": 1.5}, "created": 123.0}
    take = take_from_clip(tmp_path, job, files, meta)
    assert take.clip == f"media/s1-{job.id}.mp4" and take.frames_file == f"media/s1-{job.id}.npy"
    assert take.poster == f"media/s1-{job.id}.png"
    assert take.params == job.params and take.params is not job.params
    assert (take.model_id, take.frames, take.timings) == ("toy", 16, {"generate_s": 1.5})
    with pytest.raises(StudioError) as exc:
        take_from_clip(tmp_path / "elsewhere", job, files, meta)
    assert exc.value.kind == "media_outside_project"


def test_add_take_puts_the_clip_on_the_timeline_in_shot_order(tmp_path):
    from studio.project.choice import add_take
    from studio.project.schema import Shot, ShotStatus, Take

    shots = [Shot(params=params(prompt=f"shot {i}")) for i in range(3)]
    project = ProjectData(shots=shots)
    for i in (2, 0):
        take = Take(clip=f"media/{i}.mp4", params=shots[i].params, frames=16, fps=8.0)
        add_take(project, shots[i], take, choose=True)
    assert [c.shot_id for c in project.timeline.clips] == [shots[0].id, shots[2].id]
    assert shots[0].status == ShotStatus.READY and shots[1].status == ShotStatus.DRAFT
    project.timeline.clips[0].in_point = at_fps(1.0)
    again = Take(clip="media/0b.mp4", params=shots[0].params, frames=16, fps=8.0)
    add_take(project, shots[0], again, choose=True)
    clip = project.timeline.clips[0]
    assert clip.take_id == again.id and clip.in_point == at_fps(1.0) and len(shots[0].takes) == 2


def test_shot_request_uses_the_previous_take_for_extend_and_continuity(tmp_path):
    import cv2

    from studio.engine.takes import shot_request
    from studio.project.choice import add_take
    from studio.project.schema import Shot, Take

    (tmp_path / "media").mkdir()
    frames = np.zeros((16, 32, 32, 3), np.uint8)
    frames[-1, ..., 2] = 200  # the last frame is blue
    np.save(tmp_path / "media" / "a.npy", frames)
    first = Shot(params=params())
    second = Shot(params=params(continue_from_previous=True))
    third = Shot(params=params(mode=Mode.EXTEND))
    project = ProjectData(shots=[first, second, third])
    with pytest.raises(StudioError, match="needs a chosen take"):
        shot_request(project, tmp_path, second.id, second.params, 8.0)
    add_take(project, first, Take(clip="media/a.mp4", frames_file="media/a.npy", params=first.params, fps=8.0), choose=True)
    req = shot_request(project, tmp_path, second.id, second.params, 8.0)
    assert req["mode"] == "i2v"
    png = cv2.cvtColor(cv2.imread(req["image"]), cv2.COLOR_BGR2RGB)
    assert png[..., 2].min() == 200 and png[..., 0].max() == 0
    with pytest.raises(StudioError, match="extend needs"):
        shot_request(project, tmp_path, third.id, third.params, 8.0)
