import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from model_runtime import checkpoint as ckpt
from model_runtime.model import VideoDiffusionModel
from model_runtime.uvit import UViTConfig

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(frames=8, size=16, patch=(4, 8, 8), width=32, depth=3, heads=2, text_len=8, text_width=16)


def run(*args):
    return subprocess.run([sys.executable, "-m", "model_runtime.generate", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "tiny.safetensors"
    ckpt.save(VideoDiffusionModel(UViTConfig(**TINY)), path)
    return path


def test_npy_and_mp4(tmp_path, tiny_ckpt):
    out = tmp_path / "clip.npy"
    r = run("--prompt", "red ball at night", "--steps", "3", "--checkpoint", str(tiny_ckpt), "--out", str(out),
            "--quiet")
    assert r.returncode == 0, r.stderr
    clip = np.load(out)
    assert clip.dtype == np.uint8 and clip.shape == (8, 16, 16, 3)
    mp4 = tmp_path / "clip.mp4"
    r = run("--prompt", "red ball at night", "--steps", "3", "--checkpoint", str(tiny_ckpt), "--out", str(mp4),
            "--quiet", "--seed", "5")
    assert r.returncode == 0, r.stderr
    assert mp4.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unknown_words_are_reported(tmp_path, tiny_ckpt):
    r = run("--prompt", "red ball with a hat", "--steps", "2", "--checkpoint", str(tiny_ckpt),
            "--out", str(tmp_path / "c.npy"), "--quiet")
    assert r.returncode == 0 and "hat" in r.stderr


@pytest.mark.parametrize("args,words", [
    (["--checkpoint", "/nonexistent/model.safetensors"], "not found"),
    (["--image", "/nonexistent.png", "--random-init"], "not found"),
    (["--random-init", "--steps", "0"], "steps"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, words):
    out = tmp_path / "c.npy"
    r = run("--prompt", "red ball", "--out", str(out), *args)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_out_suffix(tmp_path):
    r = run("--prompt", "red ball", "--random-init", "--out", str(tmp_path / "c.gif"))
    assert r.returncode == 2 and ".mp4 or .npy" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_is_one_line_and_leaves_nothing(tmp_path, tiny_ckpt, sig):
    out = tmp_path / "clip.npy"
    proc = subprocess.Popen([sys.executable, "-m", "model_runtime.generate", "--prompt", "red ball", "--steps", "1000",
                             "--frames", "200", "--checkpoint", str(tiny_ckpt), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4)  # loaded and sampling
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        _o, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig
    assert err.strip().splitlines()[-1] == f"cancelled ({signal.Signals(sig).name}); nothing was written"
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []
