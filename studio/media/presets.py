"""Export settings (a pydantic model the dialog edits and the sidecar records) and the named presets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from studio.errors import StudioError
from studio.media.motion import DEFAULT_MOTION

Format = Literal["h264", "h265", "vp9", "prores", "gif", "png"]

FORMAT_LABELS: dict[str, str] = {
    "h264": "H.264 MP4",
    "h265": "H.265 / HEVC MP4",
    "vp9": "VP9 WebM",
    "prores": "ProRes 422 MOV",
    "gif": "Animated GIF",
    "png": "PNG sequence (folder)",
}
EXTENSIONS: dict[str, str] = {
    "h264": ".mp4",
    "h265": ".mp4",
    "vp9": ".webm",
    "prores": ".mov",
    "gif": ".gif",
    "png": "",
}
DEFAULT_CRF = {"h264": 18, "h265": 22, "vp9": 30}
AUDIO_FORMATS = ("h264", "h265", "vp9", "prores")  # GIF and PNG frames carry no sound
SPEEDS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


class ExportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    format: Format = "h264"
    width: int = Field(1920, ge=16, le=8192)
    height: int = Field(1080, ge=16, le=8192)
    fps: float = Field(24.0, gt=0, le=240)
    fit: Literal["letterbox", "crop"] = "letterbox"
    scaler: Literal["smooth", "sharp", "pixel"] = "smooth"
    # frame-rate conversion (media.motion): "flow" interpolates along optical flow, "blend" mixes
    # neighbouring frames, "repeat" holds each frame; none of them changes a clip at the film's rate
    motion: Literal["flow", "blend", "repeat"] = DEFAULT_MOTION
    crf: int | None = Field(None, ge=0, le=63)  # None: the format's default (DEFAULT_CRF)
    speed: Literal[SPEEDS] = "medium"  # x264/x265 preset; VP9 maps it to -cpu-used
    prores_profile: Literal["proxy", "lt", "standard", "hq"] = "standard"
    gif_colors: int = Field(256, ge=2, le=256)
    audio_bitrate: str = Field("192k", pattern=r"^\d{2,3}k$")

    @model_validator(mode="before")
    @classmethod
    def _old_blend_flag(cls, data):
        # settings saved before `motion` had `blend_frames: bool` (True mixed, False held frames);
        # they load as the choice that made their film, unless `motion` is given too
        if isinstance(data, dict) and "blend_frames" in data:
            data = dict(data)
            old = data.pop("blend_frames")
            data.setdefault("motion", "blend" if old else "repeat")
        return data

    @property
    def blend_frames(self) -> bool:
        """The old flag, for readers of it: True when frames are mixed."""
        return self.motion == "blend"

    @model_validator(mode="after")
    def _even_for_chroma(self) -> ExportSettings:
        # 4:2:0 (H.264/H.265/VP9) and 4:2:2 (ProRes) halve the chroma width; 4:2:0 its height too
        if self.format in ("h264", "h265", "vp9", "prores") and self.width % 2:
            raise ValueError(f"{FORMAT_LABELS[self.format]} needs an even width, not {self.width}")
        if self.format in ("h264", "h265", "vp9") and self.height % 2:
            raise ValueError(f"{FORMAT_LABELS[self.format]} needs an even height, not {self.height}")
        return self

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def effective_crf(self) -> int | None:
        return self.crf if self.crf is not None else DEFAULT_CRF.get(self.format)


class Preset(BaseModel):
    model_config = ConfigDict(frozen=True)
    label: str
    settings: ExportSettings


PRESETS: dict[str, Preset] = {
    "landscape_1080p": Preset(label="1080p landscape (H.264)", settings=ExportSettings()),
    "vertical_1080x1920": Preset(
        label="1080×1920 vertical (H.264)", settings=ExportSettings(width=1080, height=1920)
    ),
    "square_1080": Preset(label="Square 1080 (H.264)", settings=ExportSettings(width=1080, height=1080)),
    "prores_master": Preset(
        label="ProRes 422 HQ master (MOV)", settings=ExportSettings(format="prores", prores_profile="hq")
    ),
    # small and low rate; 10 fps is exact in GIF's centisecond frame delays
    "gif_preview": Preset(
        label="GIF preview (480 px, 10 fps)",
        settings=ExportSettings(format="gif", width=480, height=270, fps=10.0, gif_colors=128),
    ),
}
DEFAULT_PRESET = "landscape_1080p"


def resolve_settings(preset_or_settings: str | ExportSettings) -> ExportSettings:
    """A preset key (or its label) or settings -> settings; an unknown preset is a user error."""
    if isinstance(preset_or_settings, ExportSettings):
        return preset_or_settings
    for key, preset in PRESETS.items():
        if preset_or_settings in (key, preset.label):
            return preset.settings.model_copy()
    raise StudioError(
        "settings", f"unknown export preset {preset_or_settings!r}; choose one of {', '.join(PRESETS)}"
    )
