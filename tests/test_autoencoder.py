"""The video autoencoder: shapes at every aspect, normalised latents, the preview map, checkpoints
that fail with one line, and the round-trip CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from model_runtime import autoencoder as aem
from model_runtime import toyworld as tw
from model_runtime.errors import CheckpointError, RuntimeUserError
from tests.conftest import ROOT

SMALL = aem.AEConfig(latent_channels=4, enc_channels=(8, 8, 8, 8), dec_channels=(8, 8, 8, 8))


def _clip(aspect="16:9", height=72, frames=3):
    return tw.render(tw.Scene(0, 0, 0, 2, 1, 2), 1, size=height, frames=frames, aspect=aspect)


@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1"])
def test_latents_are_8x_smaller_per_side_and_frame_wise(aspect):
    torch.manual_seed(0)
    ae = aem.VideoAutoencoder(SMALL).eval()
    clip = _clip(aspect, 72 if aspect != "9:16" else 128)
    x = aem.to_model_space(clip)
    with torch.no_grad():
        z = ae.encode(x)
        assert z.shape == (1, 4, 3, clip.shape[1] // 8, clip.shape[2] // 8)
        # frame-wise: a frame's latent does not depend on the other frames (i2v / extend stay exact)
        assert torch.allclose(ae.encode(x[:, :, 1:2]), z[:, :, 1:2], atol=1e-5)
        assert ae.decode(z).shape == x.shape
        assert ae.preview_rgb(z).shape == (1, 3, 3, clip.shape[1] // 8, clip.shape[2] // 8)


def test_sides_that_are_not_multiples_of_8_are_a_clear_error():
    ae = aem.VideoAutoencoder(SMALL)
    with pytest.raises(RuntimeUserError, match="multiples of 8"):
        ae.encode(torch.zeros(1, 3, 1, 20, 32))


def test_normalisation_gives_unit_latents_and_decoding_undoes_it():
    torch.manual_seed(0)
    ae = aem.VideoAutoencoder(SMALL).eval()
    x = aem.to_model_space(_clip())
    raw = ae.encode_raw(x)
    aem.fit_normalisation(ae, x)
    z = ae.encode(x)
    assert torch.allclose(z.mean(dim=(0, 2, 3, 4)), torch.zeros(4), atol=1e-4)
    assert torch.allclose(z.std(dim=(0, 2, 3, 4)), torch.ones(4), atol=1e-3)
    with torch.no_grad():
        assert torch.allclose(ae.decode(z), ae.decode_raw(raw), atol=1e-4)


def test_preview_map_is_fitted_to_the_decoder():
    torch.manual_seed(0)
    ae = aem.VideoAutoencoder(SMALL).eval()
    for p in ae.decoder.parameters():  # a decoder with an output worth fitting
        torch.nn.init.normal_(p, std=0.2)
    x = aem.to_model_space(_clip())
    with torch.no_grad():
        before = ae.preview_rgb(ae.encode(x))
    err = aem.fit_preview(ae, x)
    with torch.no_grad():
        target = torch.nn.functional.avg_pool3d(ae.decode(ae.encode(x)), (1, 8, 8)).clamp(-1, 1)
        after = ae.preview_rgb(ae.encode(x))
    assert (after - target).abs().mean() < (before - target).abs().mean()
    assert err < float((before - target).pow(2).mean().sqrt())


def test_checkpoint_round_trip_and_one_line_faults(tmp_path):
    torch.manual_seed(0)
    ae = aem.VideoAutoencoder(SMALL).eval()
    aem.fit_normalisation(ae, aem.to_model_space(_clip()))
    aem.save(ae, tmp_path / "ae")
    back, info = aem.load(tmp_path / "ae")
    assert back.cfg.scale == ae.cfg.scale and info["model_id"] == "ae"
    clip = _clip()
    assert np.array_equal(aem.round_trip(back, clip, autocast=False), aem.round_trip(ae, clip, autocast=False))
    weights = tmp_path / "ae.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="hash does not match"):
        aem.load(tmp_path / "ae")
    doc = json.loads((tmp_path / "ae.json").read_text())
    doc["config"]["latent_channels"] = 0
    (tmp_path / "ae.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="bad autoencoder config"):
        aem.load(tmp_path / "ae")
    with pytest.raises(CheckpointError, match="not found"):
        aem.load(tmp_path / "missing")


def test_round_trip_cli(tmp_path):
    torch.manual_seed(0)
    aem.save(aem.VideoAutoencoder(SMALL), tmp_path / "ae")
    np.save(tmp_path / "clip.npy", _clip())
    cmd = [sys.executable, "-m", "model_runtime.autoencoder", "--checkpoint", str(tmp_path / "ae"), "--device", "cpu"]
    ok = subprocess.run(cmd + ["--in", str(tmp_path / "clip.npy"), "--out", str(tmp_path / "rec.npy")],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    rec = np.load(tmp_path / "rec.npy")
    assert rec.shape == (3, 72, 128, 3) and rec.dtype == np.uint8 and "PSNR" in ok.stdout
    np.save(tmp_path / "odd.npy", np.zeros((2, 30, 40, 3), np.uint8))
    for args, msg in ((["--in", str(tmp_path / "odd.npy")], "multiples of 8"),
                      (["--in", str(tmp_path / "nope.npy")], "not found")):
        bad = subprocess.run(cmd + args + ["--out", str(tmp_path / "x.npy")], capture_output=True, text=True, cwd=ROOT)
        assert bad.returncode == 2 and msg in bad.stderr and "Traceback" not in bad.stderr
        assert not (tmp_path / "x.npy").exists()


def test_training_resumes_bit_for_bit_and_releases(tmp_path):
    from safetensors.torch import load_file

    from model_runtime import train_autoencoder as tae

    tr = {**tae.DEFAULTS, "batch": 4, "crop": 32, "steps": 4, "workers": 0, "checkpoint_minutes": 100.0}
    cfg = aem.AEConfig(latent_channels=4, enc_channels=(8, 8, 8, 8), dec_channels=(8, 8, 8, 8))
    tae.train(str(tmp_path / "straight"), tr, cfg, quiet=True)
    tae.train(str(tmp_path / "split"), tr, cfg, quiet=True, max_steps=2)
    res = tae.train(str(tmp_path / "split"), tr, cfg, resume=True, quiet=True)
    assert res["step"] == 4
    a = load_file(str(tmp_path / "straight" / "state" / "model.safetensors"))
    b = load_file(str(tmp_path / "split" / "state" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(RuntimeUserError, match="add --resume"):
        tae.train(str(tmp_path / "split"), tr, cfg, quiet=True)
    path = tae.release(tmp_path / "split", tmp_path / "shipped", n=6)
    ae, info = aem.load(path)
    assert len(ae.cfg.scale) == 4 and info["meta"]["step"] == 4
    z = ae.encode(aem.to_model_space(_clip()))
    assert z.abs().mean() < 5  # normalised


def test_decoder_only_training_keeps_the_latents(tmp_path):
    """--freeze-encoder: the encoder (and so every cached latent) stays as it was; the decoder learns."""
    from safetensors.torch import load_file

    from model_runtime import train_autoencoder as tae

    tr = {**tae.DEFAULTS, "batch": 4, "crop": 32, "steps": 3, "workers": 0, "checkpoint_minutes": 100.0}
    cfg = aem.AEConfig(latent_channels=4, enc_channels=(8, 8, 8, 8), dec_channels=(8, 8, 8, 8))
    tae.train(str(tmp_path / "a"), tr, cfg, quiet=True)
    tae.train(str(tmp_path / "b"), {**tr, "freeze_encoder": True}, cfg, quiet=True, init=str(tmp_path / "a"))
    a = load_file(str(tmp_path / "a" / "state" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "state" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("encoder."))
    assert not all(torch.equal(a[k], b[k]) for k in a if k.startswith("decoder."))
