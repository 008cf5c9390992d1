"""The whole film as a frame source for the player: the media assembly, streamed and cached."""

from __future__ import annotations

from studio.errors import StudioError
from studio.media.assembly import assemble, frame_count
from studio.media.resolve import segments_from_project
from studio.ui.frame_source import StreamFrameSource

PREVIEW_HEIGHT = 360  # playback raster; the viewer scales it to the widget


def preview_size(width: int, height: int, max_height: int = PREVIEW_HEIGHT) -> tuple[int, int]:
    """The project's aspect at a cheap playback size (even numbers)."""
    h = min(height, max_height)
    w = max(2, round(width * h / height / 2) * 2)
    return w, max(2, h // 2 * 2)


def film_source(doc, max_height: int = PREVIEW_HEIGHT) -> StreamFrameSource | None:
    """None for an empty timeline; StudioError when a clip cannot be resolved (missing media)."""
    if doc.path is None or not doc.clips():
        return None
    segments = segments_from_project(doc.data, doc.path)
    if not segments:
        return None
    fps = doc.settings.fps
    width, height = preview_size(doc.settings.width, doc.settings.height, max_height)
    count = frame_count(segments, fps)
    if count <= 0:
        raise StudioError("timeline", "the timeline has no frames")
    return StreamFrameSource(lambda start: assemble(segments, fps, width, height, start=start), count, fps)
