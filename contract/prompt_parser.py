"""Prompt text <-> the six slots (../shared/TOYWORLD.md, "Prompts"): `parse_prompt` reads an English
or Chinese prompt in any word order, with any slot left out, and lists the words it does not know;
`scene_prompt` writes a scene back in the contract's template. Standard library only, so the studio
checks prompts with the very parser the model reads them with."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from contract.errors import ToyworldError
from contract.phrases import EN_MAXLEN, EN_PHRASES, EN_STOP, ZH_MAXLEN, ZH_PHRASES, ZH_STOP, ZH_STOP_MAXLEN
from contract.vocabulary import (
    BACKGROUND_PHRASES,
    BACKGROUNDS_ZH,
    CAMERAS,
    CAMERAS_ZH,
    COLORS,
    COLORS_ZH,
    MOTIONS,
    MOTIONS_ZH,
    PANDA,
    SIZES,
    SIZES_ZH,
    SUBJECTS,
    SUBJECTS_ZH,
    Scene,
)


@dataclass
class ParsedPrompt:
    """What a prompt says: an index per slot (None: left open) and the words outside the vocabulary."""

    subject: int | None = None
    color: int | None = None
    background: int | None = None
    size: int | None = None
    motion: int | None = None
    camera: int | None = None
    unknown: list[str] = field(default_factory=list)


_SEPARATORS = set("，,。.、；;：:！!？?（）()「」“”\"'‘’《》[]【】/\\|-—_~…")


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _tokenize(text: str) -> list[tuple[str, str]]:
    """Split a prompt into ('en', word), ('zh', cjk run) and ('sep', '') items."""
    text = unicodedata.normalize("NFKC", text)
    out: list[tuple[str, str]] = []
    for m in re.finditer(r"[A-Za-z]+(?:'[A-Za-z]+)?|[\u3400-\u9fff\uf900-\ufaff]+|\S", text):
        tok = m.group(0)
        if _is_cjk(tok[0]):
            out.append(("zh", tok))
        elif tok[0].isalpha():
            out.append(("en", tok.lower()))
        elif tok in _SEPARATORS or not tok.isalnum():
            out.append(("sep", ""))
        else:
            out.append(("other", tok))  # digits: not vocabulary
    return out


def _assign(p: ParsedPrompt, slot: str, value: int, word: str) -> None:
    if slot == "_":
        return  # a descriptor that is in the world but fills no slot ("black and white" panda)
    cur = getattr(p, slot)
    if cur is None:
        setattr(p, slot, value)
    elif cur != value:
        p.unknown.append(word)  # a second, conflicting value is ignored and reported


def _parse_en_run(words: list[str], p: ParsedPrompt) -> None:
    i = 0
    while i < len(words):
        for n in range(min(EN_MAXLEN, len(words) - i), 0, -1):
            hit = EN_PHRASES.get(tuple(words[i:i + n]))
            if hit is not None:
                _assign(p, hit[0], hit[1], " ".join(words[i:i + n]))
                i += n
                break
        else:
            if words[i] not in EN_STOP:
                p.unknown.append(words[i])
            i += 1


def _parse_zh_run(run: str, p: ParsedPrompt) -> None:
    i, pending = 0, ""
    while i < len(run):
        hit = None
        for n in range(min(ZH_MAXLEN, len(run) - i), 0, -1):
            if run[i:i + n] in ZH_PHRASES:
                hit = (n, ZH_PHRASES[run[i:i + n]])
                break
        stop = next((n for n in range(min(ZH_STOP_MAXLEN, len(run) - i), 0, -1) if run[i:i + n] in ZH_STOP), 0)
        if hit is not None and hit[0] >= stop:
            if pending:
                p.unknown.append(pending)
                pending = ""
            word = run[i:i + hit[0]]
            if word == "红灯笼":
                _assign(p, "color", 0, word)
            _assign(p, hit[1][0], hit[1][1], word)
            i += hit[0]
        elif stop:
            if pending:
                p.unknown.append(pending)
                pending = ""
            i += stop
        else:
            pending += run[i]
            i += 1
    if pending:
        p.unknown.append(pending)


def parse_prompt(text: str) -> ParsedPrompt:
    """Read the six slots from an English or Chinese prompt (any order, any slot may be missing).
    Words outside the vocabulary are ignored and listed in `unknown`."""
    p = ParsedPrompt()
    # "close-up", "zoom-in": a hyphen joins words that the phrase table spells with a space.
    items = _tokenize(text.replace("-", " "))
    words: list[str] = []
    for kind, tok in items:
        if kind == "en":
            words.append(tok)
            continue
        _parse_en_run(words, p)
        words = []
        if kind == "zh":
            _parse_zh_run(tok, p)
        elif kind == "other":
            p.unknown.append(tok)
    _parse_en_run(words, p)
    return p


def scene_prompt(scene: Scene, lang: str = "en") -> str:
    """The contract's prompt template filled from `scene` (English, or Chinese with lang="zh")."""
    panda = scene.subject == PANDA  # always black and white: a color word would only mislead
    if lang == "en":
        what = SUBJECTS[scene.subject] if panda else f"{COLORS[scene.color]} {SUBJECTS[scene.subject]}"
        motion = "standing still" if scene.motion == 0 else MOTIONS[scene.motion]
        return (f"{SIZES[scene.size]} shot of a {what} {motion} {BACKGROUND_PHRASES[scene.background]}, "
                f"camera {CAMERAS[scene.camera]}")
    if lang == "zh":
        what = SUBJECTS_ZH[scene.subject] if panda else f"{COLORS_ZH[scene.color]}的{SUBJECTS_ZH[scene.subject]}"
        return (f"{SIZES_ZH[scene.size]}，一个{what}{MOTIONS_ZH[scene.motion]}，{BACKGROUNDS_ZH[scene.background]}，"
                f"镜头{CAMERAS_ZH[scene.camera]}")
    raise ToyworldError("bad_language", f"unknown language {lang!r} (choose en or zh)")

