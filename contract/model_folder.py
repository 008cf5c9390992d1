"""A local diffusers model folder, checked without loading anything (standard library only): the studio
checks a folder the moment a user adds it, the worker again before it loads one.

A folder is refused, with one line naming the file, when it has no readable `model_index.json`, names
a pipeline class that is not a video pipeline this studio drives, lacks a component it names, holds
pickled weights (`.bin`, `.pt`, `.ckpt`, `.pth`, `.pkl`: loading them can run code) or a safetensors
file cut short (its header promises more bytes than the file has).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

# pipeline class -> family (contract.capabilities.Capabilities.family)
VIDEO_PIPELINES = {
    "WanPipeline": "wan",
    "WanImageToVideoPipeline": "wan",
    "LTXPipeline": "ltx",
    "LTXImageToVideoPipeline": "ltx",
    "LTXConditionPipeline": "ltx",
    "CogVideoXPipeline": "diffusers",
    "CogVideoXImageToVideoPipeline": "diffusers",
    "HunyuanVideoPipeline": "diffusers",
    "MochiPipeline": "diffusers",
    "AllegroPipeline": "diffusers",
}
PICKLED = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
MAX_INDEX_BYTES = 1 << 20
MAX_HEADER_BYTES = 100 << 20  # a safetensors header is JSON of tensor names and offsets


class ModelFolderError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.kind = "model_folder"
        self.message = message


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    pipeline: str  # the model_index.json's _class_name
    family: str
    components: dict[str, str]  # name -> class, e.g. {"transformer": "WanTransformer3DModel"}

    @property
    def label(self) -> str:
        return f"{self.path.name} — {self.pipeline}"


def _bad(message: str) -> ModelFolderError:
    return ModelFolderError(message)


def check_safetensors(path: Path) -> None:
    """The file's header is whole and its tensors fit in the file (a download cut short is caught)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise _bad(f"{path.name} is cut short (no safetensors header)")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES or 8 + n > size:
                raise _bad(f"{path.name} is cut short or not a safetensors file (header of {n} bytes, file of {size})")
            header = json.loads(f.read(n))
    except ModelFolderError:
        raise
    except (OSError, ValueError) as e:
        raise _bad(f"{path.name} cannot be read as safetensors ({e})") from None
    if not isinstance(header, dict):
        raise _bad(f"{path.name}: the safetensors header is not a table of tensors")
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise _bad(f"{path.name}: tensor {name!r} has no valid data offsets")
        end = max(end, offsets[1])
    if 8 + n + end > size:
        raise _bad(f"{path.name} is cut short: its tensors need {8 + n + end} bytes, the file has {size}")


def inspect_model_folder(path: str | Path) -> ModelFolder:
    """The folder's pipeline and components, or ModelFolderError (one line naming the file)."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise _bad(f"model folder not found: {folder}")
    if not folder.is_dir():
        raise _bad(f"{folder} is not a folder (an open model is a diffusers folder with model_index.json)")
    index = folder / "model_index.json"
    if not index.is_file():
        raise _bad(f"{folder.name} has no model_index.json: not a diffusers model folder")
    try:
        if index.stat().st_size > MAX_INDEX_BYTES:
            raise _bad(f"{folder.name}/model_index.json is too large to be a model index")
        doc = json.loads(index.read_text(encoding="utf-8"))
    except ModelFolderError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _bad(f"{folder.name}/model_index.json cannot be read ({str(e).splitlines()[0][:120]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("_class_name"), str):
        raise _bad(f"{folder.name}/model_index.json names no pipeline (_class_name)")
    pipeline = doc["_class_name"]
    if pipeline not in VIDEO_PIPELINES:
        raise _bad(f"{folder.name}: {pipeline!r} is not a video pipeline this studio drives "
                   f"(known: {', '.join(sorted(VIDEO_PIPELINES))})")
    components = {}
    for name, spec in doc.items():
        if name.startswith("_") or not isinstance(spec, list) or len(spec) != 2 or spec[0] is None:
            continue
        sub = folder / name
        if not sub.is_dir():
            raise _bad(f"{folder.name}: the component {name!r} ({spec[1]}) is missing")
        components[name] = str(spec[1])
    for f in sorted(folder.rglob("*")):
        if f.suffix.lower() in PICKLED and f.is_file():
            raise _bad(f"{f.relative_to(folder)}: pickled weights are not loaded (they can run code); "
                       "convert them to .safetensors")
        if f.suffix == ".safetensors" and f.is_file():
            check_safetensors(f)
    return ModelFolder(folder, pipeline, VIDEO_PIPELINES[pipeline], components)
