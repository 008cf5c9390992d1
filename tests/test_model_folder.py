"""contract.model_folder: a diffusers folder is checked without loading anything; every bad folder is
one line naming the file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from safetensors.numpy import save_file

from contract.model_folder import ModelFolderError, inspect_model_folder


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "Wan-tiny"
    root.mkdir()
    (root / "model_index.json").write_text(json.dumps({
        "_class_name": "WanPipeline", "_diffusers_version": "0.42.1", "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "text_encoder": ["transformers", "UMT5EncoderModel"], "tokenizer": ["transformers", "T5TokenizerFast"],
        "transformer": ["diffusers", "WanTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLWan"],
        "transformer_2": [None, None]}))
    for name in ("scheduler", "text_encoder", "tokenizer", "transformer", "vae"):
        (root / name).mkdir()
    (root / "scheduler" / "scheduler_config.json").write_text("{}")
    (root / "tokenizer" / "tokenizer.json").write_text("{}")
    for name in ("text_encoder", "transformer", "vae"):
        (root / name / "config.json").write_text("{}")
        save_file({"w": np.zeros((4, 4), np.float32)}, str(root / name / "diffusion_pytorch_model.safetensors"))
    return root


def test_a_good_folder(folder):
    info = inspect_model_folder(folder)
    assert (info.pipeline, info.family) == ("WanPipeline", "wan")
    assert set(info.components) == {"scheduler", "text_encoder", "tokenizer", "transformer", "vae"}


def _break(f, case):
    if case == "missing":
        return f / "missing"
    if case == "no_index":
        (f / "model_index.json").unlink()
    elif case == "bad_json":
        (f / "model_index.json").write_text("{not json")
    elif case == "image_pipeline":
        (f / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    elif case == "no_vae":
        shutil.rmtree(f / "vae")
    elif case == "pickled":
        (f / "text_encoder" / "pytorch_model.bin").write_bytes(b"\x80\x04")
    elif case == "a_file":
        return f / "model_index.json"
    elif case == "deep_index":
        (f / "model_index.json").write_text("[" * 100_000 + "]" * 100_000)
    elif case == "huge_index":
        (f / "model_index.json").write_text('{"_class_name": "WanPipeline", "x": "' + "a" * (2 << 20) + '"}')
    return f


@pytest.mark.parametrize(("case", "words"), [
    ("missing", "not found"), ("no_index", "no model_index.json"), ("bad_json", "not valid JSON"),
    ("image_pipeline", "not a video pipeline"), ("no_vae", "missing component vae/"), ("pickled", "pickled weights"),
    ("a_file", "not a folder"), ("deep_index", "nested too deeply"), ("huge_index", "too large"),
])
def test_bad_folders_are_one_line(folder, case, words):
    with pytest.raises(ModelFolderError) as e:
        inspect_model_folder(_break(folder, case))
    assert words in e.value.message and "\n" not in e.value.message and e.value.kind == "model_folder"


def test_a_truncated_safetensors_file_is_caught(folder):
    weights = folder / "transformer" / "diffusion_pytorch_model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:-10])
    with pytest.raises(ModelFolderError, match="truncated or damaged"):
        inspect_model_folder(folder)
    weights.write_bytes(data[:5])
    with pytest.raises(ModelFolderError, match="truncated or damaged"):
        inspect_model_folder(folder)
