"""Generation parameters on the studio side: GenParams -> the worker's request dict, and checking a
request before it is sent, so a user mistake is a one-line StudioError and never reaches the worker.

The request dict is `contract.request.GenerationRequest.to_wire()`; `image` and `video` are file
paths (the worker loads them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contract.capabilities import Capabilities
from contract.protocol import WorkerReady
from contract.request import GenerationRequest, RequestError
from studio.errors import StudioError
from studio.project.schema import Camera, GenParams, Mode, Motion, ShotSize


def validate_request(req: dict[str, Any], native_frames: int | None = None,
                     aspects: list[str] | None = None, check_files: bool = True,
                     capabilities: Capabilities | None = None) -> None:
    """Raise StudioError (one line) for anything the worker would reject or choke on: the contract's
    one validate() — against the model's Capabilities when known (`capabilities`, from WorkerReady)
    — plus that the files it names exist (`check_files=False` for a job whose reference another
    queued job has yet to make). `aspects`: the frame aspects the model makes (None: not known yet,
    any the contract names)."""
    try:
        request = GenerationRequest.from_wire(req)
        if capabilities is not None:
            request.validate_for(capabilities)
        else:
            request.validate(native_frames, aspects)
    except RequestError as e:
        raise StudioError(e.kind, e.message) from None
    if not check_files:
        return
    if request.mode == "i2v":
        _check_file(request.image, "reference image")
    if request.mode in ("extend", "v2v"):
        _check_file(request.video, "source video")


def _check_file(path: str, what: str) -> None:
    if not Path(path).is_file():
        raise StudioError("missing_reference", f"{what} not found: {path}")


def compose_prompt(p: GenParams) -> str:
    """The prompt text with the shot's explicit fields in front: the toy-world parser keeps the first
    value it reads for a slot, so a field set in the inspector overrides the prompt's own word."""
    parts = []
    if p.shot_size != ShotSize.AUTO:
        parts.append(f"{p.shot_size.value} shot")
    if p.motion != Motion.AUTO:
        parts.append(p.motion.value)
    if p.camera != Camera.AUTO:
        parts.append(f"camera {p.camera.value}")
    parts.append(p.prompt.strip())
    return ", ".join(x for x in parts if x)


def capabilities_of(ready: WorkerReady | None) -> Capabilities | None:
    """The model's Capabilities from its WorkerReady (None before a worker is ready, or from a
    worker that does not send them)."""
    if ready is None or not ready.capabilities:
        return None
    try:
        return Capabilities.from_dict(ready.capabilities)
    except (TypeError, ValueError):
        return None


def validate_for_worker(req: dict[str, Any], ready: WorkerReady | None, check_files: bool = True) -> None:
    """validate_request with everything the worker that sent `ready` said about its model."""
    validate_request(req, ready.frames if ready else None, ready.aspects if ready else None, check_files,
                     capabilities_of(ready))


def clip_frames(p: GenParams, fps: float) -> int:
    """The shot's length in frames at the model's native rate `fps` (the model's own, from its info)."""
    return max(1, p.duration.at_rate(fps))


def request_from_params(p: GenParams, project_dir: str | Path | None, fps: float | None,
                        aspect: str | None = None) -> dict[str, Any]:
    """A shot's GenParams -> the worker's request dict. `fps` is the model's native frame rate (from
    the worker's WorkerReady): the duration becomes a frame count there (the studio conforms to the
    project rate on assembly); None while no model is known: the request leaves its length open.
    `aspect`: the model's frame aspect to ask for (nearest_aspect), or None for its default."""

    def resolve(rel: str | None) -> str | None:
        if not rel:
            return None
        path = Path(rel)
        if not path.is_absolute() and project_dir is not None:
            path = Path(project_dir) / path
        return str(path)

    req: dict[str, Any] = {
        "prompt": compose_prompt(p),
        "negative_prompt": p.negative_prompt,
        "seed": int(p.seed),
        "steps": int(p.steps),
        "sampler": p.sampler,
        "guidance": float(p.guidance),
        "mode": p.mode.value,
    }
    if fps:
        req["frames"] = clip_frames(p, fps)
    if aspect is not None:
        req["aspect"] = aspect
    if p.mode == Mode.IMAGE_TO_VIDEO:
        req["image"] = resolve(p.reference_image)
    elif p.mode in (Mode.EXTEND, Mode.VIDEO_TO_VIDEO):
        req["video"] = resolve(p.source_video)
    if p.mode == Mode.VIDEO_TO_VIDEO:
        req["strength"] = float(p.strength)
    return req
