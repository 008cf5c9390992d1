"""Gate: no path that makes training data ever renders a held-out (subject, color, background)
triple (TOYWORLD.md), so the held-out split measures composition, not recall."""

import numpy as np
import pytest

from contract import vocabulary as vocab
from contract.aspects import frame_width
from model_runtime import latent_cache
from model_runtime import toyworld as tw
from model_runtime import train as tr
from model_runtime import train_autoencoder as tae
from tests.conftest import ROOT


@pytest.fixture
def rendered(monkeypatch):
    """Every scene the code under test renders (the renderer stubbed with blank frames of the right size)."""
    seen: list[tw.Scene] = []

    def spy(scene, seed, size=32, frames=16, aspect="1:1"):
        seen.append(scene)
        return np.zeros((frames, size, frame_width(size, aspect), 3), np.uint8)

    monkeypatch.setattr(tw, "render", spy)
    return seen


def _check(scenes: list[tw.Scene], at_least: int) -> None:
    triples = {(s.subject, s.color, s.background) for s in scenes}
    assert not [t for t in triples if tw.is_heldout(*t)]
    # the panda on grass is held out whatever color the prompt names (its color never shows)
    assert not [s for s in scenes if s.subject == vocab.PANDA and s.background == vocab.BACKGROUNDS.index("grass")]
    assert len(triples) >= at_least  # and the loader does draw broadly


def test_heldout_rule_holds_out_the_panda_on_grass_in_every_color():
    grass = vocab.BACKGROUNDS.index("grass")
    assert all(tw.is_heldout(vocab.PANDA, c, grass) for c in range(len(vocab.COLORS)))
    assert not any(tw.is_heldout(vocab.PANDA, c, b) for c in range(len(vocab.COLORS)) for b in range(8) if b != grass)
    assert tw.is_heldout(0, 0, 3) and not tw.is_heldout(0, 0, 2)


def test_pixel_model_loader_never_draws_a_heldout_triple(rendered):
    cfg, train = tr.load_config(str(ROOT / "configs" / "tiny_test.json"))
    data = tr.ToyClips(cfg, {**train, "batch": 100}, 0, 0)
    for step in range(30):
        data.batch_for(step)
    assert len(rendered) == 3000
    _check(rendered, 250)


def test_autoencoder_crops_never_come_from_a_heldout_triple(rendered):
    for step in range(40):
        tae.training_crops(np.random.default_rng([0, step, 0]), 64, 32)
    _check(rendered, 250)


def test_latent_cache_never_holds_a_heldout_triple():
    specs = [latent_cache.clip_spec(0, i) for i in range(3000)]
    _check([scene for _, scene, _ in specs], 250)
    aspects = [a for a, _, _ in specs]
    assert set(aspects) == set(latent_cache.ASPECT_WEIGHTS)
