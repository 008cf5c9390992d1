"""A local diffusers model folder, checked without loading anything (standard library only): the one
check both sides use — the studio the moment a user adds a folder (Settings → Models) or names one
(`main.py render --model`), the worker's diffusers backend again before it loads one.

What is checked: the folder exists and is a directory; `model_index.json` is a JSON object whose
`_class_name` is a video pipeline this studio runs (VIDEO_PIPELINES: the backend's families, and
the pipelines its generic adapter drives); every component it names is a diffusers / transformers
class (no custom code) whose sub-folder exists with its config; model weights are `.safetensors`
only (a pickled `.bin` / `.pt` / `.ckpt` / `.pkl` anywhere is refused: unpickling runs code); every
`.safetensors` file is whole (its header's tensor offsets reach exactly to the end of the file) and
every shard an index names exists. Every problem is one line naming the file.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# pipeline class -> family (contract.capabilities.Capabilities.family); "diffusers": the backend's
# generic adapter (tests/test_diffusers_backend.py checks it can drive every one of them)
VIDEO_PIPELINES = {
    "WanPipeline": "wan",
    "WanImageToVideoPipeline": "wan",
    "LTXPipeline": "ltx",
    "LTXImageToVideoPipeline": "ltx",
    "HunyuanVideoPipeline": "diffusers",
    "CogVideoXPipeline": "diffusers",
    "CogVideoXImageToVideoPipeline": "diffusers",
    "MochiPipeline": "diffusers",
    "AllegroPipeline": "diffusers",
}


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    pipeline: str  # the model_index.json's _class_name
    family: str
    components: dict[str, str]  # name -> class, e.g. {"transformer": "WanTransformer3DModel"}
    index: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.path.name} — {self.pipeline}"


KIND = "model_folder"
MAX_INDEX_BYTES = 1 << 20
PICKLED = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"}
LIBRARIES = {"diffusers", "transformers"}  # no custom code: a component from anywhere else is refused
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "spiece.model", "vocab.json")
MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


class ModelFolderError(ValueError):
    """A folder that must not be loaded: kind "model_folder" + one line naming the file."""

    def __init__(self, message: str):
        super().__init__(message)
        self.kind = KIND
        self.message = message


def _fail(message: str) -> ModelFolderError:
    return ModelFolderError(message)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def read_index(folder: Path) -> dict[str, Any]:
    """model_index.json as a dict (one-line errors for a missing folder / file or bad JSON)."""
    if not folder.exists():
        raise _fail(f"model folder not found: {folder}")
    if not folder.is_dir():
        raise _fail(f"{folder} is not a folder (a diffusers model is a folder with a model_index.json)")
    index = folder / "model_index.json"
    if not index.is_file():
        raise _fail(f"{folder} has no model_index.json (not a diffusers model folder)")
    try:
        if index.stat().st_size > MAX_INDEX_BYTES:  # an index is a few hundred bytes of JSON
            raise _fail(f"{index} is {index.stat().st_size} bytes: too large to be a model index")
        data = json.loads(index.read_text(encoding="utf-8"))
    except ModelFolderError:
        raise
    except RecursionError:
        raise _fail(f"{index} is nested too deeply to be a model index") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _fail(f"{index} is not valid JSON ({' '.join(str(e).split())})") from None
    if not isinstance(data, dict):
        raise _fail(f"{index} is not a JSON object")
    return data


def components(index: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """{name: (library, class)} of the components model_index.json names (null ones left out)."""
    out = {}
    for name, value in index.items():
        if name.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        lib, cls = value
        if lib is None and cls is None:
            continue  # an optional component the pipeline was saved without
        out[name] = (lib, cls)
    return out


def _kind(cls: str) -> str:
    if cls.endswith("Scheduler"):
        return "scheduler"
    if "Tokenizer" in cls or cls == "TokenizersBackend":
        return "tokenizer"
    if "Processor" in cls or "FeatureExtractor" in cls:
        return "processor"
    return "model"


def safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file cannot be whole (None: it can): the 8-byte header length, the JSON
    header, and the end of the last tensor against the file's size — read without loading it."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                return f"{size} bytes, shorter than a safetensors header"
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER or 8 + n > size:
                return f"{size} bytes, but its header alone claims {8 + n}"
            header = json.loads(f.read(n))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, struct.error):
        return "its header is not valid safetensors JSON"
    if not isinstance(header, dict):
        return "its header is not valid safetensors JSON"
    end = 0
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        try:
            end = max(end, int(meta["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            return f"tensor {name!r} has no data offsets"
    need = 8 + n + end
    if need != size:
        return f"{size} bytes, but its tensors need {need}" if need > size else \
            f"{size} bytes, {size - need} more than its tensors need"
    return None


def inspect_model_folder(path: str | Path) -> ModelFolder:
    """The folder's pipeline, family and components, or ModelFolderError (one line naming the file)."""
    folder = Path(path).expanduser()
    index = read_index(folder)
    cls = index.get("_class_name")
    if not isinstance(cls, str) or not cls:
        raise _fail(f"{folder / 'model_index.json'} names no pipeline class (_class_name)")
    if cls not in VIDEO_PIPELINES:
        raise _fail(f"{cls} is not a video pipeline this studio runs (known: {', '.join(VIDEO_PIPELINES)})")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for p in files:
        if p.suffix.lower() in PICKLED:
            raise _fail(f"pickled weights are not loaded: {_rel(p, folder)} (keep only .safetensors: convert or remove it)")
    for name, (lib, ccls) in components(index).items():
        if lib not in LIBRARIES or not isinstance(ccls, str):
            raise _fail(f"component {name} is {lib}.{ccls}: only diffusers and transformers classes are loaded")
        sub = folder / name
        if not sub.is_dir():
            raise _fail(f"missing component {name}/ in {folder} (model_index.json names {ccls})")
        kind = _kind(ccls)
        if kind == "scheduler" and not (sub / "scheduler_config.json").is_file():
            raise _fail(f"missing {name}/scheduler_config.json in {folder}")
        if kind == "tokenizer" and not any((sub / f).is_file() for f in TOKENIZER_FILES):
            raise _fail(f"missing tokenizer files in {name}/ of {folder} ({' or '.join(TOKENIZER_FILES)})")
        if kind == "processor" and not (sub / "preprocessor_config.json").is_file():
            raise _fail(f"missing {name}/preprocessor_config.json in {folder}")
        if kind == "model":
            if not (sub / "config.json").is_file():
                raise _fail(f"missing {name}/config.json in {folder}")
            if not any(p.suffix == ".safetensors" for p in sub.iterdir()):
                raise _fail(f"no .safetensors weights in {name}/ of {folder}")
    for p in files:
        if p.suffix == ".safetensors":
            problem = safetensors_problem(p)
            if problem:
                raise _fail(f"truncated or damaged weights file {_rel(p, folder)} ({problem})")
        elif p.name.endswith(".safetensors.index.json"):
            _check_shards(p, folder)
    return ModelFolder(folder, cls, VIDEO_PIPELINES[cls], {n: c for n, (_lib, c) in components(index).items()}, index)


def _check_shards(index_path: Path, folder: Path) -> None:
    try:
        weight_map = json.loads(index_path.read_text(encoding="utf-8")).get("weight_map", {})
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        raise _fail(f"{_rel(index_path, folder)} is not valid JSON") from None
    for shard in sorted(set(weight_map.values()) if isinstance(weight_map, dict) else ()):
        if not (index_path.parent / str(shard)).is_file():
            raise _fail(f"missing weights shard {_rel(index_path.parent, folder)}/{shard} "
                        f"(named by {index_path.name})")
