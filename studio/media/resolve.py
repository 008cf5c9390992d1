"""From a project to assembly input: each timeline clip resolved to its shot, take, media file and
trim, and the `Segment` list the assembler, the exporter, provenance and interchange share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.errors import StudioError
from studio.media.assembly import Segment
from studio.media.frames import TakeFrames, count_frames, take_media_path
from studio.project.choice import take_duration as known_duration
from studio.project.schema import ProjectData, Shot, Take, TimelineClip


@dataclass
class ResolvedClip:
    index: int  # position on the timeline, from 0
    clip: TimelineClip
    shot: Shot
    shot_number: int  # 1-based position in the shot list, how the UI names shots
    take: Take
    media: Path  # absolute path the pixels are read from (.npy preferred)
    take_duration: float  # seconds of the whole take
    in_s: float
    out_s: float  # resolved: a None out point is the take's end

    def segment(self) -> Segment:
        transition = self.shot.transition  # the cut into the clip is its shot's
        return Segment(
            frames=TakeFrames(self.media),
            fps=self.take.fps,
            in_s=self.in_s,
            out_s=self.out_s,
            transition=transition.kind.value,
            transition_s=transition.duration.seconds,
            label=f"shot {self.shot_number}",
        )


def take_duration(project_dir: str | Path, take: Take) -> float:
    """Seconds of a take (`choice.take_duration`); one whose metadata has no frame count yet is
    measured from its media file."""
    seconds = known_duration(take)
    if seconds is not None:
        return seconds
    path = take_media_path(project_dir, take)
    if not path.is_file():
        raise StudioError(
            "missing_media", f"the take file {path.name} is missing from the project's media folder"
        )
    n, _ = count_frames(path)
    return n / take.fps


def resolve_timeline(
    project: ProjectData, project_dir: str | Path, check_files: bool = True
) -> list[ResolvedClip]:
    """Every timeline clip with its shot and take; a clear StudioError for a dangling reference, a
    missing file or a trim outside the take."""
    project_dir = Path(project_dir)
    shots = {s.id: (n, s) for n, s in enumerate(project.shots, start=1)}
    out: list[ResolvedClip] = []
    for i, clip in enumerate(project.timeline.clips):
        if clip.shot_id not in shots:
            raise StudioError("timeline", f"timeline clip {i + 1} refers to a shot that no longer exists")
        number, shot = shots[clip.shot_id]
        take = next((t for t in shot.takes if t.id == clip.take_id), None)
        if take is None:
            raise StudioError("timeline", f"timeline clip {i + 1}: shot {number} has no take {clip.take_id}")
        media = take_media_path(project_dir, take)
        if check_files and not media.is_file():
            raise StudioError(
                "missing_media",
                f"shot {number}: the take file {media.name} is missing from the project's media folder",
            )
        duration = take_duration(project_dir, take)
        in_s = clip.in_point.seconds
        out_s = duration if clip.out_point is None else min(clip.out_point.seconds, duration)
        if in_s >= out_s:
            raise StudioError(
                "timeline",
                f"shot {number}: the trim ({in_s:g}s to {out_s:g}s) leaves nothing of the {duration:g}s take",
            )
        out.append(ResolvedClip(i, clip, shot, number, take, media, duration, in_s, out_s))
    return out


def segments_from_project(project: ProjectData, project_dir: str | Path) -> list[Segment]:
    """The project's timeline as assembly segments (nothing is decoded until assembly runs)."""
    return [r.segment() for r in resolve_timeline(project, project_dir)]
