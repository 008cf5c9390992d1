"""The procedural toy world (../shared/TOYWORLD.md is the contract): random scenes and a fast numpy
renderer. Training draws clips from it, the evaluator scores against it, and
`python -m model_runtime.toyworld` writes a ground-truth clip. Its vocabulary, prompt parser and
frame aspects are the studio's too, so they live in `contract` (standard library only).

Rooms: scenes.py (splits, which attributes a clip shows), appearance.py (colors, sizes), shapes.py
(subjects as distance fields), backgrounds.py (textures), motion.py (camera and subject paths, the
clip's track), render.py (the renderer), cli.py. The names below are the toy world's public face.
"""

from contract.errors import ToyworldError
from contract.vocabulary import Scene
from model_runtime.toyworld.appearance import BACKGROUND_RGB, COLOR_RGB, DARK_RGB, SIZE_FRACTION
from model_runtime.toyworld.motion import FPS, TRACK_FIELDS, TRAVEL, ZOOM, subject_track
from model_runtime.toyworld.render import empty_frames, render
from model_runtime.toyworld.scenes import (
    HELDOUT_TRIPLES,
    complete_scene,
    is_heldout,
    is_scored,
    sample_scene,
    subject_hidden,
)
from model_runtime.toyworld.shapes import SUBJECT_HALF_WIDTH, subject_layers

__all__ = [
    "BACKGROUND_RGB", "COLOR_RGB", "DARK_RGB", "FPS", "HELDOUT_TRIPLES", "SIZE_FRACTION", "SUBJECT_HALF_WIDTH",
    "TRACK_FIELDS", "TRAVEL", "ZOOM", "Scene", "ToyworldError", "complete_scene", "empty_frames", "is_heldout",
    "is_scored", "render", "sample_scene", "subject_hidden", "subject_layers", "subject_track",
]
