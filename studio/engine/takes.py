"""Between the engine and the project, without Qt (used by the GUI's generation controller and by
the headless renderer alike):

- `shot_request`: a shot's request, with what only the project knows (extend the previous shot's
  chosen take; continuity from its last frame).
- `take_from_clip`: a finished clip's files + metadata -> a Take with project-relative paths.

Adding the take to its shot and the timeline is `studio.project.choice.add_take` (the document's
`add_take` wraps it with signals).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contract.aspects import ASPECTS, nearest_aspect
from contract.capabilities import Capabilities
from contract.files import atomic_path
from studio.engine.params import request_from_params
from studio.errors import StudioError
from studio.media.frames import take_media_path
from studio.project.choice import chosen
from studio.project.containment import inside
from studio.project.schema import MAX_SEED, GenParams, Job, Mode, ProjectData, Take


def _relative(project_dir: Path, path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).resolve().relative_to(Path(project_dir).resolve()).as_posix()
    except ValueError:
        raise StudioError("media_outside_project",
                          f"clip file {path} is not inside the project folder {project_dir}") from None


def take_from_clip(project_dir: str | Path, job: Job, files: dict[str, str], meta: dict[str, Any]) -> Take:
    """The Take for a finished job: project-relative files and the parameters it was made with."""
    project_dir = Path(project_dir)
    params = job.params.model_copy(deep=True)
    seed = meta.get("seed")
    if isinstance(seed, int) and 0 <= seed <= MAX_SEED:
        params.seed = seed
    timings = {k: float(v) for k, v in (meta.get("timings") or {}).items() if isinstance(v, int | float)}
    fps = meta.get("fps")
    if not isinstance(fps, int | float) or isinstance(fps, bool) or not 0 < fps <= 1000:
        raise StudioError("bad_clip", f"the clip's metadata gives no frame rate (fps {fps!r})")
    frames_file = _relative(project_dir, files.get("frames"))
    return Take(
        clip=_relative(project_dir, files.get("video")) or frames_file or "",
        poster=_relative(project_dir, files.get("poster")),
        frames_file=frames_file,
        params=params,
        model_id=str(meta.get("model_id", "")),
        checkpoint_hash=str(meta.get("checkpoint_hash", "")),
        fps=float(fps),
        frames=int(meta.get("frames") or 0),
        width=int(meta.get("width") or 0),
        height=int(meta.get("height") or 0),
        timings=timings,
        created=float(meta.get("created") or 0.0),
    )


def last_frame_png(project_dir: str | Path, take: Take) -> Path:
    """The take's last frame as a PNG in media/continuity/ (written once, atomically)."""
    import cv2
    import numpy as np

    project_dir = Path(project_dir)
    out = inside(project_dir, f"media/continuity/{take.id}-last.png")
    if out.is_file():
        return out
    src = take_media_path(project_dir, take)
    if not src.is_file():
        raise StudioError("missing_media", f"the take file {src.name} is missing from the project's media folder")
    if src.suffix.lower() == ".npy":
        frame = np.load(src, mmap_mode="r", allow_pickle=False)[-1]
    else:
        from studio.media.frames import read_frames

        frame = read_frames(src)[-1]
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR)):
            raise StudioError("io", f"could not write {out.name}")
    return out


def needs_previous_take(params: GenParams) -> bool:
    """Whether a shot's request is built from the previous shot's chosen take: extend with no
    source video of its own, or text-to-video continuing from the previous shot's last frame."""
    return (params.mode == Mode.EXTEND and not params.source_video) or (
        params.continue_from_previous and params.mode == Mode.TEXT_TO_VIDEO)


def shot_request(project: ProjectData, project_dir: str | Path, shot_id: str, params: GenParams,
                 fps: float | None, aspects: list[str] | dict | None = None,
                 pending_take: str | None = None, capabilities: Capabilities | None = None) -> dict[str, Any]:
    """GenParams -> request, plus the previous shot's chosen take for extend and continuity, and the
    model's frame aspect nearest the project's (from `aspects`, the model's; none: its default).
    `fps`: the model's native rate (None: no model yet, the length stays open). `pending_take`: the
    stand-in reference of a draft whose previous shot's take is still being made. `capabilities`:
    the model's (from its WorkerReady): a model that makes one clip per request gets the nearest
    legal frame count at or above the shot's, a model of free size a frame of the project's aspect."""
    project_dir = Path(project_dir)
    aspect = nearest_aspect(project.settings.width, project.settings.height, aspects)
    req = request_from_params(params, project_dir, fps, aspect)
    if capabilities is not None:
        if not capabilities.chain and "frames" in req:
            req["frames"] = capabilities.legal_frames(req["frames"])
        if capabilities.free_size:
            film = nearest_aspect(project.settings.width, project.settings.height, list(ASPECTS))
            req["height"], req["width"] = capabilities.size_for(film)
    if not needs_previous_take(params):
        return req
    ids = [s.id for s in project.shots]
    row = ids.index(shot_id) if shot_id in ids else -1
    prev_take = chosen(project.shots[row - 1]) if row > 0 else None
    if params.mode == Mode.EXTEND:
        if pending_take is not None:
            req["video"] = pending_take
            return req
        if prev_take is None:
            raise StudioError("missing_reference", "extend needs a chosen take on the shot before this one")
        req["video"] = str(take_media_path(project_dir, prev_take))
        return req
    req["mode"] = Mode.IMAGE_TO_VIDEO.value
    if pending_take is not None:
        req["image"] = pending_take
        return req
    if prev_take is None:
        raise StudioError("missing_reference",
                          "“continue from previous shot” needs a chosen take on the shot before this one")
    req["image"] = str(last_frame_png(project_dir, prev_take))
    return req
