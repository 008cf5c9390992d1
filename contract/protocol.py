"""The wire protocol between the studio and the model worker.

Part of `contract`, the one package both sides import: stdlib-only (the worker must never pull in
studio's Qt/pydantic, the studio never torch).

A message is a frozen dataclass. On the wire one message is one frame sent with
`Connection.send_bytes` (which already length-prefixes the whole frame):

    [4-byte big-endian header length][UTF-8 JSON header][raw payload bytes]

The header is `{"v": PROTOCOL_VERSION, "type": "<class name>", "data": {...}}` plus
`"payload": "<field name>"` when one `bytes` field travels raw after the header (preview frames).
Nothing is pickled: a worker from another build can never make the studio execute anything, and a
version mismatch is a clear `ProtocolError` instead of a hang or a garbled object.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import typing
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 2  # 2: WorkerReady.capabilities, request width / height

_HEADER_LEN = struct.Struct(">I")
_MAX_HEADER = 16 * 1024 * 1024  # a header is small JSON; anything bigger is a corrupt frame


class ProtocolError(Exception):
    """The other side speaks another protocol version, or sent a frame that cannot be decoded."""


# --------------------------------------------------------------------------------------- messages
# studio -> worker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """First message each side sends, before anything slow (model loading) happens."""

    protocol_version: int = PROTOCOL_VERSION
    pid: int = 0
    role: str = ""  # "studio" | "worker"


@dataclass(frozen=True)
class SubmitJob:
    job_id: str
    # Fields of model_runtime.pipeline.GenerationRequest as JSON values. `image` and `video`, when
    # given, are paths to files (PNG / NPY / MP4) rather than arrays: the worker loads them.
    request: dict[str, Any]
    out_dir: str  # folder the clip files go to (the project's media folder)
    stem: str  # file name without extension: <stem>.npy / .mp4 / .png / .json
    preview_interval_s: float = 0.0  # 0 = a preview every step


@dataclass(frozen=True)
class CancelJob:
    job_id: str


@dataclass(frozen=True)
class SwitchModel:
    checkpoint: str | None = None
    device: str = "auto"
    random_init: bool = False
    config: dict[str, Any] | None = None
    # memory savers of an open model (diffusers backend): {"offload": bool, "vae_tiling": bool}
    savers: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Shutdown:
    pass


# worker -> studio ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerReady:
    """Sent once the model is loaded and calibrated (again after every SwitchModel)."""

    protocol_version: int
    model_id: str
    checkpoint_hash: str
    device: str
    memory_bytes: int  # total memory of the device (GPU memory, or system RAM on CPU)
    frames: int  # native clip length
    width: int  # native frame size
    height: int
    fps: float  # native frame rate
    params: int = 0  # parameter count
    sec_per_step: float = 0.0  # measured: one guided sampler step of a native clip on this device
    peak_memory_bytes: int = 0  # measured peak while generating (device memory on GPU, RSS on CPU)
    load_s: float = 0.0
    calibrate_s: float = 0.0
    extend_frames: int = 4  # context frames an extend clip in a chain re-uses
    # native [height, width] of every frame aspect ("16:9", "9:16", "1:1") the model makes; the first is
    # its default. Empty: one square size (width × height above), no aspect to ask for.
    aspects: dict[str, list[int]] = field(default_factory=dict)
    # what the model can do (contract.capabilities.Capabilities.to_dict()); the studio offers only that
    capabilities: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    job_id: str
    step: int
    total: int
    eta_s: float


@dataclass(frozen=True)
class Preview:
    """The sampler's current x0 prediction: uint8 frames, `shape` = (T, H, W, 3), raw C-order bytes."""

    job_id: str
    step: int
    total: int
    shape: tuple[int, ...]
    frames: bytes = field(repr=False)


@dataclass(frozen=True)
class ClipDone:
    job_id: str
    files: dict[str, str]  # role ("frames", "video", "poster", "metadata") -> absolute path
    metadata: dict[str, Any]  # what <stem>.json holds: parameters, seed, model, hash, timings


@dataclass(frozen=True)
class JobError:
    """A job (or, with job_id "", the worker itself) failed. kind "cancelled" acknowledges a cancel."""

    job_id: str
    kind: str
    message: str


Message = (
    Hello | SubmitJob | CancelJob | SwitchModel | Shutdown | WorkerReady | Progress | Preview | ClipDone | JobError
)

MESSAGE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Hello,
        SubmitJob,
        CancelJob,
        SwitchModel,
        Shutdown,
        WorkerReady,
        Progress,
        Preview,
        ClipDone,
        JobError,
    )
}


def _payload_field(cls: type) -> str | None:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if hints[f.name] is bytes]
    return names[0] if names else None


def _tuple_fields(cls: type) -> tuple[str, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(f.name for f in dataclasses.fields(cls) if typing.get_origin(hints[f.name]) is tuple)


_PAYLOAD = {name: _payload_field(cls) for name, cls in MESSAGE_TYPES.items()}
_TUPLES = {name: _tuple_fields(cls) for name, cls in MESSAGE_TYPES.items()}


# ------------------------------------------------------------------------------------ clip files
# Both sides need these names: the worker writes them, the client cleans up after a worker crash.

CLIP_FILES: dict[str, str] = {"frames": ".npy", "video": ".mp4", "poster": ".png", "metadata": ".json"}


def clip_name(stem: str, role: str) -> str:
    return f"{stem}{CLIP_FILES[role]}"


def partial_name(stem: str, role: str) -> str:
    """Hidden temporary name a clip file has until it is complete (then os.replace'd)."""
    return f".{stem}.partial{CLIP_FILES[role]}"


# --------------------------------------------------------------------------------------- encoding


def encode(msg: Message, version: int = PROTOCOL_VERSION) -> bytes:
    """One message -> one frame. `version` is only overridden by tests of the mismatch path."""
    name = type(msg).__name__
    if MESSAGE_TYPES.get(name) is not type(msg):
        raise TypeError(f"not a protocol message: {msg!r}")
    data = {f.name: getattr(msg, f.name) for f in dataclasses.fields(msg)}
    header: dict[str, Any] = {"v": version, "type": name}
    payload = b""
    pf = _PAYLOAD[name]
    if pf is not None:
        payload = bytes(data.pop(pf))
        header["payload"] = pf
    header["data"] = data
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return _HEADER_LEN.pack(len(raw)) + raw + payload


def decode(frame: bytes) -> Message:
    """One frame -> one message. Raises ProtocolError on a version mismatch or a corrupt frame."""
    view = memoryview(frame)
    if len(view) < _HEADER_LEN.size:
        raise ProtocolError(f"malformed frame: {len(view)} bytes is shorter than a header")
    (n,) = _HEADER_LEN.unpack_from(view)
    if n > _MAX_HEADER or _HEADER_LEN.size + n > len(view):
        raise ProtocolError(f"malformed frame: header length {n} does not fit a {len(view)}-byte frame")
    try:
        header = json.loads(bytes(view[_HEADER_LEN.size : _HEADER_LEN.size + n]))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"malformed frame: header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise ProtocolError("malformed frame: header is not a JSON object")
    # The version is checked before anything else so that any future header layout still fails here.
    version = header.get("v")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol version mismatch: the other side speaks version {version}, this side speaks "
            f"version {PROTOCOL_VERSION}; the studio and model_runtime come from different builds"
        )
    name = header.get("type")
    cls = MESSAGE_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ProtocolError(f"unknown message type {name!r}")
    data = header.get("data")
    if not isinstance(data, dict):
        raise ProtocolError(f"malformed {name} message: no data object")
    pf = _PAYLOAD[name]
    if pf is not None:
        data[pf] = bytes(view[_HEADER_LEN.size + n :])
    for tf in _TUPLES[name]:
        if isinstance(data.get(tf), list):
            data[tf] = tuple(data[tf])
    try:
        return cls(**data)
    except TypeError as e:
        raise ProtocolError(f"malformed {name} message: {e}") from None


def send(conn: Any, msg: Message, version: int = PROTOCOL_VERSION) -> None:
    """Send one message over a multiprocessing Connection."""
    conn.send_bytes(encode(msg, version))


def recv(conn: Any) -> Message:
    """Receive one message (blocking). EOFError when the other end is gone."""
    return decode(conn.recv_bytes())
