"""Which prompt words the bundled model does not know, and what a prompt says for each slot.

The prompt parser is the contract's (`contract.prompt_parser`, standard library only): the studio
reads prompts with the very parser the model does, without loading the model's side.
"""

from __future__ import annotations

from functools import lru_cache

from contract.prompt_parser import ParsedPrompt, parse_prompt
from contract.vocabulary import SLOT_WORDS


def available() -> bool:
    """Whether prompts can be checked here (always: the parser ships with the studio)."""
    return True


def prompt_slots(prompt: str) -> dict[str, str] | None:
    """What the prompt says for each slot the model knows, in English (e.g. {"size": "wide",
    "camera": "tilts up"}); slots the prompt leaves open are absent. None when the parser fails."""
    slots = _slots(prompt)
    return None if slots is None else dict(slots)


@lru_cache(maxsize=512)  # the shot list asks on every repaint
def _slots(prompt: str) -> dict[str, str] | None:
    parsed = _parse(prompt)
    if parsed is None:
        return None
    return {slot: words[index] for slot, words in SLOT_WORDS.items()
            if (index := getattr(parsed, slot)) is not None}


def unknown_words(prompt: str) -> list[str] | None:
    """Words of `prompt` outside the model's vocabulary, in order; None when the parser fails."""
    if not prompt.strip():
        return []
    parsed = _parse(prompt)
    return None if parsed is None else list(parsed.unknown)


def _parse(prompt: str) -> ParsedPrompt | None:
    try:
        return parse_prompt(prompt)
    except Exception:  # noqa: BLE001 (a parser bug must not break typing in the inspector)
        return None
