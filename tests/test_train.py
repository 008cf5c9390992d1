import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from model_runtime import train as tr

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "configs" / "tiny_test.json"


def _config(tmp_path, **train) -> str:
    doc = json.loads(TINY.read_text())
    doc["train"].update(train)
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps(doc))
    return str(p)


def _weights(run: Path) -> dict:
    return load_file(str(run / "state" / "model.safetensors"))


def test_short_run_lowers_the_loss(tmp_path):
    torch.manual_seed(0)
    res = tr.train(_config(tmp_path, lr=2e-3, warmup=5, p_uncond=0.0, p_known=0.0), str(tmp_path / "run"),
                   max_steps=60, quiet=True)
    first, last = sum(res["losses"][:10]) / 10, sum(res["losses"][-10:]) / 10
    assert last < 0.8 * first, (first, last)
    assert (tmp_path / "run" / "ema.safetensors").exists() and (tmp_path / "run" / "ema.json").exists()


def test_resume_is_bit_for_bit(tmp_path):
    cfg = _config(tmp_path)
    tr.train(cfg, str(tmp_path / "straight"), max_steps=6, quiet=True)
    tr.train(cfg, str(tmp_path / "split"), max_steps=3, quiet=True)
    res = tr.train(cfg, str(tmp_path / "split"), resume=True, max_steps=3, quiet=True)
    assert res["step"] == 6
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "split")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    ea = load_file(str(tmp_path / "straight" / "state" / "ema.safetensors"))
    eb = load_file(str(tmp_path / "split" / "state" / "ema.safetensors"))
    assert all(torch.equal(ea[k], eb[k]) for k in ea)


def test_resume_without_state_is_a_clear_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "model_runtime.train", "--config", str(TINY), "--out",
                          str(tmp_path / "none"), "--resume"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error:") and "nothing to resume" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_config_is_a_clear_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "model_runtime.train", "--config", str(tmp_path / "no.json"),
                          "--out", str(tmp_path / "r")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "config file not found" in out.stderr


@pytest.mark.timeout(240)
def test_two_process_ddp_keeps_replicas_identical(tmp_path):
    """torchrun with 2 CPU processes (gloo): after a few steps every rank holds the same weights,
    and they differ from the initial ones (the ranks saw different data and averaged gradients)."""
    script = tmp_path / "ddp_probe.py"
    script.write_text(
        "import os, sys\n"
        "from safetensors.torch import save_file\n"
        "from model_runtime import train as tr\n"
        "_update = tr.ema_update\n"
        "def spy(ema, model, step, t):  # after every optimizer step, each rank dumps its replica\n"
        "    _update(ema, model, step, t)\n"
        "    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()},\n"
        "              os.path.join(sys.argv[2], f'rank{os.environ[\"RANK\"]}.safetensors'))\n"
        "tr.ema_update = spy\n"
        "tr.train(sys.argv[1], sys.argv[2], max_steps=3, quiet=True, device='cpu')\n"
    )
    out_dir = tmp_path / "ddp"
    out_dir.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    with socket.socket() as sock:  # a free port for the rendezvous (port 0 is not accepted there)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
                           str(script), _config(tmp_path, workers=0), str(out_dir)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=220)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r0, r1 = load_file(str(out_dir / "rank0.safetensors")), load_file(str(out_dir / "rank1.safetensors"))
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    torch.manual_seed(0)
    from model_runtime.model import VideoDiffusionModel
    cfg, _ = tr.load_config(_config(tmp_path, workers=0))
    init = VideoDiffusionModel(cfg).state_dict()
    assert any(not torch.equal(init[k], r0[k]) for k in r0)


def test_init_warm_starts_a_larger_config_and_resume_keeps_its_restart(tmp_path):
    """--init: an adaLN config starts from a plain run's weights (the new modulations at zero), goes on
    counting steps, restarts warmup and EMA there, and a later --resume keeps that restart."""
    plain = _config(tmp_path)
    tr.train(plain, str(tmp_path / "a"), max_steps=3, quiet=True)
    doc = json.loads(Path(plain).read_text())
    doc["model"]["adaln"] = True
    bigger = tmp_path / "adaln.json"
    bigger.write_text(json.dumps(doc))
    res = tr.train(str(bigger), str(tmp_path / "b"), init=str(tmp_path / "a"), max_steps=2, quiet=True)
    assert res["step"] == 5
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert set(a) < set(b) and all("modulation" in k for k in set(b) - set(a))
    saved = json.loads((tmp_path / "b" / "state" / "state.json").read_text())["train"]
    assert saved["warmup_start"] == saved["ema_start"] == 3
    assert tr.lr_at(3, saved) < tr.lr_at(3, {**saved, "warmup_start": 0})
    res = tr.train(str(bigger), str(tmp_path / "b"), resume=True, init=str(tmp_path / "a"), max_steps=1, quiet=True)
    assert res["step"] == 6
    saved = json.loads((tmp_path / "b" / "state" / "state.json").read_text())["train"]
    assert saved["warmup_start"] == 3


def test_init_from_a_run_that_does_not_fit_is_a_clear_error(tmp_path):
    plain = _config(tmp_path)
    tr.train(plain, str(tmp_path / "a"), max_steps=1, quiet=True)
    doc = json.loads(Path(plain).read_text())
    doc["model"]["width"] = doc["model"]["width"] * 2
    wide = tmp_path / "wide.json"
    wide.write_text(json.dumps(doc))
    out = subprocess.run([sys.executable, "-m", "model_runtime.train", "--config", str(wide), "--out",
                          str(tmp_path / "b"), "--init", str(tmp_path / "a")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("error:") and "cannot start from its weights" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b" / "state").exists()


def test_init_from_a_torn_run_is_a_clear_error(tmp_path):
    plain = _config(tmp_path)
    tr.train(plain, str(tmp_path / "a"), max_steps=1, quiet=True)
    (tmp_path / "a" / "state" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(tr.RuntimeUserError, match="cannot start from its weights"):
        tr.train(plain, str(tmp_path / "b"), init=str(tmp_path / "a"), max_steps=1, quiet=True)
    with pytest.raises(tr.RuntimeUserError, match="no saved training state"):
        tr.train(plain, str(tmp_path / "c"), init=str(tmp_path / "nowhere"), max_steps=1, quiet=True)


def _with_model(tmp_path, name: str, **model) -> str:
    doc = json.loads(Path(_config(tmp_path)).read_text())
    doc["model"].update(model)
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def test_init_adds_layout_inputs_without_changing_what_the_network_computes(tmp_path):
    """The patch embedding gains the layout channels as zero columns: the warm-started U-ViT gives the
    old run's prediction whatever layout it is shown, until training teaches it to look."""
    from model_runtime.model import VideoDiffusionModel
    from model_runtime.subject_plan import plan_maps
    from model_runtime.uvit import UViTConfig

    plain = _config(tmp_path)
    tr.train(plain, str(tmp_path / "a"), max_steps=2, quiet=True)
    old_cfg, _ = tr.load_config(plain)
    lay_cfg, _ = tr.load_config(_with_model(tmp_path, "layout.json", layout=True))
    old, old_ema = VideoDiffusionModel(old_cfg), VideoDiffusionModel(old_cfg)
    old.load_state_dict(_weights(tmp_path / "a"))
    old_ema.load_state_dict(load_file(str(tmp_path / "a" / "state" / "ema.safetensors")))
    new, ema = VideoDiffusionModel(lay_cfg), VideoDiffusionModel(lay_cfg)
    assert tr.init_from(tmp_path / "a", new, ema)[0] == 2
    x, t = torch.randn(2, 3, old_cfg.frames, old_cfg.size, old_cfg.size), torch.tensor([10.0, 900.0])
    ctx = old.text(torch.randint(1, 40, (2, old_cfg.text_len)))
    maps = plan_maps(torch.rand(2, old_cfg.frames, 7) + 0.1, old_cfg.size)
    with torch.no_grad():
        torch.testing.assert_close(new.uvit(x, t, ctx, maps), old.uvit(x, t, ctx))
        torch.testing.assert_close(ema.uvit(x, t, ctx, maps), old_ema.uvit(x, t, ctx))
    assert UViTConfig.from_dict(lay_cfg.to_dict()).layout


@pytest.mark.parametrize("anchored", [False, True])
def test_layout_run_learns_to_plan_and_resumes_bit_for_bit(tmp_path, anchored):
    cfg = _with_model(tmp_path, "layout.json", layout=True, anchored_noise=anchored)
    torch.manual_seed(0)
    res = tr.train(cfg, str(tmp_path / "straight"), max_steps=6, quiet=True)
    tr.train(cfg, str(tmp_path / "split"), max_steps=3, quiet=True)
    tr.train(cfg, str(tmp_path / "split"), resume=True, max_steps=3, quiet=True)
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "split")
    assert any(k.startswith("planner.") for k in a) and a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(np.isfinite(res["losses"]))


def test_anchored_runs_train_on_noise_anchored_to_each_clip():
    """With anchored noise, a clip's training noise follows its annotated layout (a static shot repeats
    its noise in every frame); p_anchored=0 and configs without it keep i.i.d. noise."""
    cfg, train = tr.load_config(str(TINY))
    cfg = tr.UViTConfig.from_dict({**cfg.to_dict(), "layout": True, "anchored_noise": True})

    def static_rows(p_anchored):
        data, rows = tr.ToyClips(cfg, {**train, "p_anchored": p_anchored}, 0, 0), []
        for step in range(40):
            _, x, _, _, layout, noise = data.batch_for(step)
            assert noise.shape == x.shape and float(noise.std()) == pytest.approx(1.0, abs=0.05)
            still = (layout[:, :, :5] == layout[:, :1, :5]).all(dim=2).all(dim=1)  # camera and subject still
            rows += [bool((noise[i, :, 1:] == noise[i, :, :1]).all()) for i in range(len(x)) if still[i]]
        assert len(rows) >= 3
        return rows

    assert all(static_rows(1.0)) and not any(static_rows(0.0))
    plain, _ = tr.load_config(str(TINY))
    assert tr.ToyClips(plain, train, 0, 0).batch_for(3)[-1] is None


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_to_the_process_group_saves_and_stops(tmp_path, sig):
    """Ctrl-C, or a SIGTERM to the group (a service manager, `timeout`), reaches the data worker too:
    the worker ignores it and the training loop saves its state and stops cleanly. Before, a worker
    killed by SIGTERM made the loader raise in the loop, and the run lost everything since its last save."""
    import signal
    import time

    cfg = _config(tmp_path, workers=1, steps=100000)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "model_runtime.train", "--config", cfg, "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / "config.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3.0)  # a few training steps, the worker running
        os.killpg(proc.pid, getattr(signal, sig))
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err[-2000:]
    state = json.loads((out / "state" / "state.json").read_text())
    assert state["step"] > 0 and "Traceback" not in err
