"""Which prompt words the bundled model does not know (pure Python; never imports torch).

The prompt parser lives in `model_runtime.toyworld` (numpy only). Studio must stay free of torch, so
the parser is imported lazily, with torch blocked while it loads: if toyworld (or the package's
`__init__`) ever started importing torch, this module reports "unavailable" instead of pulling torch
into the GUI process.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
from functools import lru_cache

_BLOCKED = ("torch",)


class _BlockTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ImportError(f"{name} is blocked while loading the prompt parser (studio stays torch-free)")
        return None


@lru_cache(maxsize=1)
def _parser():
    """`model_runtime.toyworld.parse_prompt`, or None when it cannot be loaded without torch."""
    if "model_runtime.toyworld" in sys.modules:
        return getattr(sys.modules["model_runtime.toyworld"], "parse_prompt", None)
    blocker = _BlockTorch()
    sys.meta_path.insert(0, blocker)
    try:
        module = importlib.import_module("model_runtime.toyworld")
    except Exception:  # noqa: BLE001 (missing, broken or torch-dependent: all mean "no parser")
        for name in [n for n in sys.modules if n == "model_runtime.toyworld"]:
            del sys.modules[name]
        return None
    finally:
        sys.meta_path.remove(blocker)
    return getattr(module, "parse_prompt", None)


_SLOT_LISTS = {"subject": "SUBJECTS", "color": "COLORS", "background": "BACKGROUNDS", "size": "SIZES",
               "motion": "MOTIONS", "camera": "CAMERAS"}


def prompt_slots(prompt: str) -> dict[str, str] | None:
    """What the prompt says for each slot the model knows, in English (e.g. {"size": "wide",
    "camera": "tilts up"}); slots the prompt leaves open are absent. None when no parser."""
    slots = _slots(prompt)
    return None if slots is None else dict(slots)


@lru_cache(maxsize=512)  # the shot list asks on every repaint
def _slots(prompt: str) -> dict[str, str] | None:
    parse = _parser()
    module = sys.modules.get("model_runtime.toyworld")
    if parse is None or module is None:
        return None
    try:
        parsed = parse(prompt)
    except Exception:  # noqa: BLE001
        return None
    out = {}
    for slot, list_name in _SLOT_LISTS.items():
        index = getattr(parsed, slot, None)
        names = getattr(module, list_name, None)
        if isinstance(index, int) and names is not None and 0 <= index < len(names):
            out[slot] = names[index]
    return out


def available() -> bool:
    return _parser() is not None


def unknown_words(prompt: str) -> list[str] | None:
    """Words of `prompt` outside the model's vocabulary, in order; None when no parser is available."""
    parse = _parser()
    if parse is None:
        return None
    if not prompt.strip():
        return []
    try:
        return list(parse(prompt).unknown)
    except Exception:  # noqa: BLE001 (a parser bug must not break typing in the inspector)
        return None
