"""The latent U-ViT: one model for 16:9, 9:16 and 1:1 frames (aspect buckets), positions that mean a
place in the frame at every aspect, and the pipeline around it (native size per aspect, previews from
latents, chains in latent space, conditioning through the autoencoder)."""

import json

import numpy as np
import pytest
import torch

from model_runtime import autoencoder as aem
from model_runtime.errors import RuntimeUserError
from model_runtime.pipeline import GenerationRequest, Generator
from model_runtime.uvit import UViT, UViTConfig, sincos_positions, token_places
from tests.conftest import ROOT


def tiny_latent_config() -> dict:
    cfg = json.loads((ROOT / "configs" / "toy_latent.json").read_text())["model"]
    cfg.update(frames=8, width=48, depth=1, heads=2, text_width=16, text_layers=1)
    return cfg


@pytest.fixture(scope="module")
def gen():
    return Generator(random_init=True, config=tiny_latent_config(), device="cpu")


def test_a_place_in_the_frame_has_one_code_at_every_aspect():
    wide = sincos_positions(token_places((1, 9, 16), 9), 48).view(9, 16, 48)
    narrow = sincos_positions(token_places((1, 9, 10), 9), 48).view(9, 10, 48)
    assert torch.allclose(wide[:, 3:13], narrow, atol=1e-6)  # the same columns, 3 tokens in from each side
    assert not torch.allclose(wide[:, :10], narrow, atol=1e-3)


def test_one_network_denoises_every_aspect():
    cfg = UViTConfig.from_dict(tiny_latent_config())
    net = UViT(cfg).eval()
    ctx = torch.zeros(1, cfg.text_len, cfg.text_width)
    for aspect in cfg.aspect_names:
        h, w = cfg.frame_shape(aspect)
        x = torch.randn(1, cfg.channels, cfg.frames, h, w)
        maps = torch.zeros(1, 4, cfg.frames, h, w)
        assert net(x, torch.tensor([500.0]), ctx, maps).shape == x.shape


def test_config_checks():
    base = tiny_latent_config()
    with pytest.raises(ValueError, match="sincos"):
        UViTConfig.from_dict({**base, "pos_embed": "learned"})
    with pytest.raises(ValueError, match="multiples of the patch"):
        UViTConfig.from_dict({**base, "aspects": {"16:9": [18, 31]}})
    with pytest.raises(ValueError, match="autoencoder"):
        UViTConfig.from_dict({**base, "autoencoder": ""})


def test_native_size_per_aspect_and_generation_at_each(gen):
    assert gen.info["aspects"] == {"16:9": [144, 256], "9:16": [256, 144], "1:1": [192, 192]}
    assert (gen.info["height"], gen.info["width"]) == (144, 256)  # 16:9 is the default
    for aspect, (h, w) in gen.info["aspects"].items():
        previews = []
        clip = gen.generate(GenerationRequest(prompt="wide shot of a red ball", steps=2, aspect=aspect),
                            callback=lambda s, n, p, seen=previews: seen.append(p.shape) and False)
        assert clip.shape == (8, h, w, 3) and clip.dtype == np.uint8
        assert previews == [(8, h // 8, w // 8, 3)] * 2  # cheap previews at latent size, every step
    assert gen.generate(GenerationRequest(prompt="x", steps=1)).shape == (8, 144, 256, 3)


def test_unknown_aspect_is_a_one_line_error(gen):
    with pytest.raises(RuntimeUserError, match="no '4:3' frames"):
        gen.generate(GenerationRequest(prompt="x", steps=1, aspect="4:3"))


def test_long_take_chains_in_latent_space(gen):
    clip = gen.generate(GenerationRequest(prompt="a ball moving left", steps=1, frames=20, aspect="1:1"))
    assert clip.shape == (20, 192, 192, 3)


def test_image_to_video_opens_on_the_image_through_the_autoencoder(gen):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (144, 256, 3), dtype=np.uint8)
    clip = gen.generate(GenerationRequest(prompt="x", steps=2, mode="i2v", image=image))
    expected = aem.round_trip(gen.ae, image[None])[0]
    assert np.abs(clip[0].astype(int) - expected).max() <= 2


def test_latent_training_end_to_end(tmp_path):
    """Cache a few clips with a (small, untrained) autoencoder, train a tiny latent model on them; the
    run folder holds the same autoencoder beside its checkpoint, so the checkpoint generates as is."""
    from model_runtime import latent_cache
    from model_runtime import train as tr

    torch.manual_seed(0)
    ae = aem.VideoAutoencoder(aem.AEConfig(latent_channels=8, enc_channels=(8, 8, 8, 8), dec_channels=(8, 8, 8, 8)))
    aem.save(ae, tmp_path / "ae" / "small-ae")
    ae, info = aem.load(tmp_path / "ae" / "small-ae")
    latent_cache.build(tmp_path / "lat", 12, ae, aem.NATIVE_HEIGHTS, frames=8, shard=2, ae_path=info["path"], quiet=True)
    assert {p.name.split("-")[0] for p in (tmp_path / "lat").glob("*.safetensors")} == {"16x9", "9x16", "1x1"}
    cfg = {"model": {**tiny_latent_config(), "autoencoder": "small-ae"},
           "train": {"batch": 2, "warmup": 1, "workers": 0, "checkpoint_minutes": 100.0}}
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    res = tr.train(str(tmp_path / "cfg.json"), str(tmp_path / "run"), max_steps=3, quiet=True,
                   latents=str(tmp_path / "lat"))
    assert res["step"] == 3
    assert (tmp_path / "run" / "small-ae.safetensors").read_bytes() == (tmp_path / "ae" / "small-ae.safetensors").read_bytes()
    gen = Generator(checkpoint=str(tmp_path / "run" / "ema.safetensors"), device="cpu")
    assert gen.generate(GenerationRequest(prompt="a red ball", steps=1, aspect="9:16")).shape == (8, 256, 144, 3)
    with pytest.raises(RuntimeUserError, match="latent cache"):
        tr.train(str(tmp_path / "cfg.json"), str(tmp_path / "run2"), max_steps=1, quiet=True)


def test_a_latent_checkpoint_names_its_autoencoder_beside_it_and_nowhere_else(tmp_path):
    from model_runtime import checkpoint as ckpt
    from model_runtime.errors import CheckpointError
    from model_runtime.model import VideoDiffusionModel

    model = VideoDiffusionModel(UViTConfig.from_dict(tiny_latent_config()))
    ckpt.save(model, tmp_path / "m")
    with pytest.raises(CheckpointError, match="autoencoder weights not found"):
        Generator(checkpoint=str(tmp_path / "m.safetensors"), device="cpu")
    for bad in ("../evil", "/etc/passwd", "sub/ae"):
        model.cfg.autoencoder = bad
        ckpt.save(model, tmp_path / "bad")
        with pytest.raises(CheckpointError, match="bad autoencoder name"):
            Generator(checkpoint=str(tmp_path / "bad.safetensors"), device="cpu")
