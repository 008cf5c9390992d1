"""The shipped latent model (v2) beside the default: it loads with its autoencoder, makes native 16:9,
9:16 and 1:1 clips, and follows what it has learned so far on held-out prompts (floors below its card;
v2 is still training and is not the default)."""

import numpy as np
import pytest

from contract.prompt_parser import scene_prompt
from model_runtime import autoencoder as aem
from model_runtime import checkpoint as ckpt
from model_runtime import toyworld as tw
from model_runtime.evaluate import evaluate_clips
from model_runtime.pipeline import GenerationRequest, Generator

V2 = ckpt.ASSETS / "vstudio-toy-v2.safetensors"


@pytest.fixture(scope="module")
def gen():
    assert V2.exists(), "the v2 model is missing from assets/models/"
    return Generator(checkpoint=str(V2), device="cpu")


def test_v2_ships_beside_the_default_with_its_autoencoder(gen):
    for path in (V2, aem.default_checkpoint()):
        assert path.stat().st_size <= 25 * 1024 * 1024
        assert path.with_suffix(".json").exists()
    assert V2.with_suffix(".md").exists()  # the model card
    assert gen.info["latent"] and gen.info["autoencoder_hash"] == ckpt.file_hash(aem.default_checkpoint())
    assert ckpt.default_checkpoint().stem == "vstudio-toy"  # v1 stays the default until v2 is as good


def test_v2_makes_native_frames_at_every_aspect(gen):
    assert gen.info["aspects"] == {"16:9": [144, 256], "9:16": [256, 144], "1:1": [192, 192]}
    for aspect, (h, w) in gen.info["aspects"].items():
        clip = gen.generate(GenerationRequest(prompt="medium shot of a red ball at sunset", seed=1, steps=10,
                                              aspect=aspect))
        assert clip.shape == (16, h, w, 3) and clip.dtype == np.uint8


def test_v2_follows_heldout_prompts_at_16_9(gen):
    rng = np.random.default_rng(2026)
    scenes = [tw.sample_scene(rng, "heldout") for _ in range(8)]
    reqs = [GenerationRequest(prompt=scene_prompt(s), seed=int(rng.integers(2**31)), steps=20, aspect="16:9")
            for s in scenes]
    res = evaluate_clips(gen.generate_batch(reqs), scenes)["attributes"]
    got = {a: res[a]["adherence"] for a in ("background", "color", "size", "motion", "camera")}
    # floors well below what the released v2 scores here (1.0, 1.0, 0.875, 0.75, 0.75), far above a
    # model whose planner is switched off (motion ~0.14, size ~0.28)
    assert got["background"] >= 0.75 and got["color"] >= 0.6, got
    assert got["size"] >= 0.6 and got["motion"] >= 0.5 and got["camera"] >= 0.5, got
