"""The project file's schema: plain validated data, no Qt, no torch.

This is what `project.json` holds. Widgets never hold state of their own: they bind to a Qt
wrapper around these objects (studio/project/document.py), and every edit goes through an undo
command that changes them.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 2  # 2: Shot.transition (store.MIGRATIONS turns 1 into 2)
MAX_SEED = 2**31 - 1  # seeds are non-negative int32 (what the worker's generator takes)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class ShotSize(StrEnum):
    AUTO = "auto"  # whatever the prompt says
    WIDE = "wide"
    MEDIUM = "medium"
    CLOSE_UP = "close-up"


class Camera(StrEnum):
    AUTO = "auto"
    STATIC = "static"
    PAN_LEFT = "pans left"
    PAN_RIGHT = "pans right"
    TILT_UP = "tilts up"
    TILT_DOWN = "tilts down"
    ZOOM_IN = "zooms in"
    ZOOM_OUT = "zooms out"


class Motion(StrEnum):
    AUTO = "auto"
    STILL = "still"
    LEFT = "moving left"
    RIGHT = "moving right"
    UP = "moving up"
    DOWN = "moving down"
    BOUNCING = "bouncing"


class Mode(StrEnum):
    TEXT_TO_VIDEO = "t2v"
    IMAGE_TO_VIDEO = "i2v"
    EXTEND = "extend"
    VIDEO_TO_VIDEO = "v2v"


class ShotStatus(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    GENERATING = "generating"
    READY = "ready"
    STALE = "stale"
    FAILED = "failed"


class TransitionKind(StrEnum):
    CUT = "cut"
    CROSSFADE = "crossfade"
    FADE_BLACK = "fade_black"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


def check_relative_path(value: str | None) -> str | None:
    """Media paths live inside the project folder: no absolute path, no `..`."""
    if value is None or value == "":
        return value
    if "\\" in value:
        value = value.replace("\\", "/")
    p = PurePosixPath(value)
    if p.is_absolute() or value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"media path {value!r} is absolute; it must be inside the project folder")
    if ".." in p.parts:
        raise ValueError(f"media path {value!r} leaves the project folder")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class GenParams(_Strict):
    """Everything that decides a take's pixels. Changing any of these after a take was chosen makes
    the shot stale."""

    prompt: str = ""
    negative_prompt: str = ""
    shot_size: ShotSize = ShotSize.AUTO
    camera: Camera = Camera.AUTO
    motion: Motion = Motion.AUTO
    duration: float = Field(2.0, gt=0, le=600)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    seed_locked: bool = True
    steps: int = Field(20, ge=1, le=1000)
    guidance: float = Field(3.0, ge=0, le=30)
    sampler: str = Field("dpmpp_2m", pattern=r"^(ddpm|ddim|dpmpp_2m)$")
    mode: Mode = Mode.TEXT_TO_VIDEO
    reference_image: str | None = None  # i2v: project-relative path
    source_video: str | None = None  # v2v: project-relative path
    strength: float = Field(0.6, gt=0, le=1)  # v2v
    continue_from_previous: bool = False

    @field_validator("reference_image", "source_video")
    @classmethod
    def _inside_project(cls, v: str | None) -> str | None:
        return check_relative_path(v)


class Take(_Strict):
    id: str = Field(default_factory=new_id)
    clip: str  # project-relative path to the MP4 (or .npy) in media/
    poster: str | None = None
    frames_file: str | None = None  # native-size uint8 .npy, the exact pixels
    params: GenParams
    model_id: str = ""
    checkpoint_hash: str = ""
    fps: float = 8.0
    frames: int = 0
    width: int = 0
    height: int = 0
    timings: dict[str, float] = Field(default_factory=dict)
    rating: int = Field(0, ge=0, le=5)
    created: float = 0.0

    @field_validator("clip", "poster", "frames_file")
    @classmethod
    def _inside_project(cls, v: str | None) -> str | None:
        return check_relative_path(v)


class Transition(_Strict):
    """The cut *into* a clip."""

    kind: TransitionKind = TransitionKind.CUT
    duration: float = Field(0.0, ge=0, le=10)


class Shot(_Strict):
    id: str = Field(default_factory=new_id)
    params: GenParams = Field(default_factory=GenParams)
    status: ShotStatus = ShotStatus.DRAFT
    notes: str = ""
    takes: list[Take] = Field(default_factory=list)
    chosen_take: str | None = None
    error: str = ""
    # The planned cut into this shot (from the storyboard), kept before any take exists; the
    # document keeps it equal to the shot's timeline clip transition once there is one.
    transition: Transition = Field(default_factory=Transition)


class TimelineClip(_Strict):
    shot_id: str
    take_id: str
    in_s: float = Field(0.0, ge=0)  # trim, seconds into the take
    out_s: float | None = Field(None, gt=0)  # None: the take's end
    transition: Transition = Field(default_factory=Transition)


class Timeline(_Strict):
    clips: list[TimelineClip] = Field(default_factory=list)


class Job(_Strict):
    id: str = Field(default_factory=new_id)
    shot_id: str
    params: GenParams
    state: JobState = JobState.QUEUED
    progress: float = 0.0
    error: str = ""
    created: float = 0.0

    def restored(self) -> Job:
        """A copy as the job comes back after the studio went away: one that was running runs
        again from the start; the others keep their state."""
        job = self.model_copy(deep=True)
        if job.state == JobState.RUNNING:
            job.state, job.progress = JobState.QUEUED, 0.0
        return job


class ProjectSettings(_Strict):
    fps: float = Field(24.0, gt=0, le=240)
    width: int = Field(1280, ge=16, le=8192)
    height: int = Field(720, ge=16, le=8192)


class ProjectData(_Strict):
    schema_version: int = SCHEMA_VERSION
    title: str = "Untitled"
    settings: ProjectSettings = Field(default_factory=ProjectSettings)
    shots: list[Shot] = Field(default_factory=list)
    timeline: Timeline = Field(default_factory=Timeline)
    queue: list[Job] = Field(default_factory=list)
