"""Bounded, seeded fuzz of storyboard files: whatever a hostile or broken file holds, reading it (and
checking every shot's request, as `main.py render` does before the model loads) is a project or
a one-line StudioError — never another exception, never a hang, never a file written."""

from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path

import pytest

from studio.engine.params import request_from_params, validate_request
from studio.errors import StudioError
from studio.headless_jobs import preflight
from studio.project.storyboard import load_storyboard

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_JSON = json.loads((ROOT / "tests" / "data" / "lantern_festival.json").read_text(encoding="utf-8"))
SAMPLE_CSV = (ROOT / "tests" / "data" / "lantern_festival.csv").read_text(encoding="utf-8")
N = 240  # of each kind

ODD_VALUES = [None, True, False, 0, -1, 1, 2**31, 2**63, 10**400, -0.0, 1e308, 1e-308, float("nan"), float("inf"),
              "", " ", "NaN", "inf", "-5", "1e9", "abc", "\x00", "\u202e", "红色", "x" * 10_000, [], [1, 2], {},
              {"a": {"b": []}}, "crossfade", "i2v", "extend", "v2v", "../../etc/passwd", "/dev/zero", "con:",
              "pans left", "close-up", "fade_black"]
FIELDS = ["title", "fps", "width", "height", "shots", "prompt", "duration", "seed", "transition",
          "transition_duration", "continue_from_previous", "camera", "shot_size", "motion", "mode", "steps",
          "guidance", "sampler", "negative_prompt", "strength", "notes", "reference_image", "source_video", "?"]


def mutate_json(rng: random.Random) -> str:
    doc = copy.deepcopy(SAMPLE_JSON)
    for _ in range(rng.randint(1, 4)):
        target = doc if rng.random() < 0.3 or not doc.get("shots") or not isinstance(doc["shots"], list) \
            else rng.choice(doc["shots"])
        if not isinstance(target, dict):
            continue
        op = rng.random()
        if op < 0.45:
            target[rng.choice(FIELDS)] = rng.choice(ODD_VALUES)
        elif op < 0.6 and target:
            target.pop(rng.choice(list(target)))
        elif op < 0.7:
            target["shots"] = [rng.choice(ODD_VALUES) for _ in range(rng.randint(0, 3))]
        elif op < 0.8 and isinstance(doc.get("shots"), list):
            doc["shots"] = doc["shots"] * rng.randint(0, 40)  # none, or hundreds
        else:
            target[rng.choice(FIELDS)] = "@@NESTED@@"  # deep nesting, spliced into the text below
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
    depth = rng.randint(1, 100_000)
    text = text.replace('"@@NESTED@@"', "[" * depth + "1" + "]" * depth)
    if rng.random() < 0.15:  # a damaged file: cut short, or bytes flipped
        cut = rng.randint(0, len(text))
        text = text[:cut] if rng.random() < 0.5 else text[:cut] + chr(rng.randint(0, 0xFFFF)) + text[cut + 1:]
    return text


def mutate_csv(rng: random.Random) -> str:
    lines = SAMPLE_CSV.splitlines()
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        i = rng.randrange(len(lines)) if lines else 0
        if op < 0.3 and lines:
            cells = lines[i].split(",")
            cells[rng.randrange(len(cells))] = str(rng.choice(ODD_VALUES)).replace("\n", " ")
            lines[i] = ",".join(cells)
        elif op < 0.45 and lines:
            lines[i] = lines[i] + "," + rng.choice(["x", '"', '"unterminated', "", "1,2,3"])
        elif op < 0.6 and lines:
            del lines[i]
        elif op < 0.7:
            lines.insert(0, ",".join(rng.sample(FIELDS, k=rng.randint(1, 6))))
        elif op < 0.8 and lines:
            lines[i] = lines[i].replace(",", ";")
        elif op < 0.9:
            lines = [("\ufeff" if rng.random() < 0.5 else "") + ln for ln in lines] * rng.randint(1, 30)
        else:
            lines.append("".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(1, 200))))
    return "\n".join(lines)


def check(path: Path) -> str:
    """'ok' or the error kind; anything other than StudioError fails the test."""
    try:
        project = load_storyboard(path)
        preflight(project, list(project.shots), None)
        for shot in project.shots:
            validate_request(request_from_params(shot.params, None, 8.0), check_files=False)
        return "ok"
    except StudioError as e:
        assert "\n" not in e.message and e.message, repr(e.message)
        return e.kind


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_storyboard_fuzz(tmp_path, kind):
    rng = random.Random(20261129 + (kind == "csv"))
    mutate = mutate_json if kind == "json" else mutate_csv
    kinds: dict[str, int] = {}
    t0 = time.monotonic()
    for i in range(N):
        path = tmp_path / f"board{i}.{kind}"
        path.write_text(mutate(rng), encoding="utf-8", errors="surrogatepass")
        before = sorted(p.name for p in tmp_path.iterdir())
        start = time.monotonic()
        outcome = check(path)
        assert time.monotonic() - start < 5, f"case {i} took too long (a hang in the making)"
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # reading writes nothing
        kinds[outcome] = kinds.get(outcome, 0) + 1
        path.unlink()
    assert time.monotonic() - t0 < 60
    # the fuzz reaches both sides: files that load and files that are refused
    assert kinds.get("ok", 0) > 5 and sum(v for k, v in kinds.items() if k != "ok") > 50, kinds
