"""Checkpoints: safetensors weights + a JSON config beside them + the weights' content hash.

Loading never unpickles. Every way a checkpoint can be wrong (missing, truncated, not safetensors,
hash or shape mismatch) is a CheckpointError with one line naming the file and the fault.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from contract.files import atomic_path
from model_runtime.config_rules import Estimate, estimate, loads_bounded, memory_fault, short
from model_runtime.errors import CheckpointError
from model_runtime.model import VideoDiffusionModel
from model_runtime.uvit import UViTConfig

FORMAT = "vstudio-uvit-1"
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"
DEFAULT_NAME = "vstudio-toy"


def default_checkpoint() -> Path:
    return ASSETS / f"{DEFAULT_NAME}.safetensors"


def paths_for(path: str | os.PathLike) -> tuple[Path, Path]:
    """Accepts the .safetensors, the .json or the stem; returns (weights, config)."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def autoencoder_path(model_path: str | os.PathLike, name: str) -> Path:
    """A latent model's autoencoder: NAME.safetensors beside the model's own weights. A name is a
    plain file stem (no folders), so a config cannot point anywhere else on disk."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise CheckpointError(f"{model_path}: bad autoencoder name {name!r} (a file stem beside the model)")
    return paths_for(model_path)[0].parent / f"{name}.safetensors"


# Hard caps: a weights file larger than this, a config or a safetensors header larger than these, is
# refused before it is read (the shipped models are 4-22 MB, their configs under 2 kB).
MAX_WEIGHTS_BYTES = 16 << 30
MAX_CONFIG_BYTES = 1 << 20
MAX_HEADER_BYTES = 16 << 20
_ITEMSIZE = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}  # the float dtypes a checkpoint may hold
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _open_regular(path: Path, what: str, cap: int, missing: str = "not found"):
    """(binary file, size) of a regular file of at most `cap` bytes, following symlinks to their
    target; a directory, FIFO, device (a symlink to /dev/zero) or an oversized file is a
    CheckpointError. Opened non-blocking and checked on the open file, so a FIFO never blocks."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: {what} {missing}") from None
    except OSError as e:
        raise CheckpointError(f"{path}: {what} cannot be opened ({e.strerror or e})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
        target = os.path.realpath(path)
        via = f" (it points to {target})" if target != os.path.abspath(path) else ""
        raise CheckpointError(f"{path}: {what} is {kind}{via}, not a regular file")
    if st.st_size > cap:
        os.close(fd)
        raise CheckpointError(f"{path}: {what} is {st.st_size} bytes, more than the {cap >> 20} MiB a checkpoint may be")
    return os.fdopen(fd, "rb"), st.st_size


def file_hash(path: Path, what: str = "weights") -> str:
    """sha256 of a regular file, reading no more than its size when opened (at most MAX_WEIGHTS_BYTES):
    a device or a file that keeps growing cannot hang it."""
    f, left = _open_regular(Path(path), what, MAX_WEIGHTS_BYTES)
    h = hashlib.sha256()
    with f:
        while left > 0:
            chunk = f.read(min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def read_json(path: Path, what: str = "config"):
    """A small JSON file, bounded in size and nesting; CheckpointError naming the file otherwise."""
    f, size = _open_regular(path, f"{what} file", MAX_CONFIG_BYTES,
                            "is missing (a checkpoint is NAME.safetensors + NAME.json)")
    with f:
        raw = f.read(size)
    try:
        return loads_bounded(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        msg = e.msg if isinstance(e, json.JSONDecodeError) else str(e).splitlines()[0][:120]
        raise CheckpointError(f"{path}: {what} is not valid JSON ({msg})") from None


@dataclass
class WeightsFile:
    """What a safetensors file's header says, read before its data: tensors name -> (dtype, shape)."""
    path: Path
    size: int
    tensors: dict[str, tuple[str, tuple[int, ...]]]
    end: int  # where the last tensor's data ends in the file

    @property
    def params(self) -> int:
        return sum(math.prod(shape) for _, shape in self.tensors.values())

    @property
    def itemsize(self) -> int:
        return max((_ITEMSIZE[dt] for dt, _ in self.tensors.values()), default=4)


def inspect_weights(path: Path, what: str = "checkpoint weights") -> WeightsFile:
    """A weights file's size and header (bounded reads, no tensor made). Faults: CheckpointError."""
    f, size = _open_regular(path, what, MAX_WEIGHTS_BYTES)

    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{path}: not a readable safetensors file ({why})")

    with f:
        head = f.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if n < 2 or n > min(MAX_HEADER_BYTES, size - 8):
            raise bad("no safetensors header")
        raw = f.read(n)
    try:
        header = loads_bounded(raw.decode("utf-8"), 4)
    except (ValueError, UnicodeDecodeError):
        raise bad("its header is not JSON") from None
    if not isinstance(header, dict):
        raise bad("its header is not an object")
    tensors, end = {}, 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        ok = isinstance(t, dict) and t.get("dtype") in _ITEMSIZE and isinstance(t.get("shape"), list) \
            and isinstance(t.get("data_offsets"), list) and len(t["data_offsets"]) == 2 \
            and all(type(v) is int and v >= 0 for v in (*t["shape"], *t["data_offsets"]))
        if not ok:
            raise bad(f"tensor {short(name)} is not a float tensor with a shape and data offsets")
        b, e = t["data_offsets"]
        if e - b != math.prod(t["shape"]) * _ITEMSIZE[t["dtype"]]:
            raise bad(f"tensor {short(name)}: its data offsets do not fit its shape")
        tensors[name] = (t["dtype"], tuple(t["shape"]))
        end = max(end, e)
    return WeightsFile(Path(path), size, tensors, 8 + n + end)


def check_plausible(wf: WeightsFile, params: int, config: Path, what: str) -> None:
    """Before a module is made: the config's parameter count (config_rules) must be about what the
    file holds, so a config that lies about its size is refused without building it."""
    if params > 2 * wf.params + 4096 or wf.params > 2 * params + 4096:
        raise CheckpointError(f"{wf.path}: weights do not match the config (the file holds {wf.params} "
                              f"parameters, {config.name}'s {what} imply {params})")


def atomic_write_bytes(path: Path, write) -> None:
    """`write(temp_path)` then swap it in atomically (contract.files.atomic_path; kept for callers
    that pass a writer function)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        write(str(tmp))


def save(model: VideoDiffusionModel, path: str | os.PathLike, meta: dict | None = None, half: bool = False) -> str:
    """Writes weights then config (atomically, each); returns the content hash."""
    weights, config = paths_for(path)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    atomic_write_bytes(weights, lambda tmp: save_file(state, tmp, metadata={"format": FORMAT}))
    digest = file_hash(weights)
    doc = {"format": FORMAT, "config": model.cfg.to_dict(), "sha256": digest, "dtype": str(dtype).removeprefix("torch."),
           "meta": meta or {}}
    atomic_write_bytes(config, lambda tmp: Path(tmp).write_text(json.dumps(doc, indent=2)))
    return digest


def read_doc(config: Path, fmt: str, parse):
    """A checkpoint's JSON beside its weights -> (parse(doc["config"]), doc). Every fault (missing,
    not a regular file, too large or deep, not JSON, another format, a config `parse` rejects) is a
    CheckpointError naming the file."""
    doc = read_json(config)
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise CheckpointError(f"{config}: not a {fmt} checkpoint config")
    if "config" not in doc:
        raise CheckpointError(f"{config}: has no 'config' section")
    try:
        return parse(doc["config"]), doc
    except (TypeError, ValueError) as e:
        what = "autoencoder" if "autoencoder" in fmt else "model"
        raise CheckpointError(f"{config}: bad {what} config ({' '.join(str(e).split())})") from None


def read_config(path: str | os.PathLike) -> tuple[UViTConfig, dict]:
    return read_doc(paths_for(path)[1], FORMAT, UViTConfig.from_dict)


def check_memory(est: Estimate, device, config: Path) -> None:
    fault = memory_fault(est, device)
    if fault:
        raise CheckpointError(f"{config}: {fault}")


def load_weights(module: torch.nn.Module, weights: Path, doc: dict, wf: WeightsFile | None = None) -> str:
    """Fills `module` from a safetensors file, after checking it against its config's hash and its
    tensors against the module's names and shapes; returns the file's hash. Every fault (including
    weights that are not finite) is a CheckpointError naming the file."""
    wf = wf or inspect_weights(weights)
    digest = file_hash(weights)
    if doc.get("sha256") and doc["sha256"] != digest:
        raise CheckpointError(f"{weights}: content hash does not match its config (truncated or replaced file)")
    if wf.end > wf.size:
        raise CheckpointError(f"{weights}: truncated ({wf.size} bytes, its tensors need {wf.end})")
    expected = module.state_dict()
    missing = sorted(set(expected) - set(wf.tensors))
    extra = sorted(set(wf.tensors) - set(expected))
    if missing or extra:
        what = f"missing {missing[0]}" if missing else f"unexpected {short(extra[0])}"
        raise CheckpointError(f"{weights}: weights do not match the config ({what}, {len(missing)} missing, {len(extra)} extra)")
    for k, v in expected.items():
        if wf.tensors[k][1] != tuple(v.shape):
            raise CheckpointError(f"{weights}: weights do not match the config ({k} is {wf.tensors[k][1]}, "
                                  f"expected {tuple(v.shape)})")
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({str(e).splitlines()[0][:120]})") from None
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).sum())
            raise CheckpointError(f"{weights}: weights are not finite ({k} holds {bad} NaN or infinite values "
                                  f"of {v.numel()})")
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    return digest


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[VideoDiffusionModel, dict]:
    """Returns (model in eval mode, info with model_id, checkpoint_hash, meta). Before any tensor is
    made: the weights are a regular file of plausible size, the config passes config_rules, and the
    model's memory estimate fits the device."""
    weights, config = paths_for(path)
    wf = inspect_weights(weights)
    cfg, doc = read_config(path)
    est = estimate(cfg, wf.itemsize)
    check_plausible(wf, est.params, config, est.what)
    check_memory(est, device, config)
    model = VideoDiffusionModel(cfg)
    digest = load_weights(model, weights, doc, wf)
    model.to(device).eval()
    meta = doc.get("meta", {})
    info = {"model_id": weights.stem, "checkpoint_hash": digest, "meta": meta if isinstance(meta, dict) else {},
            "path": str(weights)}
    return model, info
