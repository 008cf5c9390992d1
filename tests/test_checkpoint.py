import json
import pickle

import pytest
import torch

from model_runtime import checkpoint as ckpt
from model_runtime.errors import CheckpointError
from model_runtime.model import VideoDiffusionModel
from model_runtime.uvit import UViTConfig

TINY = dict(frames=8, size=16, patch=(4, 8, 8), width=32, depth=3, heads=2, text_len=4, text_width=16)


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(1)
    model = VideoDiffusionModel(UViTConfig(**TINY))
    digest = ckpt.save(model, tmp_path / "m.safetensors", meta={"step": 3})
    return model, tmp_path / "m.safetensors", digest


def test_round_trip(saved):
    model, path, digest = saved
    loaded, info = ckpt.load(path)
    assert info["checkpoint_hash"] == digest == ckpt.file_hash(path)
    assert info["meta"] == {"step": 3}
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_half_precision_round_trip(tmp_path):
    model = VideoDiffusionModel(UViTConfig(**TINY))
    ckpt.save(model, tmp_path / "h", half=True)
    loaded, _ = ckpt.load(tmp_path / "h.json")
    a, b = model.state_dict()["uvit.pos_embed"], loaded.state_dict()["uvit.pos_embed"]
    assert b.dtype == torch.float32 and torch.allclose(a, b, atol=1e-3)


def _error(path) -> str:
    with pytest.raises(CheckpointError) as e:
        ckpt.load(path)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_missing_weights(tmp_path):
    msg = _error(tmp_path / "nothing.safetensors")
    assert "nothing.safetensors" in msg and "not found" in msg


def test_missing_config(saved):
    _, path, _ = saved
    path.with_suffix(".json").unlink()
    assert "config file is missing" in _error(path)


def test_truncated_weights(saved):
    _, path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    msg = _error(path)
    assert "m.safetensors" in msg and "truncated" in msg


def test_pickled_file_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"w": Evil()}))
    (tmp_path / "evil.json").write_text(json.dumps({"format": ckpt.FORMAT, "config": UViTConfig(**TINY).to_dict()}))
    assert "not a readable safetensors file" in _error(path)
    assert not marker.exists()


def test_mismatched_config(saved):
    _, path, _ = saved
    doc = json.loads(path.with_suffix(".json").read_text())
    doc["config"]["width"] = 64
    path.with_suffix(".json").write_text(json.dumps(doc))
    assert "do not match the config" in _error(path)


def test_config_not_json(saved):
    _, path, _ = saved
    path.with_suffix(".json").write_text("{oops")
    assert "not valid JSON" in _error(path)
