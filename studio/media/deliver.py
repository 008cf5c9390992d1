"""One call from a project to a finished film: resolve the timeline, assemble, encode, write the
provenance sidecar. The export dialog and the headless render use this, and so share its guard:
the sidecar (`<film>.json`) never replaces a JSON that is not an earlier sidecar of ours
(`render lantern.json -o lantern.mp4` would otherwise overwrite the storyboard)."""

from __future__ import annotations

import errno
from pathlib import Path

from studio.errors import StudioError
from studio.media.assembly import assemble, frame_count
from studio.media.export import Cancel, Progress, export, output_path, remove_output
from studio.media.presets import ExportSettings, resolve_settings
from studio.media.provenance import build, is_sidecar, sidecar_path, write_sidecar
from studio.media.resolve import resolve_timeline
from studio.project.schema import ProjectData


def project_settings(project: ProjectData, **changes) -> ExportSettings:
    """H.264 at the project's own frame rate and size (sizes rounded down to even for 4:2:0)."""
    s = project.settings
    base = {"width": s.width - s.width % 2, "height": s.height - s.height % 2, "fps": s.fps}
    return ExportSettings(**{**base, **changes})


def check_sidecar(film: str | Path) -> None:
    """Refuse (StudioError "path") when the film's sidecar would replace a file that is not an
    earlier export's sidecar. The film's own path is the caller's (a film is replaced on purpose)."""
    side = sidecar_path(film)
    if side.exists() and not is_sidecar(side):
        raise StudioError("path", f"{side.name} is not a film's provenance sidecar and the export would "
                                  "overwrite it; give the film another name")


def plan(project: ProjectData, project_dir: str | Path, settings: str | ExportSettings,
         span: tuple[int, int] | None = None) -> tuple[int, float]:
    """(frames, seconds) the export will have; raises the same StudioError the export would."""
    s = resolve_settings(settings)
    segs = [c.segment() for c in resolve_timeline(project, project_dir)]
    start, stop = export_span(frame_count(segs, s.fps), span)
    return stop - start, (stop - start) / s.fps


def export_span(n: int, span: tuple[int, int] | None) -> tuple[int, int]:
    """The frames [start, stop) of an n-frame film to export: all of it, or the editor's in–out range
    (clamped to the film; StudioError "range" when nothing of it is left)."""
    if span is None:
        return 0, n
    start, stop = max(0, int(span[0])), min(n, int(span[1]))
    if stop <= start:
        raise StudioError("range", f"the range {span[0]}–{span[1]} holds no frame of the {n}-frame film")
    return start, stop


def marks_span(mark_in: int, mark_out: int, marks_fps: float, fps: float) -> tuple[int, int]:
    """The player's in and out marks on the film (frames at `marks_fps`; the out frame is shown, so
    it is part of the range) -> the film's frames [start, stop) at the export's `fps`, the same
    stretch of time (at least one frame)."""
    start = round(mark_in * fps / marks_fps)
    return start, max(start + 1, round((mark_out + 1) * fps / marks_fps))


def shots_left_out(project: ProjectData) -> list[int]:
    """The shots (1-based, as the UI numbers them) with no clip on the timeline, that is no chosen
    take (`studio.project.choice`): the film will not have them."""
    on_timeline = {c.shot_id for c in project.timeline.clips}
    return [n for n, shot in enumerate(project.shots, start=1) if shot.id not in on_timeline]


def export_project(
    project: ProjectData,
    project_dir: str | Path,
    path: str | Path,
    settings: str | ExportSettings,
    audio: str | Path | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    span: tuple[int, int] | None = None,
) -> Path:
    """Export the project's timeline to `path` (+ `<film>.json` beside it); returns the film's path.
    `span`: only the film's frames [start, stop) at the export's rate (the editor's in–out range)."""
    s = resolve_settings(settings)
    check_sidecar(output_path(path, s))
    clips = resolve_timeline(project, project_dir)
    if not clips:
        raise StudioError("empty", "the timeline is empty: add a take to it before exporting")
    segs = [c.segment() for c in clips]
    start, stop = export_span(frame_count(segs, s.fps), span)
    n = stop - start
    frames = assemble(segs, s.fps, s.width, s.height, s.fit, scaler=s.scaler, motion=s.motion,
                      start=start, stop=stop)
    film = export(frames, n, path, s, audio, progress, cancel)
    try:
        write_sidecar(sidecar_path(film), build(project, clips, s, film, n, Path(audio) if audio else None))
    except OSError as e:
        # a film without its provenance is not a finished export
        remove_output(film)
        if e.errno == errno.ENOSPC:
            raise StudioError(
                "disk_full", f"disk full: no space for {sidecar_path(film).name}; nothing was saved"
            ) from e
        raise StudioError("encode", f"could not write {sidecar_path(film).name}: {e.strerror or e}") from e
    return film
