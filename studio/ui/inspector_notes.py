"""What the inspector says beside a shot's values (no Qt): how new takes pick their seeds, whether
the next take would repeat one, and how long the shot's clip really is on the timeline.

The rules are the engine's and the timeline's (`studio.engine.variations`, `studio.ui.timeline_spans`);
this module only words them."""

from __future__ import annotations

from studio.engine.variations import repeated_take, take_params
from studio.project.schema import Shot, TimelineClip
from studio.ui.timeline_spans import clip_spans


def seed_rule(shot: Shot, n: int = 1) -> str:
    """How the next n takes of the shot pick their seeds (a tooltip)."""
    p = shot.params
    if not p.seed_locked:
        return ("Unlocked seed: every new take rolls its own random seed.\n"
                "Lock the seed to make takes you can repeat.")
    seeds = [t.seed for t in take_params(p, n)]
    which = f"seed {seeds[0]}" if n == 1 else f"seeds {seeds[0]}, {seeds[1]}" + (", …" if n > 2 else "")
    return (f"Locked seed: the next {'take uses' if n == 1 else f'{n} takes use'} {which}\n"
            "(the first take uses the locked seed, each further take counts up by one).")


def seed_note(shot: Shot) -> tuple[str, bool]:
    """The one-line note under the seed, and whether it warns: with a locked seed and settings
    a take was already made with, generating again repeats that take frame for frame."""
    p = shot.params
    if not p.seed_locked:
        return "Unlocked: each take rolls a new seed", False
    take = repeated_take(shot, p)
    if take is not None:
        return f"Locked: the next take repeats take {shot.takes.index(take) + 1}", True
    return f"Locked: takes count up from seed {p.seed}", False


def timeline_note(shot: Shot, clip: TimelineClip | None, fps: float) -> tuple[str, str]:
    """(note, tooltip) when the shot's clip on the timeline is not as long as its Duration says:
    trimmed there, or a take of another length. ("", "") when they agree or there is no clip."""
    if clip is None:
        return "", ""
    spans = clip_spans([clip], lambda _c: shot)
    if not spans:
        return "", ""
    span = spans[0]
    half_frame = 0.5 / fps
    trimmed = span.in_s > half_frame or span.out_s < span.take_s - half_frame
    if not trimmed and abs(span.length_s - shot.params.duration.seconds) < half_frame:
        return "", ""
    note = f"· {span.length_s:.2f} s on the timeline"
    if trimmed:
        tip = (f"Trimmed on the timeline: {span.in_s:.2f} s to {span.out_s:.2f} s of the chosen take's "
               f"{span.take_s:.2f} s. Duration is what the next take is asked for.")
    else:
        tip = f"The chosen take is {span.take_s:.2f} s long. Duration is what the next take is asked for."
    return note, tip
