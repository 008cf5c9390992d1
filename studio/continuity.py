"""A shot's place among its neighbours, on plain ProjectData (no Qt): the request for a shot with
continuity and extend resolved against the previous shot's chosen take, and choosing a finished
take so the timeline follows.

The headless renderer uses these. The GUI does the same through the Qt document
(studio/ui/generation.py `GenerationController.build_request`, studio/project/commands.py
`apply_choice`); the rules here mirror those, and both could share this module.
"""

from __future__ import annotations

from pathlib import Path

from studio.engine.params import request_from_params
from studio.errors import StudioError
from studio.media.frames import read_frames, take_media_path
from studio.project.schema import GenParams, Mode, ProjectData, Shot, Take, TimelineClip
from studio.project.status import derived_status

CONTINUITY_DIR = "media/continuity"  # last frames used as image-to-video references (as the GUI)


def chosen(shot: Shot) -> Take | None:
    return next((t for t in shot.takes if t.id == shot.chosen_take), None) if shot.chosen_take else None


def previous_take(project: ProjectData, shot_id: str) -> Take | None:
    """The chosen take of the shot before this one in the shot list (None for the first shot)."""
    ids = [s.id for s in project.shots]
    row = ids.index(shot_id) if shot_id in ids else -1
    return chosen(project.shots[row - 1]) if row > 0 else None


def last_frame_image(project_dir: str | Path, take: Take) -> Path:
    """The take's last frame as a PNG in the project (made once per take; written atomically)."""
    import cv2  # only when continuity is used

    folder = Path(project_dir)
    out = folder / CONTINUITY_DIR / f"{take.id}-last.png"
    if not out.is_file():
        frame = read_frames(take_media_path(folder, take))[-1]
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial.png")
        if not cv2.imwrite(str(tmp), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            tmp.unlink(missing_ok=True)
            raise StudioError("io", f"could not write {out.name}")
        tmp.replace(out)
    return out


def shot_request(project: ProjectData, project_dir: str | Path, shot_id: str, params: GenParams,
                 fps: float) -> dict:
    """GenParams -> the worker's request, plus what only the project knows: `continue_from_previous`
    starts the shot from the previous take's last frame (image-to-video: the model keeps that frame
    clean as frame 0, then chains extend clips to the shot's length), and extend without a source
    video continues the previous take."""
    req = request_from_params(params, project_dir, fps)
    prev = previous_take(project, shot_id)
    if params.mode == Mode.EXTEND and not params.source_video:
        if prev is None:
            raise StudioError("missing_reference", "extend needs a chosen take on the shot before this one")
        req["video"] = str(take_media_path(project_dir, prev))
    if params.continue_from_previous and params.mode == Mode.TEXT_TO_VIDEO:
        if prev is None:
            raise StudioError("missing_reference",
                              "“continue from previous shot” needs a chosen take on the shot before this one")
        req["mode"] = Mode.IMAGE_TO_VIDEO.value
        req["image"] = str(last_frame_image(project_dir, prev))
    return req


def _clip_slot(project: ProjectData, shot_id: str) -> int:
    """Where a new clip for this shot goes: after the last clip of a shot earlier in the list."""
    rank = {s.id: i for i, s in enumerate(project.shots)}
    mine = rank.get(shot_id, len(rank))
    slot = 0
    for i, clip in enumerate(project.timeline.clips):
        if rank.get(clip.shot_id, -1) < mine:
            slot = i + 1
    return slot


def choose_take(project: ProjectData, shot: Shot, take: Take) -> None:
    """Add the take to the shot (if new), choose it, and make the timeline agree: an existing clip
    keeps its trim if it fits the new take; a new clip gets the shot's planned transition."""
    if all(t.id != take.id for t in shot.takes):
        shot.takes.append(take)
    shot.chosen_take = take.id
    shot.error = ""
    clips = project.timeline.clips
    clip = next((c for c in clips if c.shot_id == shot.id), None)
    if clip is None:
        clips.insert(_clip_slot(project, shot.id), TimelineClip(
            shot_id=shot.id, take_id=take.id, transition=shot.transition.model_copy()))
    else:
        clip.take_id = take.id
        dur = take.frames / take.fps if take.frames > 0 and take.fps > 0 else None
        if dur is not None and (clip.in_s >= dur or (clip.out_s is not None and clip.out_s > dur)):
            clip.in_s, clip.out_s = 0.0, None
    shot.status = derived_status(shot)
