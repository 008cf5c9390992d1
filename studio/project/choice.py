"""Choosing takes, on plain project data (no Qt): a shot's chosen take is its one clip on the
timeline. The document's commands (with undo and signals) and the headless renderer (without)
both go through these, so the studio and `main.py render` lay out a timeline the same way.
"""

from __future__ import annotations

from studio.project.schema import FrameTime, ProjectData, Shot, ShotStatus, Take, TimelineClip
from studio.project.status import ENGINE_STATES, derive_status


def take_duration(take: Take, *, requested: bool = False) -> float | None:
    """Seconds of media in a take: its frame count at its own fps (the model's). Before its
    metadata has a frame count: None, or with `requested` the duration it was asked for.
    The one place that says how long a take is (timeline, takes browser, export, trims)."""
    if take.frames > 0:
        return take.frames / take.fps
    return take.params.duration.seconds if requested else None


def chosen(shot: Shot) -> Take | None:
    return next((t for t in shot.takes if t.id == shot.chosen_take), None) if shot.chosen_take else None


def clip_slot(project: ProjectData, shot_id: str) -> int:
    """Where a new clip for this shot goes: after the last clip of a shot earlier in the list."""
    rank = {s.id: i for i, s in enumerate(project.shots)}
    mine = rank.get(shot_id, len(rank))
    slot = 0
    for i, clip in enumerate(project.timeline.clips):
        if rank.get(clip.shot_id, -1) < mine:
            slot = i + 1
    return slot


def apply_choice(project: ProjectData, shot: Shot, take_id: str | None) -> None:
    """Set the chosen take and make the timeline agree: the shot's clip shows that take (its trim
    kept if it fits), a new clip goes in shot order, None takes the clip off. The cut into the
    clip is the shot's transition, which stays with the shot.
    Leaves `shot.status` to the caller."""
    shot.chosen_take = take_id
    clips = project.timeline.clips
    idx = next((i for i, c in enumerate(clips) if c.shot_id == shot.id), -1)
    if take_id is None:
        if idx >= 0:
            del clips[idx]
    elif idx >= 0:
        clip = clips[idx]
        clip.take_id = take_id
        take = next((t for t in shot.takes if t.id == take_id), None)
        dur = take_duration(take) if take is not None else None
        # A trim made on another take only survives if it fits this one.
        out = clip.out_point
        if dur is not None and (clip.in_point.seconds >= dur or (out is not None and out.seconds > dur)):
            clip.in_point, clip.out_point = FrameTime(value=0, rate=project.settings.fps), None
    else:
        clips.insert(clip_slot(project, shot.id), TimelineClip(
            shot_id=shot.id, take_id=take_id, in_point=FrameTime(value=0, rate=project.settings.fps)))


def add_take(project: ProjectData, shot: Shot, take: Take, choose: bool | None = None) -> bool | None:
    """A finished take joins its shot and ends its job's queued/generating/failed state. It is
    chosen when `choose`, or when `choose` is None and the shot has no chosen take yet.
    Returns whether it was chosen (the timeline changed); None when the shot already had this take
    (reported twice, e.g. after an engine restart: nothing changes)."""
    if any(t.id == take.id for t in shot.takes):
        return None
    shot.takes.append(take)
    shot.error = ""
    if shot.status in ENGINE_STATES:
        shot.status = ShotStatus.DRAFT  # the job is over; derived again below
    picked = bool(choose or (choose is None and shot.chosen_take is None))
    if picked:
        apply_choice(project, shot, take.id)
    shot.status = derive_status(shot)
    return picked
