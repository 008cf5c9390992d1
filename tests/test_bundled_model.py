"""The shipped checkpoint: it loads by default and its clips follow the prompt where the toy world
makes it easiest to check (the background, a 95%+ attribute on the held-out split)."""

import numpy as np
import pytest

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
    (tw.BACKGROUNDS.index("night"), "medium shot of a yellow ball standing still at night, camera static"),
    (tw.BACKGROUNDS.index("grass"), "close-up shot of a red box moving left on grass, camera static"),
    (tw.BACKGROUNDS.index("sunset"), "远景，一个蓝色的星星静止，日落，镜头固定"),
])
def test_clip_background_matches_its_prompt(gen, background, prompt):
    clip = gen.generate(GenerationRequest(prompt=prompt, seed=1, steps=20))
    assert clip.shape == (gen.cfg.frames, gen.cfg.size, gen.cfg.size, 3) and clip.dtype == np.uint8
    assert measure_clip(clip)["background"] == background
