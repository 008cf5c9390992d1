"""The provenance sidecar written beside every export (`<film>.json`): for each clip, everything that
decided its pixels (prompt, negative prompt, seed, sampler, steps, guidance, mode, model id and
checkpoint hash, ...), which take and trim and transition it used, and the export settings and app
version, so the film can be regenerated and re-cut."""

from __future__ import annotations

import json
import time
from importlib import metadata
from pathlib import Path

from contract.files import atomic_write
from studio.media.assembly import layout
from studio.media.presets import ExportSettings
from studio.media.resolve import ResolvedClip
from studio.project.schema import ProjectData

SIDECAR_FORMAT = "vstudio.provenance"
SIDECAR_VERSION = 1


def app_version() -> str:
    try:
        return metadata.version("vstudio")
    except metadata.PackageNotFoundError:
        return "unknown"


def sidecar_path(film: str | Path) -> Path:
    """`film.mp4` -> `film.json`; a PNG folder `film` -> `film.json` beside it."""
    film = Path(film)
    return film.with_name(film.stem + ".json") if film.suffix else film.with_name(film.name + ".json")


def is_sidecar(path: Path) -> bool:
    """Whether `path` is a sidecar an earlier export wrote (so a new export may replace it)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")).get("format") == SIDECAR_FORMAT
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return False


def build(
    project: ProjectData,
    clips: list[ResolvedClip],
    settings: ExportSettings,
    film: Path,
    frames: int,
    audio: Path | None = None,
) -> dict:
    spans = layout([c.segment() for c in clips])
    entries = []
    for c, span in zip(clips, spans, strict=True):
        p = c.take.params
        entries.append(
            {
                "index": c.index,
                "shot_id": c.shot.id,
                "shot_number": c.shot_number,
                "take_id": c.take.id,
                "take_file": c.take.clip,
                "frames_file": c.take.frames_file,
                "in_s": c.in_s,
                "out_s": c.out_s,
                "out_s_is_take_end": c.clip.out_point is None,
                "transition": {"kind": c.shot.transition.kind.value, "duration": c.shot.transition.duration.seconds},
                "effective_transition_s": span.transition_s,
                "timeline_start_s": span.start,
                "generation": {
                    "prompt": p.prompt,
                    "negative_prompt": p.negative_prompt,
                    "seed": p.seed,
                    "sampler": p.sampler,
                    "steps": p.steps,
                    "guidance": p.guidance,
                    "mode": p.mode.value,
                    "shot_size": p.shot_size.value,
                    "camera": p.camera.value,
                    "motion": p.motion.value,
                    "duration": p.duration.seconds,
                    "strength": p.strength,
                    "reference_image": p.reference_image,
                    "source_video": p.source_video,
                    "continue_from_previous": p.continue_from_previous,
                },
                "model_id": c.take.model_id,
                "checkpoint_hash": c.take.checkpoint_hash,
                "take_fps": c.take.fps,
                "take_frames": c.take.frames,
                "take_size": [c.take.width, c.take.height],
            }
        )
    return {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "app": {"name": "vstudio", "version": app_version()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "film": {
            "file": film.name,
            "frames": frames,
            "fps": settings.fps,
            "duration_s": frames / settings.fps,
            "width": settings.width,
            "height": settings.height,
        },
        "export": settings.model_dump(mode="json"),
        "audio": {"file": str(audio)} if audio else None,
        "project": {
            "title": project.title,
            "schema_version": project.schema_version,
            "settings": project.settings.model_dump(mode="json"),
        },
        "clips": entries,
    }


def write_sidecar(path: Path, data: dict) -> Path:
    """Atomic write (contract.files: temp beside it, fsync, os.replace)."""
    return atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
