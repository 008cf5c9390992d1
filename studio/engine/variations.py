"""Several takes of a shot, and takes that would repeat one (no Qt; the GUI and `main.py render
--takes N` share it).

An unlocked seed rolls for every new take; a locked seed is the editor's choice: its first take uses
it, further takes of the same request use the seeds after it (the same seed and settings would only
make the same frames again, byte for byte)."""

from __future__ import annotations

import random

from contract.rules import MAX_SEED
from studio.project.schema import GenParams, Shot, Take
from studio.project.status import generating_params

MAX_TAKES = 32  # takes of one shot per request


def take_params(params: GenParams, n: int, rng: random.Random | None = None) -> list[GenParams]:
    """The parameters of n new takes of a shot."""
    rng = rng or random.Random()
    out = []
    for k in range(max(1, min(n, MAX_TAKES))):
        p = params.model_copy(deep=True)
        p.seed = (params.seed + k) % (MAX_SEED + 1) if params.seed_locked else rng.randint(0, MAX_SEED)
        out.append(p)
    return out


def repeated_take(shot: Shot, params: GenParams) -> Take | None:
    """A take of this shot made with exactly these generating parameters, seed included: generating
    them again repeats it frame for frame."""
    want = generating_params(params)
    return next((t for t in shot.takes if generating_params(t.params) == want), None)
