"""The shipped checkpoint: it loads by default and its clips follow the prompt where the toy world
makes it easiest to check (the background, a 95%+ attribute on the held-out split)."""

import numpy as np
import pytest

from contract import vocabulary as vocab
from contract.prompt_parser import scene_prompt
from model_runtime import checkpoint as ckpt
from model_runtime import toyworld as tw
from model_runtime.evaluate import measure_clip
from model_runtime.pipeline import GenerationRequest, Generator


@pytest.fixture(scope="module")
def gen():
    assert ckpt.default_checkpoint().exists(), "the bundled model is missing from assets/models/"
    return Generator(device="cpu")


def test_bundled_model_is_the_default_and_small(gen):
    weights, config = ckpt.paths_for(ckpt.default_checkpoint())
    assert weights.stat().st_size <= 25 * 1024 * 1024
    assert gen.info["model_id"] == ckpt.DEFAULT_NAME
    assert gen.info["checkpoint_hash"] == ckpt.file_hash(weights)
    assert config.with_suffix(".md").exists()  # the model card


@pytest.mark.parametrize("background,prompt", [
    (vocab.BACKGROUNDS.index("night"), "medium shot of a yellow ball standing still at night, camera static"),
    (vocab.BACKGROUNDS.index("grass"), "close-up shot of a red box moving left on grass, camera static"),
    (vocab.BACKGROUNDS.index("sunset"), "远景，一个蓝色的星星静止，日落，镜头固定"),
])
def test_clip_background_matches_its_prompt(gen, background, prompt):
    clip = gen.generate(GenerationRequest(prompt=prompt, seed=1, steps=20))
    assert clip.shape == (gen.cfg.frames, gen.cfg.size, gen.cfg.size, 3) and clip.dtype == np.uint8
    assert measure_clip(clip)["background"] == background


def test_bundled_model_follows_heldout_prompts(gen):
    """The quality gate: on held-out triples (never rendered for training) the model's clips meet
    floors for size, motion and camera, not only background. Measured on the card's 64 clips the model
    is at 88 / 95 / 94 %; a model whose planner is replaced by zeros falls to 28 % size and 14 % motion."""
    from model_runtime.evaluate import evaluate_clips

    rng = np.random.default_rng(2026)
    scenes = [tw.sample_scene(rng, "heldout") for _ in range(16)]
    reqs = [GenerationRequest(prompt=scene_prompt(s), seed=int(rng.integers(2**31)), steps=20,
                              guidance=float(gen.cfg.extra.get("guidance", 3.0))) for s in scenes]
    clips = gen.generate_batch(reqs[:8]) + gen.generate_batch(reqs[8:])
    res = evaluate_clips(clips, scenes)["attributes"]
    floors = {"background": 0.9, "size": 0.7, "motion": 0.7, "camera": 0.7}
    got = {a: res[a]["adherence"] for a in floors}
    assert all(res[a]["scored"] >= 8 for a in floors), res
    assert all(got[a] >= f for a, f in floors.items()), got


def test_long_takes_have_no_jump_at_their_chain_seams(gen):
    """A 40-frame take is three clips; every part plans its window of the whole take and reads the
    take's one noise field, so the seams (frames 16 and 28) are no bigger jumps than the clip's own
    steps. Before (each part re-planned the clip from its start): 8 dB below the median, up to 11."""
    from model_runtime.picture_quality import chain_seams, seam_drop

    for prompt, seed in (("medium shot of a red ball moving right on grass, camera pans left", 3),
                         ("close-up shot of a yellow star moving up at night, camera zooms in", 5)):
        clip = gen.generate(GenerationRequest(prompt=prompt, seed=seed, frames=40))
        drops = seam_drop(clip, chain_seams(40, gen.cfg.frames, 4))
        assert len(drops) == 2 and max(drops) < 6.0, drops


@pytest.mark.parametrize("prompt,seed,limit", [
    ("wide shot of a red lantern moving up at night, camera tilts up", 11, 4.0),  # before anchoring: 6.2 dB
    ("close-up shot of a yellow star moving up at night, camera zooms in", 5, 11.0),  # before: 12.8 dB
])
def test_a_continued_shot_goes_on_from_the_frame_it_was_given(gen, prompt, seed, limit):
    """Continuity (image-to-video from the previous take's last frame): the plan starts the subject
    where that frame has it, so the continued shot's first step is a smaller jump."""
    from model_runtime.picture_quality import seam_drop

    a = gen.generate(GenerationRequest(prompt=prompt, seed=seed))
    b = gen.generate(GenerationRequest(prompt=prompt.replace("moving up", "standing still"), seed=seed + 1,
                                       mode="i2v", image=a[-1]))
    assert seam_drop(np.concatenate([a[-1:], b[1:]]), [1])[0] < limit
