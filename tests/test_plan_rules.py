"""The studio plans a job (its estimate, its progress bar) with the same rules the pipeline runs: for
every mode, sampler, step count, strength and length, the parts and sampler steps the studio
plans are exactly the ones the pipeline executes (counted at the sampler), and the progress total
the pipeline reports is their sum."""

import itertools

import numpy as np
import pytest

from contract.protocol import WorkerReady
from contract.rules import SAMPLERS
from model_runtime import pipeline
from model_runtime.pipeline import GenerationRequest, Generator
from studio.engine.estimates import planned_steps
from studio.project.schema import FrameTime, GenParams, Mode

TINY = dict(frames=8, size=16, patch=(4, 8, 8), width=32, depth=2, heads=2, text_len=8, text_width=16)
K = 3  # context frames an extend clip re-uses


@pytest.fixture(scope="module")
def gen():
    return Generator(random_init=True, config=TINY, device="cpu", autocast=False)


@pytest.fixture
def executed(monkeypatch):
    """Sampler steps of every sampler run (= every part), counted where the model is called."""
    runs: list[int] = []
    real = pipeline.sample

    def counting(eps_fn, *args, **kwargs):
        runs.append(0)

        def counted(x, t):
            runs[-1] += 1
            return eps_fn(x, t)

        return real(counted, *args, **kwargs)

    monkeypatch.setattr(pipeline, "sample", counting)
    return runs


def _inputs(mode: str):
    rng = np.random.default_rng(0)
    if mode == "i2v":
        return {"image": rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)}
    if mode in ("extend", "v2v"):
        return {"video": rng.integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)}
    return {}


MODES = ("t2v", "i2v", "extend", "v2v")
# every sampler at one part, two (extend: three) and three; one step at a chain of two
GRID = [*itertools.product(MODES, SAMPLERS, (3,), (3, 9, 20)), *itertools.product(MODES, ("dpmpp_2m",), (1,), (9,))]
CASES = [(mode, sampler, steps, strength, frames) for mode, sampler, steps, frames in GRID
         for strength in ((0.6,) if mode != "v2v" else (0.001, 0.6, 1.0))]


@pytest.mark.parametrize(("mode", "sampler", "steps", "strength", "frames"), CASES)
def test_planned_parts_and_steps_are_the_executed_ones(gen, executed, mode, sampler, steps, strength, frames):
    # ddpm's ancestral steps are integer timesteps: from strength 0.001 only two remain
    req = GenerationRequest(prompt="a red ball", seed=1, steps=steps, sampler=sampler, mode=mode, frames=frames,
                            strength=strength, extend_frames=K, **_inputs(mode))
    totals: list[int] = []
    out = gen.generate(req, callback=lambda step, total, preview: totals.append(total) and False)
    fps = gen.info["fps"]
    ready = WorkerReady(protocol_version=1, model_id="tiny", checkpoint_hash="", device="cpu", memory_bytes=0,
                        frames=gen.info["frames"], width=16, height=16, fps=fps, extend_frames=K)
    params = GenParams(prompt="a red ball", duration=FrameTime(value=frames, rate=fps), steps=steps, sampler=sampler,
                       mode=Mode(mode), strength=strength)
    plan = planned_steps(params, ready)
    assert plan == executed, (plan, executed)
    assert set(totals) == {sum(executed)} and len(totals) == sum(executed)
    assert out.shape[0] == frames


def test_the_cases_cover_chains_and_shortened_schedules():
    # the grid above reaches every rule: one part and several, and v2v's shortened first part
    from contract.rules import plan_steps

    plans = [plan_steps(m, f, s, st, 8, K) for m, _, s, st, f in CASES]
    assert {len(p) for p in plans} >= {1, 2, 4}
    assert any(p[0] < p[-1] for p in plans)  # v2v at strength 0.001: 2 steps, then full chain parts
