"""Several takes of a shot (studio.engine.variations) and the studio's Generate Takes: an unlocked seed
rolls for each take, a locked one counts up from itself, and a request that would repeat a take
says so."""

from __future__ import annotations

import random

from studio.engine.variations import MAX_TAKES, repeated_take, take_params
from studio.project.schema import GenParams, Shot, Take


def test_unlocked_seeds_roll_and_locked_ones_count_up():
    assert GenParams().seed_locked is False  # the default: every new take is a new picture
    rolled = take_params(GenParams(seed=7), 4, random.Random(1))
    assert len({p.seed for p in rolled}) == 4
    locked = take_params(GenParams(seed=7, seed_locked=True), 3)
    assert [p.seed for p in locked] == [7, 8, 9]
    assert len(take_params(GenParams(), 10_000)) == MAX_TAKES and len(take_params(GenParams(), 0)) == 1


def test_a_locked_seed_with_nothing_changed_repeats_a_take():
    params = GenParams(prompt="a red ball", seed=5, seed_locked=True)
    take = Take(clip="media/a.mp4", params=params.model_copy(), fps=8.0)
    shot = Shot(params=params, takes=[take])
    assert repeated_take(shot, params) is take
    assert repeated_take(shot, params.model_copy(update={"seed_locked": False})) is take  # the lock is no setting
    assert repeated_take(shot, params.model_copy(update={"seed": 6})) is None
    assert repeated_take(shot, params.model_copy(update={"steps": 30})) is None


def test_generate_takes_queues_one_job_per_take_and_warns_about_repeats(qtbot, tmp_path):
    from engine_helpers import StubClient

    from studio.engine.queue import JobQueue
    from studio.project.document import ProjectDocument
    from studio.project.schema import ProjectData
    from studio.ui.generation import GenerationController

    locked = GenParams(prompt="a red ball", seed=5, seed_locked=True)
    shots = [Shot(params=GenParams(prompt="a blue box")), Shot(params=locked,
                                                                 takes=[Take(clip="media/a.mp4", params=locked, fps=8.0)])]
    shots[1].chosen_take = shots[1].takes[0].id
    doc = ProjectDocument(ProjectData(shots=shots))
    assert doc.save_as(tmp_path / "p.vstudio") is None
    client = StubClient()
    ctl = GenerationController(doc, JobQueue(client, tmp_path / "media"))
    said = []
    ctl.message.connect(said.append)
    ctl.generate([shots[0].id], takes=3)
    jobs = ctl.queue.jobs
    assert len(jobs) == 3 and len({j.params.seed for j in jobs}) == 3 and "Queued 3 takes of 1 shot" in said[-1]
    ctl.generate([shots[1].id])
    assert "shot 2: the seed is locked and nothing changed, so this repeats a take" in said[-1]
