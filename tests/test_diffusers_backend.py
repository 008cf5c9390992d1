"""The diffusers backend (model_runtime.backends) on tiny random-weight Wan and LTX-Video pipelines built
here from small configs (tests/diffusers_tiny.py), saved as safetensors folders and loaded back only
through the backend."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

# first: importing the backend sets the Hugging Face offline switches, before diffusers is imported
from model_runtime.backends import diffusers_video as dv  # isort: skip
from diffusers_tiny import build

from contract.aspects import ASPECTS
from contract.request import GenerationRequest
from model_runtime.backends import DIFFUSERS, UVIT, generator_spec
from model_runtime.backends import diffusers_preview as preview
from model_runtime.backends.folder_hash import folder_hash
from model_runtime.errors import RuntimeUserError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Toy models on a shared 2-core machine: a second thread only waits for the first."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name in ("wan", "wan_i2v", "ltx"):
        out[name] = build(name, root / name)
    return out


@pytest.fixture(scope="module")
def loaded(folders):
    """Every folder loaded through the backend while any network connection attempt fails (and is noted)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during a model load")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        gens = {name: dv.DiffusersGenerator(str(path), device="cpu") for name, path in folders.items()}
    gens["network_attempts"] = attempts
    return gens


def req(**kw):
    base = dict(prompt="a red ball moves left", seed=1, steps=3, guidance=5.0, frames=9, width=48, height=32)
    return GenerationRequest(**{**base, **kw})


# ---- loading, offline ------------------------------------------------------------------------------
def test_offline_switches_and_no_network(loaded):
    import huggingface_hub.constants

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert huggingface_hub.constants.HF_HUB_OFFLINE is True
    assert loaded["network_attempts"] == []


def test_generator_spec(tmp_path, folders):
    assert generator_spec(None) == UVIT
    assert generator_spec(str(tmp_path / "model.safetensors")) == UVIT
    assert generator_spec(str(folders["wan"])) == DIFFUSERS


def test_info_and_capabilities(loaded, folders):
    wan, ltx, wan_i2v = loaded["wan"], loaded["ltx"], loaded["wan_i2v"]
    c = wan.capabilities
    assert (c.family, c.modes, c.fps, c.frames, c.frame_step, c.frame_offset) == ("wan", ("t2v",), 16.0, 81, 4, 1)
    # the tiny transformer's positions reach 32 patches (rope_max_seq_len): Wan's 480×832 default is
    # shrunk to fit, same shape, rather than crash inside the model
    assert (c.size_multiple, c.max_side, c.default_size, c.chain, c.samplers) == (16, 512, (288, 512), False, ())
    assert wan_i2v.capabilities.modes == ("i2v",)
    c = ltx.capabilities
    assert (c.family, c.modes, c.fps, c.frames, c.frame_step, c.size_multiple) == ("ltx", ("t2v", "i2v"), 24.0,
                                                                                  121, 8, 32)
    info = wan.info
    assert info["model_id"] == "wan (WanPipeline)" and info["latent"] is True and info["config"] == {}
    assert (info["frames"], info["height"], info["width"], info["size"], info["fps"]) == (81, 288, 512, 288, 16.0)
    assert info["aspects"] == {a: list(wan.capabilities.size_for(a)) for a in ASPECTS}
    assert info["capabilities"] == wan.capabilities.to_dict() and info["params"] > 0
    assert len(info["checkpoint_hash"]) == 64 and info["checkpoint_hash"] != ltx.info["checkpoint_hash"]
    assert info["preview"] == "published:wan21" and ltx.info["preview"] == "fitted"
    assert wan.unknown_words("a zebra") == []


def test_refuses_random_init_and_no_folder():
    with pytest.raises(RuntimeUserError) as e:
        dv.DiffusersGenerator(None)
    assert e.value.kind == "model_folder"
    with pytest.raises(RuntimeUserError) as e:
        dv.DiffusersGenerator("/nonexistent", random_init=True)
    assert e.value.kind == "config"


# ---- generation --------------------------------------------------------------------------------------
def test_wan_shape_dtype_and_determinism(loaded):
    wan = loaded["wan"]
    a = wan.generate(req())
    assert a.shape == (9, 32, 48, 3) and a.dtype == np.uint8
    assert np.array_equal(a, wan.generate(req()))
    assert not np.array_equal(a, wan.generate(req(seed=2)))


def test_a_preview_after_every_step(loaded, monkeypatch):
    # the tiny LTX VAE's decode hardly depends on its latents, so its fitted map is nearly flat: give it
    # a strong one here to see its (packed) latents' estimate move
    g = torch.Generator().manual_seed(0)
    monkeypatch.setattr(loaded["ltx"], "projection", preview.Projection(torch.randn(8, 3, generator=g),
                                                                        torch.zeros(3), "test"))
    for name, size, grid in (("wan", (32, 48), (4, 6)), ("ltx", (32, 64), (1, 2))):
        seen = []
        gen = loaded[name]
        out = gen.generate(req(height=size[0], width=size[1], steps=4),
                           lambda step, total, p, seen=seen: seen.append((step, total, p.copy())) and False)
        assert [(s, t) for s, t, _ in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)], name
        assert all(p.dtype == np.uint8 and p.shape == (9, *grid, 3) for _, _, p in seen), name
        assert len({p.tobytes() for _, _, p in seen}) > 1, name  # the estimate moves as sampling goes
        assert out.shape == (9, *size, 3)


def test_cancel_after_the_first_step_stops_at_once(loaded):
    wan = loaded["wan"]
    calls = {"transformer": 0, "decoder": 0}
    hooks = [wan.pipe.transformer.register_forward_hook(lambda *a: calls.__setitem__("transformer", calls["transformer"] + 1)),
             wan.pipe.vae.decoder.register_forward_hook(lambda *a: calls.__setitem__("decoder", calls["decoder"] + 1))]
    seen = []
    try:
        with pytest.raises(dv.Cancelled):
            wan.generate(req(steps=5), lambda step, total, p: seen.append(step) or True)
    finally:
        for h in hooks:
            h.remove()
    # one step = conditional + unconditional pass; nothing after the cancel, and no VAE decode
    assert seen == [1] and calls == {"transformer": 2, "decoder": 0}
    assert np.array_equal(wan.generate(req(steps=2)), wan.generate(req(steps=2)))  # usable after a cancel


def test_ltx_image_to_video_from_the_same_folder(loaded):
    """The first frame is the conditioning image as this model's VAE reproduces it; text-to-video's
    first frame is not."""
    ltx = loaded["ltx"]
    yy, xx = np.mgrid[0:32, 0:64]
    image = np.stack([xx * 4, yy * 8, 255 - xx * 4], -1).clip(0, 255).astype(np.uint8)
    clip = ltx.generate(req(mode="i2v", image=image, width=64, guidance=3.0))
    t2v = ltx.generate(req(width=64, guidance=3.0))
    vae = ltx.pipe.vae
    x = torch.from_numpy(image).float().permute(2, 0, 1)[None, :, None] / 127.5 - 1
    with torch.no_grad():
        z = vae.encode(x).latent_dist.mode()
        y = vae.decode(z.repeat(1, 1, 2, 1, 1)).sample
    expected = ((y[0, :, 0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).numpy()
    assert clip.shape == (9, 32, 64, 3)
    assert np.abs(clip[0] - expected).max() <= 2
    assert np.abs(t2v[0] - expected).mean() > 10
    # an image of another size and aspect is cropped to the clip's, not refused
    assert ltx.generate(req(mode="i2v", image=np.full((50, 60, 3), 90, np.uint8), width=64)).shape == (9, 32, 64, 3)


def test_wan_image_to_video_with_its_clip_encoder(loaded):
    wan_i2v = loaded["wan_i2v"]
    red = np.zeros((32, 48, 3), np.uint8)
    red[..., 0] = 220
    blue = red[..., ::-1].copy()
    a = wan_i2v.generate(req(mode="i2v", image=red))
    assert a.shape == (9, 32, 48, 3) and a.dtype == np.uint8
    assert not np.array_equal(a, wan_i2v.generate(req(mode="i2v", image=blue)))
    with pytest.raises(RuntimeUserError, match="cannot do text-to-video"):
        wan_i2v.generate(req())


def test_a_pipeline_outside_the_table_runs_through_the_generic_adapter(loaded, folders, monkeypatch):
    """WanPipeline as if the table did not know it: its own __call__ defaults, the model's frame and size
    rules, a fitted preview map, and the very clip the Wan family makes (the same call)."""
    from model_runtime.backends import diffusers_families as families

    monkeypatch.delitem(families.PIPELINES, "WanPipeline")
    gen = dv.DiffusersGenerator(str(folders["wan"]), device="cpu")
    c = gen.capabilities
    assert (c.family, c.modes, c.frames, c.default_size, c.steps[2], c.guidance[2]) == \
        ("diffusers", ("t2v",), 81, (288, 512), 50, 5.0)
    assert (c.frame_step, c.frame_offset, c.size_multiple) == (4, 1, 16)
    assert gen.info["preview"] == "fitted"
    assert np.array_equal(gen.generate(req(steps=2)), loaded["wan"].generate(req(steps=2)))


def test_which_pipelines_the_generic_adapter_takes():
    import diffusers

    from model_runtime.backends.diffusers_families import generic_modes

    assert generic_modes(diffusers.CogVideoXPipeline) == ("t2v",)
    assert generic_modes(diffusers.CogVideoXImageToVideoPipeline) == ("i2v",)
    assert generic_modes(diffusers.WanVideoToVideoPipeline) is None  # no num_frames: it follows a source video
    assert generic_modes(diffusers.StableDiffusionPipeline) is None


# ---- requests the model cannot make ----------------------------------------------------------------
@pytest.mark.parametrize("name,kw,words", [
    ("wan", dict(frames=10), "4k+1"),
    ("wan", dict(width=40), "multiples of 16"),
    ("ltx", dict(frames=12, width=64), "8k+1"),
    ("ltx", dict(width=48), "multiples of 32"),
    ("wan", dict(steps=500), "steps"),
    ("wan", dict(mode="extend", video=np.zeros((4, 32, 48, 3), np.uint8)), "cannot do extend"),
    ("ltx", dict(mode="i2v", width=64), "reference image"),
])
def test_validate_for_refuses(loaded, name, kw, words):
    with pytest.raises(RuntimeUserError) as e:
        loaded[name].generate(req(**kw))
    assert words in str(e.value) and "\n" not in str(e.value)


# ---- bad folders ------------------------------------------------------------------------------------
def _edit_index(folder, **changes):
    path = folder / "model_index.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])


BAD = {
    "missing": (lambda f: shutil.rmtree(f), "not found"),
    "a file": (lambda f: (shutil.rmtree(f), f.write_text("x")), "not a folder"),
    "no index": (lambda f: (f / "model_index.json").unlink(), "no model_index.json"),
    "bad json": (lambda f: (f / "model_index.json").write_text("{oops"), "not valid JSON"),
    "unknown class": (lambda f: _edit_index(f, _class_name="StableDiffusionPipeline"), "StableDiffusionPipeline"),
    "not a pipeline": (lambda f: _edit_index(f, _class_name="os.system"), "os.system"),
    "custom code": (lambda f: _edit_index(f, vae=["my_module", "MyVAE"]), "my_module.MyVAE"),
    "missing component": (lambda f: shutil.rmtree(f / "vae"), "missing component vae/"),
    "missing config": (lambda f: (f / "transformer" / "config.json").unlink(), "transformer/config.json"),
    "pickled": (lambda f: (f / "text_encoder" / "pytorch_model.bin").write_bytes(b"\x80\x04."),
                "pickled weights are not loaded: text_encoder/pytorch_model.bin"),
    "truncated": (lambda f: _truncate(f / "transformer" / "diffusion_pytorch_model.safetensors"),
                  "transformer/diffusion_pytorch_model.safetensors"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_folder_is_one_line(tmp_path, folders, case):
    folder = tmp_path / "model"
    shutil.copytree(folders["wan"], folder)
    spoil, words = BAD[case]
    spoil(folder)
    with pytest.raises(RuntimeUserError) as e:
        dv.DiffusersGenerator(str(folder), device="cpu")
    assert e.value.kind == "model_folder"
    assert words in str(e.value) and "\n" not in str(e.value)


def test_folder_hash_follows_content_not_place(tmp_path, folders):
    copy = tmp_path / "copy"
    shutil.copytree(folders["wan"], copy)
    assert folder_hash(copy) == folder_hash(folders["wan"])
    cfg = copy / "scheduler" / "scheduler_config.json"
    cfg.write_text(cfg.read_text().replace("7.0", "5.0"))
    assert folder_hash(copy) != folder_hash(folders["wan"])


# ---- previews and cost ------------------------------------------------------------------------------
def test_fit_recovers_a_linear_decoder():
    """The fallback fit on a VAE that is exactly linear: latent → RGB by W, b, 8× per side, causal 4× in time."""
    g = torch.Generator().manual_seed(3)
    w, b = torch.randn(8, 3, generator=g) * 0.3, torch.tensor([0.1, -0.2, 0.05])

    def decode(z):
        rgb = torch.einsum("bcthw,cr->brthw", z, w) + b.view(1, 3, 1, 1, 1)
        idx = preview.frame_index(4 * (z.shape[2] - 1) + 1, z.shape[2], 4, 1)
        return rgb[:, :, idx].repeat_interleave(8, 3).repeat_interleave(8, 4)

    proj = preview.fit(decode, 8, 4, 1, "cpu", torch.float32)
    assert proj.source == "fitted"
    assert torch.allclose(proj.weight, w, atol=1e-3) and torch.allclose(proj.bias, b, atol=1e-3)


def test_ltx_latents_are_unpacked_for_the_preview():
    from diffusers import LTXPipeline

    z = torch.randn(1, 8, 3, 4, 6)
    for p in (1, 2):
        packed = LTXPipeline._pack_latents(z, p, 1)
        assert torch.equal(preview.unpack(packed, 3, 4, 6, p, 1), z)


def test_estimate_memory_grows_with_the_clip(loaded):
    wan = loaded["wan"]
    weights = sum(t.numel() * t.element_size() for m in wan.pipe.components.values()
                  if isinstance(m, torch.nn.Module) for t in (*m.parameters(), *m.buffers()))
    small = wan.estimate_memory(req())
    assert small > weights
    assert wan.estimate_memory(req(frames=33)) > small
    assert wan.estimate_memory(req(width=96, height=64)) > small


# ---- the generate CLI --------------------------------------------------------------------------------
def run_cli(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "model_runtime.generate", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=env)


def test_generate_cli_with_a_model_folder(tmp_path, folders, loaded, capsys):
    """In-process (a fresh interpreter only adds ~10 s of imports; the bad-folder case below runs one)."""
    from model_runtime import generate

    out = tmp_path / "clip.npy"
    code = generate.main(["--model", str(folders["wan"]), "--prompt", "a red ball", "--frames", "9", "--width", "48",
                          "--height", "32", "--steps", "2", "--seed", "4", "--device", "cpu", "--out", str(out),
                          "--quiet"])
    assert code == 0, capsys.readouterr().err
    clip = np.load(out)
    assert np.array_equal(clip, loaded["wan"].generate(req(prompt="a red ball", steps=2, seed=4)))
    assert [p.name for p in tmp_path.iterdir()] == ["clip.npy"]


def test_generate_cli_bad_folder_exits_2(tmp_path):
    """`python -m model_runtime.generate` refuses the folder before loading anything: one line, exit 2."""
    out = tmp_path / "clip.npy"
    r = run_cli("--model", str(tmp_path / "nonexistent"), "--prompt", "a red ball", "--out", str(out))
    assert r.returncode == 2, r.stderr
    assert "not found" in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,words", [
    (["--frames", "10", "--width", "48", "--height", "32"], "4k+1"),
    (["--frames", "9", "--width", "40", "--height", "32"], "multiples of 16"),
    (["--checkpoint", "x.safetensors"], "not both"),
])
def test_generate_cli_bad_request_exits_2(tmp_path, folders, capsys, args, words):
    """In-process (the model is already imported): refused before sampling, one line, nothing written."""
    from model_runtime import generate

    out = tmp_path / "clip.npy"
    code = generate.main(["--model", str(folders["wan"]), *args, "--prompt", "a red ball", "--device", "cpu",
                          "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_every_pipeline_the_studio_accepts_the_backend_can_drive():
    # contract.model_folder (the studio's check when a folder is added) and this backend agree
    from contract.model_folder import VIDEO_PIPELINES
    from model_runtime.backends import diffusers_families as families

    for name, family in VIDEO_PIPELINES.items():
        resolved = families.resolve(name)
        assert resolved is not None, name
        assert resolved[0].name == family, (name, resolved[0].name)


def test_a_headless_render_with_an_open_model(tmp_path, folders):
    """`main.py render SB --model DIR`: the worker picks the diffusers backend by the path, the studio
    asks it for legal frame counts and its own size, and the film and its provenance name the model."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    board = tmp_path / "b.json"
    board.write_text(json.dumps({"title": "Open", "fps": 24, "width": 64, "height": 48, "shots": [
        {"prompt": "a heron over a river", "duration": 0.5, "seed": 3}]}), encoding="utf-8")
    film = tmp_path / "film.mp4"
    r = subprocess.run([sys.executable, "main.py", "render", str(board), "-o", str(film), "--model", str(folders["wan"]),
                        "--steps", "2", "--threads", "1", "-q", "--keep-project"], cwd=root, capture_output=True,
                       text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    side = json.loads(film.with_suffix(".json").read_text(encoding="utf-8"))
    clip = side["clips"][0]
    assert "WanPipeline" in clip["model_id"] and clip["checkpoint_hash"]
    assert (clip["take_frames"] - 1) % 4 == 0  # Wan's 4k+1 frames
