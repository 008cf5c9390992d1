"""One validated model config: checkpoints whose config (or weights file) lies are refused with one
line naming the file and the field, before any tensor is made, on the path the worker, the generate
CLI and headless render use (pipeline.Generator -> checkpoint.load). Nothing here samples."""

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from model_runtime import autoencoder as aem
from model_runtime import checkpoint as ckpt
from model_runtime import config_rules as rules
from model_runtime.errors import RuntimeUserError
from model_runtime.model import VideoDiffusionModel
from model_runtime.pipeline import Generator
from model_runtime.uvit import UViTConfig, count_parameters
from tests.conftest import ROOT

TINY = dict(frames=8, size=16, patch=[4, 8, 8], width=32, depth=3, heads=2, text_len=4, text_width=16,
            text_layers=1, extra={"guidance": 3.0})
# a latent model with every optional part on, and a tiny autoencoder beside it
LATENT = dict(frames=4, channels=4, patch=[4, 2, 2], width=32, depth=1, heads=2, text_len=4, text_width=16,
              text_layers=1, prediction="v", input_skip=True, adaln=True, layout=True, anchored_noise=True,
              autoencoder="ae", aspects={"16:9": [4, 8], "1:1": [6, 6]}, pos_embed="sincos",
              extra={"guidance": 3.0, "latent_clip": 5.0})
SMALL_AE = aem.AEConfig(latent_channels=4, enc_channels=(8, 8, 8, 8), dec_channels=(8, 8, 8, 8))
DEEP = "__DEEP__"  # stands for a value nested 100,000 deep (json.dumps could not write one)


class Hang(BaseException):
    """Raised by the deadline; a BaseException so no `except Exception` in the code under test eats it."""


@contextmanager
def deadline(seconds: float):
    def ring(*_):
        raise Hang(f"no answer in {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def write_doc(path: Path, doc: dict) -> None:
    text = json.dumps(doc)  # NaN / Infinity are written as JSON's non-standard literals, as Python reads them
    path.write_text(text.replace(json.dumps(DEEP), "[" * 100_000 + "]" * 100_000))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A folder with a tiny pixel checkpoint (tiny.*) and a tiny latent one (latent.* + ae.*)."""
    folder = tmp_path_factory.mktemp("base")
    torch.manual_seed(0)
    ckpt.save(VideoDiffusionModel(UViTConfig.from_dict(TINY)), folder / "tiny")
    ckpt.save(VideoDiffusionModel(UViTConfig.from_dict(LATENT)), folder / "latent")
    aem.save(aem.VideoAutoencoder(SMALL_AE), folder / "ae")
    return folder


def variant(base: Path, dest: Path, stem: str = "tiny", config=None, doc=None, ae_config=None) -> Path:
    """A copy of a base checkpoint in `dest` with its config (or whole doc, or its autoencoder's
    config) replaced; returns the weights path."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in {stem, "ae"}:
        for suffix in (".safetensors", ".json"):
            target = dest / f"{name}{suffix}"
            if not target.exists():
                shutil.copyfile(base / f"{name}{suffix}", target)
    if config is not None or doc is not None:
        d = doc if doc is not None else {**json.loads((base / f"{stem}.json").read_text()), "config": config}
        write_doc(dest / f"{stem}.json", d)
    if ae_config is not None:
        write_doc(dest / "ae.json", {**json.loads((base / "ae.json").read_text()), "config": ae_config})
    return dest / f"{stem}.safetensors"


def refusal(weights: Path, seconds: float = 10) -> str:
    """Load as the worker does; the one-line message of the RuntimeUserError it must raise."""
    with deadline(seconds), pytest.raises(RuntimeUserError) as e:
        Generator(checkpoint=str(weights), device="cpu")
    msg = str(e.value)
    assert "\n" not in msg and msg == e.value.message
    assert e.value.kind == "checkpoint"  # a user error: the CLIs and headless exit 2, the worker sends a JobError
    return msg


# ---- the cases of issue 15 ---------------------------------------------------------------------------
def _cfg(**over):
    return lambda: {**TINY, **over}


CONFIG_CASES = {
    "heads=0": (_cfg(heads=0), "heads"),
    "patch=[0,0,0]": (_cfg(patch=[0, 0, 0]), "patch"),
    "frames=0": (_cfg(frames=0), "frames"),
    "size=-32": (_cfg(size=-32), "size"),
    "huge text_len": (_cfg(text_len=10**9), "text_len"),
    "huge width": (_cfg(width=2**40), "width"),
    "width that fits the caps but not the file": (_cfg(width=4096, heads=4), "width 4096"),
    "mlp_ratio=NaN": (_cfg(mlp_ratio=math.nan), "mlp_ratio"),
    "vocab_size=0": (_cfg(vocab_size=0), "vocab_size"),
    "text_width=0": (_cfg(text_width=0), "text_width"),
    "nested 100,000 deep": (_cfg(extra={"guidance": 3.0, "x": DEEP}), "nested deeper"),
    "extra.guidance='abc'": (_cfg(extra={"guidance": "abc"}), "guidance"),
    "extra=[]": (_cfg(extra=[]), "extra"),
    "schedule='bogus'": (_cfg(schedule="bogus"), "schedule"),
    "fps=0": (_cfg(fps=0), "fps"),
    "fps='x'": (_cfg(fps="x"), "fps"),
    "adaln='no'": (_cfg(adaln="no"), "adaln"),
    "config is a list": (lambda: [TINY], "config must be a JSON object"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_a_config_that_lies_is_one_line_naming_the_file_and_field(base, tmp_path, case):
    make, field = CONFIG_CASES[case]
    msg = refusal(variant(base, tmp_path, config=make()))
    assert "tiny.json" in msg and field in msg, msg


def _no_hash(base: Path, dest: Path) -> Path:
    """A variant whose config has no sha256 (so only the file checks stand between it and a read)."""
    doc = json.loads((base / "tiny.json").read_text())
    doc.pop("sha256")
    weights = variant(base, dest, doc=doc)
    weights.unlink()
    return weights


def _directory(base, dest):
    weights = _no_hash(base, dest)
    weights.mkdir()
    return weights


def _fifo(base, dest):
    weights = _no_hash(base, dest)
    os.mkfifo(weights)
    return weights


def _link(target):
    def make(base, dest):
        weights = _no_hash(base, dest)
        weights.symlink_to(target)
        return weights

    return make


def _nan_weights(base, dest):
    torch.manual_seed(0)
    model = VideoDiffusionModel(UViTConfig.from_dict(TINY))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(math.nan)
    ckpt.save(model, dest / "tiny")  # a consistent checkpoint (its hash matches): only the values are bad
    return dest / "tiny.safetensors"


def _config_is_dev_zero(base, dest):
    weights = variant(base, dest)
    (dest / "tiny.json").unlink()
    (dest / "tiny.json").symlink_to("/dev/zero")
    return weights


FILE_CASES = {
    "weights are a directory": (_directory, "tiny.safetensors", "directory"),
    "weights are a FIFO": (_fifo, "tiny.safetensors", "FIFO"),
    "weights link to /dev/zero": (_link("/dev/zero"), "tiny.safetensors", "character device"),
    "weights link to /dev/urandom": (_link("/dev/urandom"), "tiny.safetensors", "character device"),
    "weights link nowhere": (_link("/nonexistent/x"), "tiny.safetensors", "not found"),
    "all-NaN weights": (_nan_weights, "tiny.safetensors", "not finite"),
    "config links to /dev/zero": (_config_is_dev_zero, "tiny.json", "character device"),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_a_weights_or_config_file_that_is_not_one_is_refused_without_reading_it(base, tmp_path, case):
    make, name, why = FILE_CASES[case]
    t0 = time.monotonic()
    msg = refusal(make(base, tmp_path), seconds=20)
    assert name in msg and why in msg, msg
    assert time.monotonic() - t0 < 15


def test_the_autoencoder_config_is_checked_the_same_way(base, tmp_path):
    good = json.loads((base / "ae.json").read_text())["config"]
    for over, field in (({"latent_channels": True}, "latent_channels"), ({"scale": [math.nan] * 4}, "scale[0]"),
                        ({"enc_channels": [8, 8, 8]}, "enc_channels"), ({"extra": []}, "extra"),
                        ({"dec_channels": [8, 8, 8, 10**9]}, "dec_channels[3]")):
        dest = tmp_path / field.replace("[", "_").replace("]", "")
        msg = refusal(variant(base, dest, stem="latent", ae_config={**good, **over}))
        assert "ae.json" in msg and field in msg, msg


def test_a_config_too_big_for_the_device_is_refused_before_it_is_built(base, monkeypatch):
    monkeypatch.setattr(rules, "available_bytes", lambda device: (64 << 10, 64 << 10))
    msg = refusal(base / "tiny.safetensors")
    assert "tiny.json" in msg and "GiB of host RAM" in msg and "width 32" in msg, msg
    with pytest.raises(RuntimeUserError, match="bad model config"):
        rules.check_fits(UViTConfig.from_dict(TINY), "cpu")


def test_an_in_process_config_is_checked_too():
    """The worker's random-init path (a config dict over the wire): the same rules, kind 'config'."""
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    for config, field in (({**TINY, "extra": {"x": deep}}, "nests deeper"), ({**TINY, "heads": 3}, "heads"),
                          ([TINY], "config must be a JSON object"), ({**TINY, "bogus\nkey": 1}, "unknown config keys")):
        with deadline(10), pytest.raises(RuntimeUserError) as e:
            Generator(random_init=True, config=config, device="cpu")
        assert e.value.kind == "config" and field in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("config, field", [({**TINY, "heads": 0}, "heads"),
                                           ({**TINY, "extra": {"guidance": "abc"}}, "guidance"),
                                           (None, "character device")])
def test_generate_cli_exits_2_with_one_line(base, tmp_path, config, field):
    if config is None:
        weights = _link("/dev/zero")(base, tmp_path / "ck")
    else:
        weights = variant(base, tmp_path / "ck", config=config)
    out = tmp_path / "x.npy"
    r = subprocess.run([sys.executable, "-m", "model_runtime.generate", "--checkpoint", str(weights), "--prompt",
                        "a red ball", "--steps", "1", "--device", "cpu", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and weights.stem in lines[0], r.stderr
    assert not out.exists() and not list(tmp_path.glob("*.npy*"))


# ---- what must keep working --------------------------------------------------------------------------
def test_the_shipped_configs_pass_unchanged():
    for name in ("vstudio-toy", "vstudio-toy-v2"):
        doc = json.loads((ckpt.ASSETS / f"{name}.json").read_text())
        cfg, _ = ckpt.read_config(ckpt.ASSETS / f"{name}.json")
        assert cfg.to_dict() == {**UViTConfig().to_dict(), **doc["config"]}
    doc = json.loads((ckpt.ASSETS / "vstudio-ae.json").read_text())
    assert aem.AEConfig.from_dict(doc["config"]).to_dict() == doc["config"]
    for name in ("tiny_test", "toy_small", "toy_latent"):
        UViTConfig.from_dict(json.loads((ROOT / "configs" / f"{name}.json").read_text())["model"])


@pytest.mark.parametrize("over", [{}, {"layout": True, "adaln": True, "input_skip": True, "mlp_ratio": 2.5},
                                  {"depth": 4, "text_layers": 0, "schedule": "cosine", "vocab_size": 50}])
def test_parameter_count_from_the_config_is_the_modules(over):
    cfg = UViTConfig.from_dict({**TINY, **over})
    assert rules.uvit_params(cfg) == count_parameters(VideoDiffusionModel(cfg))


def test_parameter_counts_of_latent_model_and_autoencoder():
    cfg = UViTConfig.from_dict(LATENT)
    assert rules.uvit_params(cfg) == count_parameters(VideoDiffusionModel(cfg))
    assert rules.ae_params(SMALL_AE) == count_parameters(aem.VideoAutoencoder(SMALL_AE))


def test_the_memory_estimate_grows_with_the_model():
    small = rules.estimate(UViTConfig.from_dict(TINY))
    wide = rules.estimate(UViTConfig.from_dict({**TINY, "width": 64}))
    long = rules.estimate(UViTConfig.from_dict({**TINY, "frames": 32}))
    assert wide.params > 2.5 * small.params and wide.device_bytes > 1.5 * small.device_bytes
    assert long.device_bytes > 1.5 * small.device_bytes
    assert small.host_bytes == small.params * 8  # fp32 model + an fp32 file's tensors while they load


def test_json_is_parsed_with_a_nesting_limit():
    assert rules.loads_bounded('{"a": [[1, "]]]]["], {"b": 2}]}') == {"a": [[1, "]]]]["], {"b": 2}]}
    with pytest.raises(ValueError, match="nested deeper than 3"):
        rules.loads_bounded('{"a": [[[1]]]}', 3)
    with pytest.raises(ValueError, match="nested deeper"):
        rules.loads_bounded("[" * 100_000 + "]" * 100_000)


# ---- a bounded, seeded fuzz ----------------------------------------------------------------------------
POOL = [None, True, False, 0, -1, -32, 1, 2, 3, 7, 16, 2**31, 10**12, 10**30, 0.5, 1.5, 4.0, math.nan, math.inf,
        -math.inf, "", "abc", "linear", "cosine", "v", "eps", "sincos", "learned", "../x", "ae", [], [0, 0, 0],
        [4, 4, 4], [1, 2], [4, 2, 2], {}, {"a": 1}, {"16:9": [4, 8]}, {"guidance": "abc"}, [[1]], DEEP]


def mutate(rng: random.Random, cfg: dict, fields: list[str]) -> dict | list:
    cfg = json.loads(json.dumps(cfg))
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        name = rng.choice(fields)
        if op < 0.15:
            cfg.pop(name, None)  # a deleted field takes its default
        elif op < 0.5:
            cfg[name] = rng.choice(POOL)  # a type swap, NaN/inf, a wrong enum, nesting
        elif op < 0.75 and isinstance(cfg.get(name), int | float) and not isinstance(cfg.get(name), bool):
            cfg[name] = rng.choice([0, -cfg[name], cfg[name] + 1, cfg[name] * 2 ** rng.randint(1, 40)])
        elif op < 0.85:
            extra = cfg.get("extra") if isinstance(cfg.get("extra"), dict) else {}
            extra[rng.choice(["guidance", "latent_clip", "note"])] = rng.choice(POOL)
            cfg["extra"] = extra
        elif op < 0.9:
            cfg[rng.choice(["bogus", "Width", ""])] = 1
        elif op < 0.95 and isinstance(cfg.get(name), list) and cfg[name]:
            cfg[name][rng.randrange(len(cfg[name]))] = rng.choice(POOL)
        else:
            return rng.choice([[cfg], "config", 3, None, DEEP])
    return cfg


def test_fuzzed_configs_only_ever_load_or_refuse_in_one_line(base, tmp_path):
    rng = random.Random(15)
    plans = [("tiny", TINY, None)] * 160 + [("latent", LATENT, None)] * 60 + [("latent", None, "ae")] * 40
    ae_good = json.loads((base / "ae.json").read_text())["config"]
    counts = {"loaded": 0, "refused": 0}
    unexpected = []
    t0 = time.monotonic()
    for i, (stem, model_cfg, ae) in enumerate(plans):
        if ae:
            bad = mutate(rng, ae_good, list(ae_good))
            weights = variant(base, tmp_path / str(i), stem=stem, ae_config=bad)
        else:
            bad = mutate(rng, model_cfg, list(UViTConfig.__dataclass_fields__))
            weights = variant(base, tmp_path / str(i), stem=stem, config=bad)
        try:
            with deadline(10):
                Generator(checkpoint=str(weights), device="cpu")  # constructs only: nothing is sampled
            counts["loaded"] += 1
        except RuntimeUserError as e:
            msg = str(e)
            if "\n" in msg or e.kind != "checkpoint" or not any(n in msg for n in (f"{stem}.json", f"{stem}.safetensors", "ae.json", "ae.safetensors")):
                unexpected.append((i, bad, msg))
            counts["refused"] += 1
        except (Exception, Hang) as e:  # the point: nothing else may escape
            unexpected.append((i, str(bad)[:200], f"{type(e).__name__}: {e}"))
        shutil.rmtree(tmp_path / str(i))
    elapsed = time.monotonic() - t0
    assert not unexpected, unexpected[:5]
    assert counts["refused"] > 100 and counts["loaded"] > 10, counts  # the fuzz reaches both outcomes
    print(f"fuzz: {len(plans)} mutations, {counts}, {elapsed:.1f} s")


@pytest.mark.timeout(120)
def test_headless_render_exits_2_with_one_line(base, tmp_path):
    """`main.py render --checkpoint` loads in the worker process: its refusal reaches the user as one line."""
    weights = _link("/dev/urandom")(base, tmp_path / "ck")
    film = tmp_path / "film.mp4"
    r = subprocess.run([sys.executable, "main.py", "render", str(ROOT / "tests" / "data" / "lantern_festival.json"),
                        "-o", str(film), "--checkpoint", str(weights), "--device", "cpu", "--threads", "1", "-q"],
                       capture_output=True, text=True, cwd=ROOT, timeout=100)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert "tiny.safetensors" in lines[0] and "character device" in lines[0]
    assert not film.exists() and list(tmp_path.iterdir()) == [tmp_path / "ck"]
