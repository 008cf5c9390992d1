"""Shot status rules (no Qt): what `Shot.status` must say, derived from the shot's takes.

`ready`/`stale`/`draft` are derived, never set by hand: a shot with a chosen take is `stale` when
its generating parameters differ from the ones that take was made with, `ready` otherwise, and
`draft` without a chosen take. `queued`/`generating`/`failed` are set by the engine integration and
win while they last (the derived value comes back when they are cleared or a take arrives).
"""

from __future__ import annotations

from studio.project.schema import GenParams, JobState, ProjectData, Shot, ShotStatus

ENGINE_STATES = frozenset({ShotStatus.QUEUED, ShotStatus.GENERATING, ShotStatus.FAILED})
# Fields of GenParams that do not change a take's pixels.
NON_GENERATING = frozenset({"seed_locked"})


def generating_params(params: GenParams) -> dict:
    return {k: v for k, v in params.model_dump().items() if k not in NON_GENERATING}


def is_stale(shot: Shot) -> bool:
    """The chosen take was made with other generating parameters than the shot has now."""
    if shot.chosen_take is None:
        return False
    take = next((t for t in shot.takes if t.id == shot.chosen_take), None)
    if take is None:
        return False
    return generating_params(take.params) != generating_params(shot.params)


def derived_status(shot: Shot) -> ShotStatus:
    """The status from the takes alone (ignores engine states)."""
    if shot.chosen_take is None or not any(t.id == shot.chosen_take for t in shot.takes):
        return ShotStatus.DRAFT
    return ShotStatus.STALE if is_stale(shot) else ShotStatus.READY


def derive_status(shot: Shot) -> ShotStatus:
    """What `shot.status` should be now: an engine state while one is set, else `derived_status`."""
    if shot.status in ENGINE_STATES:
        return shot.status
    return derived_status(shot)


def normalize_engine_state(data: ProjectData) -> None:
    """Make a project just read from disk true, as the job queue will restore it
    (`JobQueue.restore_queue`): nothing is running in a project that is being opened, so a running
    job is queued again (`Job.restored`), and a shot saved as queued/generating is `queued` while
    it has an unfinished job, else back to its derived status. Done on load, not by the UI after
    it, so opening a project leaves it clean."""
    data.queue = [j.restored() for j in data.queue]
    pending = {j.shot_id for j in data.queue if j.state == JobState.QUEUED}
    for shot in data.shots:
        if shot.status in (ShotStatus.QUEUED, ShotStatus.GENERATING):
            shot.status = ShotStatus.QUEUED if shot.id in pending else derived_status(shot)
        elif shot.status != ShotStatus.FAILED:
            shot.status = derived_status(shot)
