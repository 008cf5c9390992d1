"""A finished clip from the worker -> the project's Take (paths relative to the project folder)."""

from __future__ import annotations

from pathlib import Path

from studio.errors import StudioError
from studio.project.schema import Job, Take
from studio.protocol import ClipDone


def take_from_clip(job: Job, clip: ClipDone, project_dir: str | Path) -> Take:
    root = Path(project_dir).resolve()

    def rel(role: str) -> str | None:
        path = clip.files.get(role)
        if not path:
            return None
        try:
            return Path(path).resolve().relative_to(root).as_posix()
        except ValueError:
            raise StudioError("media_outside_project", f"clip file {path} is not inside the project folder {root}") from None

    meta = clip.metadata
    return Take(
        clip=rel("video") or rel("frames"),
        poster=rel("poster"),
        frames_file=rel("frames"),
        params=job.params.model_copy(deep=True),
        model_id=str(meta.get("model_id", "")),
        checkpoint_hash=str(meta.get("checkpoint_hash", "")),
        fps=float(meta.get("fps", 8.0)),
        frames=int(meta.get("frames", 0)),
        width=int(meta.get("width", 0)),
        height=int(meta.get("height", 0)),
        timings={k: float(v) for k, v in meta.get("timings", {}).items()},
        created=float(meta.get("created", 0.0)),
    )
