"""The words the widgets show for project values, and the shortcut list: shared, so no widget
imports another widget's module for a label (no widgets here)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from contract.rules import SAMPLERS
from studio.project.schema import Camera, Mode, Motion, ShotSize, TransitionKind

AUTO_LABEL = "Auto (from prompt)"

TRANSITION_NAMES = {
    TransitionKind.CUT: "Cut",
    TransitionKind.CROSSFADE: "Crossfade",
    TransitionKind.FADE_BLACK: "Fade through black",
}
MODE_LABELS = {
    Mode.TEXT_TO_VIDEO: "Text → video",
    Mode.IMAGE_TO_VIDEO: "Image → video",
    Mode.EXTEND: "Extend the previous shot",
    Mode.VIDEO_TO_VIDEO: "Video → video",
}
SAMPLER_ITEMS = {name: menu for name, (menu, _short) in SAMPLERS.items()}  # contract.rules names them

# Values a shot can set, by name; AUTO is shown per place (the inspector's combo says where it comes
# from, a shot-list cell shows a dash).
SIZE_NAMES = {ShotSize.WIDE: "Wide", ShotSize.MEDIUM: "Medium", ShotSize.CLOSE_UP: "Close-up"}
CAMERA_NAMES = {Camera.STATIC: "Static", Camera.PAN_LEFT: "Pan left", Camera.PAN_RIGHT: "Pan right",
                Camera.TILT_UP: "Tilt up", Camera.TILT_DOWN: "Tilt down", Camera.ZOOM_IN: "Zoom in",
                Camera.ZOOM_OUT: "Zoom out"}
MOTION_NAMES = {Motion.STILL: "Still", Motion.LEFT: "Moving left", Motion.RIGHT: "Moving right",
                Motion.UP: "Moving up", Motion.DOWN: "Moving down", Motion.BOUNCING: "Bouncing"}

# inspector combos
SIZE_ITEMS = {ShotSize.AUTO: AUTO_LABEL, **SIZE_NAMES}
CAMERA_ITEMS = {Camera.AUTO: AUTO_LABEL, **CAMERA_NAMES}
MOTION_ITEMS = {Motion.AUTO: AUTO_LABEL, **MOTION_NAMES}
# shot-list cells
SIZE_LABELS = {ShotSize.AUTO: "—", **SIZE_NAMES}
CAMERA_LABELS = {Camera.AUTO: "—", **CAMERA_NAMES}
# what the prompt parser reports (plain slot values) → the same words
PROMPT_SIZE_LABELS = {size.value: label for size, label in SIZE_NAMES.items()}
PROMPT_CAMERA_LABELS = {camera.value: label for camera, label in CAMERA_NAMES.items()}

SHORTCUT_HELP = [
    (QKeySequence(Qt.Key.Key_Space).toString(), "Play / pause"),
    ("J / K / L", "Shuttle back / stop / forward (press again for faster)"),
    ("← / →", "One frame back / forward (Shift: 10 frames)"),
    ("I / O", "Mark in / out"),
    ("Home / End", "Start / end"),
]
# everything the Help → Keyboard shortcuts table lists (the player's keys among the studio's)
STUDIO_SHORTCUTS = [
    ("Ctrl+G / Ctrl+Shift+G", "Generate selected / stale shots"), ("Ctrl+Shift+N", "Add a shot"),
    ("Ctrl+D", "Duplicate shots"), ("Del", "Delete shots (in the shot list)"), ("Alt+↑ / Alt+↓", "Move shots"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo"), ("Ctrl+Return", "Play the film"),
    ("Ctrl+wheel, + / −", "Zoom the timeline"), *SHORTCUT_HELP, ("0–5, Enter, Del", "Rate, use, delete the focused take"),
]
