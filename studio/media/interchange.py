"""The timeline through OpenTimelineIO: `.otio`, and CMX 3600 EDL / FCP 7 XML via the OTIO adapter
plugins (otio-cmx3600-adapter, otio-fcp-adapter), and back from `.otio` into timeline clips.

Mapping (OTIO keeps clips end to end; a Transition borrows the media either side of a cut):

* a clip is an otio Clip whose media is the take's MP4 (ExternalReference, file URL) and whose
  source_range is the trim, less what the neighbouring transitions borrow;
* crossfade of d: one SMPTE_Dissolve centred on the cut (in_offset = out_offset = d/2), so the
  overlap uses exactly the trimmed media of both clips and the track is d shorter;
* fade through black of d: dissolve to a black Gap and dissolve out of it: Dissolve(d/4, d/4),
  Gap(d/2), Dissolve(d/4, d/4). The picture fades out over the last d/2 of the outgoing trim and in
  over the first d/2 of the incoming one, duration unchanged: our exact semantics, in the two
  things every adapter carries (dissolves and black filler; in an EDL, dissolves to and from BL);
* into the first clip, the fade in from black starts from a leading Gap the same way (a
  crossfade into the first clip is a cut on assembly, so none is written).

FCP 7 XML cannot hold that black gap (otio-fcp-adapter writes no gaps, and clips beside
transitions carry no position), but it has fades of its own: a transition aligned "end-black" or
"start-black". So for `.xml` each black gap and its dissolves become an end-black dissolve over the
outgoing clip's last d/2 and a start-black one over the incoming clip's first d/2, which that
adapter writes and reads back with the exact timing.

Times are at the project frame rate. `.otio` keeps exact (fractional) frame values; for EDL and XML
every time is snapped to whole frames first, as those formats require. Clips and transitions carry
`metadata["vstudio"]` (shot id, take id, transition kind) so a re-import matches takes by id, and
falls back to the media path. Read back, trims and transition lengths are whole frames at the
project's rate (`FrameTime`), and each clip comes with the transition into it, which belongs to its
shot (`Shot.transition`).
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlparse

import opentimelineio as otio

from contract.files import atomic_write
from studio.errors import StudioError
from studio.media.assembly import layout
from studio.media.resolve import resolve_timeline, take_duration
from studio.project.schema import FrameTime, ProjectData, TimelineClip, Transition, TransitionKind

FORMATS = {".otio": "otio_json", ".edl": "cmx_3600", ".xml": "fcp_xml"}
_KEY = "vstudio"


class ReadClip(NamedTuple):
    """A timeline clip read back, and the cut into it (for its shot's `transition`)."""

    clip: TimelineClip
    transition: Transition


def _rt(seconds: float, rate: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(seconds * rate, rate)


def _range(start: float, duration: float, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start, rate), _rt(duration, rate))


def _dissolve(
    before: float, after: float, rate: float, kind: str, d: float, name: str
) -> otio.schema.Transition:
    return otio.schema.Transition(
        name=name,
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=_rt(before, rate),
        out_offset=_rt(after, rate),
        metadata={_KEY: {"kind": kind, "duration": d}},
    )


def _black(duration: float, rate: float) -> otio.schema.Gap:
    # a gap's start is arbitrary; starting it at its own length keeps the EDL writer, which moves
    # gap edges by the transitions' offsets, away from negative timecodes
    return otio.schema.Gap(name="black", source_range=_range(duration, duration, rate))


def _borrow(kind: str, d: float, first: bool) -> tuple[float, float]:
    """(seconds the transition into a clip takes from the previous clip's trim, from this one's)."""
    if kind == "crossfade":  # never into the first clip (assembly.layout makes that a cut)
        return d / 2, d / 2
    if kind == "fade_black":
        return (0.0, d / 4) if first else (d / 4, d / 4)
    return 0.0, 0.0


def to_otio(project: ProjectData, project_dir: str | Path) -> otio.schema.Timeline:
    """The project's timeline as an OTIO Timeline with one video track."""
    rate = float(project.settings.fps)
    clips = resolve_timeline(project, project_dir)
    spans = layout([c.segment() for c in clips])
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for k, (c, span) in enumerate(zip(clips, spans, strict=True)):
        kind, d = span.transition, span.transition_s
        head = _borrow(kind, d, k == 0)[1]
        tail = 0.0
        if k + 1 < len(spans):
            tail = _borrow(spans[k + 1].transition, spans[k + 1].transition_s, False)[0]
        if kind == "crossfade":
            track.append(_dissolve(d / 2, d / 2, rate, kind, d, "Cross Dissolve"))
        elif kind == "fade_black":
            if k > 0:
                track.append(_dissolve(d / 4, d / 4, rate, kind, d, "Fade to black"))
            track.append(_black(d / 2 if k else d / 4, rate))
            track.append(_dissolve(d / 4, d / 4, rate, kind, d, "Fade from black"))
        media_path = (Path(project_dir) / c.take.clip).absolute()
        ref = otio.schema.ExternalReference(
            target_url=media_path.as_uri(),
            available_range=_range(0, c.take_duration, rate),
        )
        prompt = c.take.params.prompt.strip()
        track.append(
            otio.schema.Clip(
                name=f"Shot {c.shot_number}" + (f": {prompt[:48]}" if prompt else ""),
                media_reference=ref,
                source_range=_range(c.in_s + head, c.out_s - c.in_s - head - tail, rate),
                metadata={_KEY: {"shot_id": c.shot.id, "take_id": c.take.id, "take_file": c.take.clip}},
            )
        )
    timeline = otio.schema.Timeline(name=project.title, global_start_time=_rt(0, rate))
    timeline.tracks.append(track)
    return timeline


def _snap_to_frames(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy with every time on a whole frame (EDL and FCP XML count frames)."""
    timeline = timeline.deepcopy()

    def snap(t: otio.opentime.RationalTime) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(round(t.value), t.rate)

    def snap_range(r: otio.opentime.TimeRange) -> otio.opentime.TimeRange:
        start = snap(r.start_time)
        end = snap(r.end_time_exclusive())
        return otio.opentime.TimeRange(start, end - start)

    for item in timeline.tracks[0]:
        if isinstance(item, otio.schema.Transition):
            item.in_offset, item.out_offset = snap(item.in_offset), snap(item.out_offset)
        else:
            item.source_range = snap_range(item.source_range)
            if isinstance(item, otio.schema.Clip) and item.media_reference.available_range:
                item.media_reference.available_range = snap_range(item.media_reference.available_range)
    return timeline


def _fcp_fades(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy where every dissolve-black-dissolve is an end-black + start-black pair (FCP 7)."""
    timeline = timeline.deepcopy()
    track = timeline.tracks[0]
    items = list(track)
    out: list = []
    for i, item in enumerate(items):
        if isinstance(item, otio.schema.Gap):
            continue
        if isinstance(item, otio.schema.Transition):
            before = items[i - 1] if i > 0 else None
            after = items[i + 1] if i + 1 < len(items) else None
            zero = otio.opentime.RationalTime(0, item.in_offset.rate)
            whole = item.in_offset + item.out_offset
            if isinstance(after, otio.schema.Gap):  # fade to black: give the clip back its tail
                r = before.source_range
                before.source_range = otio.opentime.TimeRange(r.start_time, r.duration + item.out_offset)
                item.in_offset, item.out_offset = whole, zero
            elif isinstance(before, otio.schema.Gap):  # fade up from black: give back the head
                r = after.source_range
                after.source_range = otio.opentime.TimeRange(
                    r.start_time - item.in_offset, r.duration + item.in_offset
                )
                item.in_offset, item.out_offset = zero, whole
        out.append(item)
    track.clear()
    track.extend(out)
    return timeline


def write_timeline(project: ProjectData, project_dir: str | Path, path: str | Path) -> Path:
    """Write `.otio`, `.edl` (CMX 3600) or `.xml` (FCP 7 XML) by the path's extension; atomic."""
    path = Path(path)
    adapter = FORMATS.get(path.suffix.lower())
    if adapter is None:
        raise StudioError(
            "settings", f"unknown timeline format {path.suffix or path.name!r}; use .otio, .edl or .xml"
        )
    if not path.parent.is_dir():
        raise StudioError("path", f"the folder {path.parent} does not exist")
    timeline = to_otio(project, project_dir)
    if adapter == "fcp_xml":
        timeline = _fcp_fades(timeline)
    if adapter != "otio_json":
        timeline = _snap_to_frames(timeline)
    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    except otio.exceptions.NoKnownAdapterForExtensionError as e:
        raise StudioError("interchange", f"the OTIO adapter {adapter} is not installed") from e
    except (otio.exceptions.OTIOError, ValueError, RuntimeError) as e:
        raise StudioError("interchange", f"cannot write {path.name}: {e}") from e
    try:
        return atomic_write(path, text)
    except OSError as e:
        raise StudioError(
            "disk_full" if e.errno == errno.ENOSPC else "path", f"cannot write {path.name}: {e.strerror}"
        ) from e


# ---------------------------------------------------------------------------------------------
# Import


def _seconds(t: otio.opentime.RationalTime) -> float:
    return t.to_seconds()


def _url_path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)


def _match_take(clip: otio.schema.Clip, project: ProjectData, project_dir: Path):
    """(shot, take) for an otio clip: by the ids we stored, else by the media file."""
    meta = clip.metadata.get(_KEY, {})
    for shot in project.shots:
        if shot.id == meta.get("shot_id"):
            take = next((t for t in shot.takes if t.id == meta.get("take_id")), None)
            if take is not None:
                return shot, take
    ref = clip.media_reference
    url = getattr(ref, "target_url", "") or ""
    if url:
        target = _url_path(url)
        for shot in project.shots:
            for take in shot.takes:
                for rel in (take.clip, take.frames_file):
                    if rel and (
                        (project_dir / rel).absolute() == target.absolute() or Path(rel).name == target.name
                    ):
                        return shot, take
    raise StudioError("interchange", f"clip {clip.name!r} refers to media that is not a take of this project")


def from_otio(
    timeline: otio.schema.Timeline, project: ProjectData, project_dir: str | Path
) -> list[ReadClip]:
    """Timeline clips, each with the transition into it, from the first video track of an OTIO
    timeline (gaps that are not part of a fade through black are closed up: the studio's timeline
    has none). Times are whole frames at the project's fps."""
    project_dir = Path(project_dir)
    rate = float(project.settings.fps)
    tracks = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if not tracks:
        raise StudioError("interchange", "the timeline has no video track")
    items = list(tracks[0])
    out: list[ReadClip] = []
    pending: list = []  # transitions and gaps since the last clip
    for item in items:
        if not isinstance(item, otio.schema.Clip):
            pending.append(item)
            continue
        shot, take = _match_take(item, project, project_dir)
        # the trim is what shows, including the media transitions borrow either side of the cuts
        rng = item.visible_range()
        start, end = rng.start_time, rng.end_time_exclusive()
        transition = _transition_into(pending, rate, first=not out)
        pending = []
        duration = take_duration(project_dir, take)
        at_end = abs(_seconds(end) - duration) < 1e-6
        clip = TimelineClip(
            shot_id=shot.id,
            take_id=take.id,
            in_point=FrameTime.from_otio(start, rate) if start.value > 0 else FrameTime(value=0, rate=rate),
            out_point=None if at_end else FrameTime.from_otio(end, rate),
        )
        out.append(ReadClip(clip, transition))
    return out


def _transition_into(pending: list, rate: float, first: bool) -> Transition:
    transitions = [p for p in pending if isinstance(p, otio.schema.Transition)]
    if not transitions:
        return Transition(duration=FrameTime(value=0, rate=rate))
    span = sum(_seconds(t.in_offset) + _seconds(t.out_offset) for t in transitions)
    kind = transitions[-1].metadata.get(_KEY, {}).get("kind")
    has_gap = any(isinstance(p, otio.schema.Gap) for p in pending)
    if kind is None:  # from another tool: a dissolve through filler is a fade through black
        kind = "fade_black" if has_gap and (len(transitions) == 2 or first) else "crossfade"
    # the dissolves span d in all, except a fade up from black into the first clip: d/2
    d = 2 * span if kind == "fade_black" and first else span
    return Transition(kind=TransitionKind(kind), duration=FrameTime.from_seconds(d, rate))


def read_timeline(path: str | Path, project: ProjectData, project_dir: str | Path) -> list[ReadClip]:
    """Timeline clips (with the transition into each) from an `.otio` file, matched to this
    project's takes."""
    path = Path(path)
    if not path.is_file():
        raise StudioError("path", f"{path.name} does not exist")
    try:
        timeline = otio.adapters.read_from_file(str(path), adapter_name="otio_json")
    except Exception as e:  # OTIO raises a variety of parse errors; the user needs one line
        raise StudioError("interchange", f"{path.name} is not a readable OTIO file: {e}") from e
    return from_otio(timeline, project, project_dir)
