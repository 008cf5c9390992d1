"""Scenes: random scenes of the training or held-out split (../shared/TOYWORLD.md, "The held-out
split"), a parsed prompt completed at random, and which attributes of a scene its clip can show."""

from __future__ import annotations

import numpy as np

from contract.errors import ToyworldError
from contract.prompt_parser import ParsedPrompt
from contract.vocabulary import BACKGROUNDS, CAMERAS, COLORS, MOTIONS, PANDA, SIZES, SLOTS, SUBJECTS, Scene

# (color, background) pairs too close to tell apart: the subject is not scored on them.
TOO_CLOSE = frozenset({(4, 5), (5, 2), (2, 4), (3, 3), (0, 1), (1, 6)})
_SLOT_SIZES = (len(SUBJECTS), len(COLORS), len(BACKGROUNDS), len(SIZES), len(MOTIONS), len(CAMERAS))


def is_heldout(subject: int, color: int, background: int) -> bool:
    """TOYWORLD.md's held-out rule. The panda is always black and white, so its color word changes
    nothing on screen: the rule reads its color as 0, holding out the panda on grass whatever color
    the prompt names (else a held-out panda clip would look exactly like a trained one)."""
    if subject == PANDA:
        color = 0
    return (subject + color + background) % 7 == 3


HELDOUT_TRIPLES = [(s, c, b) for s in range(len(SUBJECTS)) for c in range(len(COLORS))
                   for b in range(len(BACKGROUNDS)) if is_heldout(s, c, b)]


def subject_hidden(scene: Scene) -> bool:
    """True when the subject's own color is too close to the background to be seen."""
    return scene.subject != PANDA and (scene.color, scene.background) in TOO_CLOSE


def is_scored(attr: str, scene: Scene) -> bool:
    """Whether `attr` of `scene` can be measured from its clip (TOYWORLD.md, held-out split)."""
    if attr in ("background", "camera"):
        return True
    if subject_hidden(scene):
        return False  # the subject cannot be seen, so neither its color nor its size or path
    if attr == "color":
        return scene.subject != PANDA  # the panda is always black and white
    if attr == "subject":
        return scene.size != 0  # a wide shot is ~6 px tall at the native 32 px: too small to tell shapes
    if attr in ("size", "motion", "consistency"):
        return True
    raise KeyError(attr)


def sample_scene(rng: np.random.Generator, split: str = "train") -> Scene:
    """A random scene of `split` ("train": never a held-out triple; "heldout": only those)."""
    if split == "heldout":
        s, c, b = HELDOUT_TRIPLES[int(rng.integers(len(HELDOUT_TRIPLES)))]
    elif split == "train":
        while True:
            s, c, b = (int(rng.integers(n)) for n in (len(SUBJECTS), len(COLORS), len(BACKGROUNDS)))
            if not is_heldout(s, c, b):
                break
    else:
        raise ToyworldError("bad_split", f"unknown split {split!r} (choose train or heldout)")
    return Scene(s, c, b, int(rng.integers(len(SIZES))), int(rng.integers(len(MOTIONS))),
                 int(rng.integers(len(CAMERAS))))




def complete_scene(p: ParsedPrompt, rng: np.random.Generator) -> Scene:
    """The scene a prompt asks for, its open slots drawn at random from `rng`."""
    vals = [getattr(p, s) if getattr(p, s) is not None else int(rng.integers(n))
            for s, n in zip(SLOTS, _SLOT_SIZES, strict=True)]
    return Scene(*vals)


def check_scene(scene: Scene) -> None:
    """ToyworldError("bad_scene") unless every slot is an index into its word list."""
    for slot, n in zip(SLOTS, _SLOT_SIZES, strict=True):
        v = getattr(scene, slot)
        if not isinstance(v, int | np.integer) or not 0 <= v < n:
            raise ToyworldError("bad_scene", f"{slot} must be an index in 0..{n - 1}, got {v!r}")
