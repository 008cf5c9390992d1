"""Where each timeline clip sits in time: the numbers the timeline draws and the player plays.

Timing rules (how a transition overlaps or fades) are the media assembly's (`studio.media.assembly
.layout`); this module only resolves each clip's take length and trim, so that the timeline, the
player and an export agree to the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.media.assembly import layout as assembly_layout
from studio.project.choice import take_duration
from studio.project.schema import Shot, TimelineClip, TransitionKind

MIN_CLIP_S = 0.05  # shortest clip a trim may leave


@dataclass(frozen=True)
class ClipSpan:
    index: int
    shot_id: str
    take_id: str
    start_s: float  # where the clip starts in the film
    in_s: float
    out_s: float  # resolved: the take's end when the clip says None
    take_s: float  # full take length (trim limits)
    transition: TransitionKind  # effective: cut when its length is 0
    transition_s: float  # effective length (assembly shortens one that does not fit)

    @property
    def length_s(self) -> float:
        return self.out_s - self.in_s

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass
class _Timed:  # the shape assembly.layout reads
    in_s: float
    out_s: float
    transition: str
    transition_s: float


def clip_spans(clips: list[TimelineClip], shot_of) -> list[ClipSpan]:
    """Clip spans in play order. `shot_of(clip) -> Shot | None` (its take, and the transition into
    it, are the shot's); clips whose shot or take is gone are left out."""
    rows = []
    for clip in clips:
        shot: Shot | None = shot_of(clip)
        take = next((t for t in shot.takes if t.id == clip.take_id), None) if shot is not None else None
        if take is None:
            continue
        take_s = take_duration(take, requested=True)
        out_s = take_s if clip.out_point is None else min(clip.out_point.seconds, take_s)
        in_s = min(clip.in_point.seconds, max(out_s - MIN_CLIP_S, 0.0))
        transition = shot.transition
        rows.append((clip, take_s, _Timed(in_s, out_s, transition.kind.value, transition.duration.seconds)))
    spans = assembly_layout([t for _c, _s, t in rows])
    return [
        ClipSpan(i, clip.shot_id, clip.take_id, span.start, timed.in_s, timed.out_s, take_s,
                 TransitionKind(span.transition), span.transition_s)
        for i, ((clip, take_s, timed), span) in enumerate(zip(rows, spans, strict=True))
    ]


def total_duration(spans: list[ClipSpan]) -> float:
    return max((s.end_s for s in spans), default=0.0)
