"""The project file's schema: plain validated data, no Qt, no torch.

This is what `project.json` holds. Widgets never hold state of their own: they bind to a Qt
wrapper around these objects (studio/project/document.py), and every edit goes through an undo
command that changes them.
"""

from __future__ import annotations

import math
import re
import uuid
from enum import StrEnum
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contract.rules import DEFAULT_SAMPLER, MAX_GUIDANCE, MAX_SEED, MAX_STEPS, SAMPLERS
from contract.vocabulary import CAMERAS, MOTIONS, SIZES

if TYPE_CHECKING:
    import opentimelineio as otio

# 2: Shot.transition; 3: times as FrameTime, the transition only on the shot, Take.fps required
# (migrations.MIGRATIONS turns each version into the next)
SCHEMA_VERSION = 4  # 4: ProjectSettings.model
# a sampler name the contract knows (contract.rules.SAMPLERS: adding one there is enough)
SAMPLER_PATTERN = "^(" + "|".join(re.escape(name) for name in SAMPLERS) + ")$"
DEFAULT_FPS = 24.0  # a new project's frame rate, and the rate of the defaults below
MAX_DURATION_S = 600.0  # longest shot
MAX_TRANSITION_S = 10.0


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def _slot_enum(name: str, members: tuple[str, ...], words: list[str]) -> type[StrEnum]:
    """A prompt slot's choices on a shot: AUTO (whatever the prompt says), then one member per word of
    the contract's vocabulary, in its order. The values are what project files hold."""
    return StrEnum(name, [("AUTO", "auto"), *zip(members, words, strict=True)], module=__name__)


ShotSize = _slot_enum("ShotSize", ("WIDE", "MEDIUM", "CLOSE_UP"), SIZES)
Camera = _slot_enum("Camera", ("STATIC", "PAN_LEFT", "PAN_RIGHT", "TILT_UP", "TILT_DOWN", "ZOOM_IN", "ZOOM_OUT"),
                    CAMERAS)
Motion = _slot_enum("Motion", ("STILL", "LEFT", "RIGHT", "UP", "DOWN", "BOUNCING"), MOTIONS)


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


class FrameTime(BaseModel):
    """An exact time: a whole number of frames at a frame rate, as OpenTimelineIO's RationalTime
    (with integer frames). The project file stores times so, `{"value": 48, "rate": 24.0}`, never
    as float seconds. Times set by the user or a storyboard are made at the project's frame rate;
    code that needs frames at another rate (the model's, an export's) asks `at_rate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: int = Field(ge=0, strict=True)  # frames
    rate: float = Field(gt=0, le=1000, allow_inf_nan=False)  # frames per second

    @classmethod
    def from_seconds(cls, seconds: float, rate: float) -> FrameTime:
        """The nearest whole frame at `rate` (a user's or a storyboard's seconds). ValueError for
        a time that is not a finite, non-negative number (pydantic's ValidationError is one)."""
        seconds = float(seconds)
        if not math.isfinite(seconds) or not math.isfinite(rate):
            raise ValueError(f"{seconds!r} seconds at {rate!r} fps is not a time")
        return cls(value=round(seconds * rate), rate=rate)

    @property
    def seconds(self) -> float:
        return self.value / self.rate

    def at_rate(self, rate: float) -> int:
        """Whole frames at another rate (the nearest; exact at its own)."""
        return self.value if rate == self.rate else round(self.value * rate / self.rate)

    def same_time(self, other: FrameTime) -> bool:
        """The same instant, whatever the rates (48 at 24 fps is 60 at 30 fps)."""
        return self.value * other.rate == other.value * self.rate

    def to_otio(self) -> otio.opentime.RationalTime:
        import opentimelineio as otio  # the project file does not need it; interchange does

        return otio.opentime.RationalTime(self.value, self.rate)

    @classmethod
    def from_otio(cls, time: otio.opentime.RationalTime, rate: float | None = None) -> FrameTime:
        """The nearest whole frame at `rate` (default: the time's own rate)."""
        rate = float(time.rate if rate is None else rate)
        return cls(value=round(time.value_rescaled_to(rate)), rate=rate)


def at_fps(seconds: float, rate: float = DEFAULT_FPS) -> FrameTime:
    """Shorthand for `FrameTime.from_seconds` (defaults and tests)."""
    return FrameTime.from_seconds(seconds, rate)


class GenParams(_Strict):
    """Everything that decides a take's pixels. Changing any of these after a take was chosen makes
    the shot stale."""

    prompt: str = ""
    negative_prompt: str = ""
    shot_size: ShotSize = ShotSize.AUTO
    camera: Camera = Camera.AUTO
    motion: Motion = Motion.AUTO
    duration: FrameTime = at_fps(2.0)  # made at the project's fps when set; see _duration
    seed: int = Field(0, ge=0, le=MAX_SEED)
    seed_locked: bool = False  # unlocked: each new take rolls its own seed (engine.variations)
    steps: int = Field(20, ge=1, le=MAX_STEPS)
    guidance: float = Field(3.0, ge=0, le=MAX_GUIDANCE)
    sampler: str = Field(DEFAULT_SAMPLER, pattern=SAMPLER_PATTERN)
    mode: Mode = Mode.TEXT_TO_VIDEO
    reference_image: str | None = None  # i2v: project-relative path
    source_video: str | None = None  # v2v: project-relative path
    strength: float = Field(0.6, gt=0, le=1)  # v2v
    continue_from_previous: bool = False

    @field_validator("reference_image", "source_video")
    @classmethod
    def _inside_project(cls, v: str | None) -> str | None:
        return check_relative_path(v)

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: FrameTime) -> FrameTime:
        if v.value < 1:
            raise ValueError("should be at least one frame long")
        if v.seconds > MAX_DURATION_S:
            raise ValueError(f"should be at most {MAX_DURATION_S:g} seconds")
        return v


class Take(_Strict):
    id: str = Field(default_factory=new_id)
    clip: str  # project-relative path to the MP4 (or .npy) in media/
    poster: str | None = None
    frames_file: str | None = None  # native-size uint8 .npy, the exact pixels
    params: GenParams
    model_id: str = ""
    checkpoint_hash: str = ""
    fps: float = Field(gt=0, le=1000)  # the model's own rate (its metadata); no default
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
    """The cut *into* a shot's clip (kept on the shot)."""

    kind: TransitionKind = TransitionKind.CUT
    duration: FrameTime = at_fps(0.0)

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: FrameTime) -> FrameTime:
        if v.seconds > MAX_TRANSITION_S:
            raise ValueError(f"should be at most {MAX_TRANSITION_S:g} seconds")
        return v


class Shot(_Strict):
    id: str = Field(default_factory=new_id)
    params: GenParams = Field(default_factory=GenParams)
    status: ShotStatus = ShotStatus.DRAFT
    notes: str = ""
    takes: list[Take] = Field(default_factory=list)
    chosen_take: str | None = None
    error: str = ""
    # The cut into this shot: planned in the storyboard before any take exists, and the one its
    # timeline clip uses (stored here only; a shot has at most one clip).
    transition: Transition = Field(default_factory=Transition)


class TimelineClip(_Strict):
    shot_id: str
    take_id: str
    in_point: FrameTime = at_fps(0.0)  # trim into the take, at the project's fps when set
    out_point: FrameTime | None = None  # None: the take's end

    @field_validator("out_point")
    @classmethod
    def _out_point(cls, v: FrameTime | None) -> FrameTime | None:
        if v is not None and v.value < 1:
            raise ValueError("should be at least one frame into the take")
        return v


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
    fps: float = Field(DEFAULT_FPS, gt=0, le=240)
    width: int = Field(1280, ge=16, le=8192)
    height: int = Field(720, ge=16, le=8192)
    # the model this project generates with: a U-ViT checkpoint (.safetensors) or an open model's
    # diffusers folder; "" = the studio's default model (Preferences.checkpoint)
    model: str = Field("", max_length=4096)


class ProjectData(_Strict):
    schema_version: int = SCHEMA_VERSION
    title: str = "Untitled"
    settings: ProjectSettings = Field(default_factory=ProjectSettings)
    shots: list[Shot] = Field(default_factory=list)
    timeline: Timeline = Field(default_factory=Timeline)
    queue: list[Job] = Field(default_factory=list)
