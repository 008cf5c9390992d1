"""Choosing takes, on plain project data (no Qt): a shot's chosen take is its one clip on the
timeline. The document's commands (with undo and signals) and the headless renderer (without)
both go through these, so the studio and `main.py render` lay out a timeline the same way.
"""

from __future__ import annotations

from studio.project.schema import ProjectData, Shot, ShotStatus, Take, TimelineClip
from studio.project.status import ENGINE_STATES, derive_status


def take_duration(take: Take) -> float | None:
    """Seconds of media in a take; None before its metadata has a frame count."""
    return take.frames / take.fps if take.frames > 0 and take.fps > 0 else None


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
    kept if it fits, its transition kept), a new clip goes in shot order, None takes the clip off.
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
        if dur is not None and (clip.in_s >= dur or (clip.out_s is not None and clip.out_s > dur)):
            clip.in_s, clip.out_s = 0.0, None
    else:
        clips.insert(clip_slot(project, shot.id), TimelineClip(
            shot_id=shot.id, take_id=take_id, transition=shot.transition.model_copy()))


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
