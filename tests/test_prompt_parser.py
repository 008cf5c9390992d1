"""The prompt parser and template (contract/prompt_parser.py) against ../shared/TOYWORLD.md, "Prompts":
English and Chinese, any word order, any slot left out, unknown words reported. No numpy needed."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract.prompt_parser import ParsedPrompt, parse_prompt, scene_prompt
from contract.vocabulary import SLOTS, Scene

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent


def test_the_parser_loads_without_numpy():
    """The studio checks prompts with this parser, so importing it must stay standard-library only."""
    code = ("import sys, contract.prompt_parser, contract.aspects; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'torch', 'model_runtime'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_prompt_templates_match_the_contract_examples():
    scene = Scene(subject=0, color=0, background=1, size=2, motion=1, camera=2)
    assert scene_prompt(scene) == "close-up shot of a red ball moving left at sunset, camera pans right"
    assert scene_prompt(scene, "zh") == "特写，一个红色的球向左移动，日落，镜头向右平移"


@pytest.mark.parametrize("text, expect", [
    ("a red ball standing still in a blue sky, camera static", dict(subject=0, color=0, background=0, motion=0, camera=0)),
    ("Close up of RED BALLS, still, static camera", dict(subject=0, color=0, size=2, motion=0, camera=0)),
    ("closeup of a box", dict(subject=1, size=2)),
    ("close-up shot of a star", dict(subject=3, size=2)),
    ("camera pans left, wide shot, a purple pyramid bouncing on grass", dict(subject=2, color=6, size=0, motion=5,
                                                                            camera=1, background=4)),
    ("pans right over the sea", dict(camera=2, background=3)),
    ("the camera tilts down at night", dict(camera=4, background=2)),
    ("a lantern moving to the left, camera zooms in", dict(subject=7, motion=1, camera=5)),
    ("two white cars moving right in the snow, zoom out", dict(subject=4, color=4, motion=2, background=5, camera=6)),
    ("a sailboat at sunset moving up", dict(subject=5, background=1, motion=3)),
    ("medium shot of a panda on grass in the desert", dict(subject=6, size=1, background=4)),
    ("a yellow car in the desert, camera moves left", dict(subject=4, color=1, background=6, camera=1)),
    ("a black box in a studio, the camera is static", dict(subject=1, color=5, background=7, camera=0)),
])
def test_english_variants(text, expect):
    p = parse_prompt(text)
    for slot in SLOTS:
        assert getattr(p, slot) == expect.get(slot), (text, slot)


def test_parser_any_order_and_missing_slots():
    a = parse_prompt("wide shot of a green star moving down on the sea, camera tilts up")
    b = parse_prompt("camera tilts up, on the sea, moving down, green star, wide shot")
    assert a == b and a.unknown == []
    p = parse_prompt("a ball")
    assert (p.subject, p.color, p.background, p.size, p.motion, p.camera) == (0, None, None, None, None, None)
    assert parse_prompt("") == ParsedPrompt()


def test_parser_reports_unknown_words_but_not_stop_words():
    p = parse_prompt("a shiny red ball of glass in the desert, camera static")
    assert p.unknown == ["shiny", "glass"]
    assert (p.subject, p.color, p.background, p.camera) == (0, 0, 6, 0)
    p = parse_prompt("a red blue ball")  # a second color is ignored, and said so
    assert p.color == 0 and p.unknown == ["blue"]


def test_chinese_parsing():
    p = parse_prompt("特写，一个红色的球向左移动，日落，镜头向右平移")
    assert (p.subject, p.color, p.background, p.size, p.motion, p.camera, p.unknown) == (0, 0, 1, 2, 1, 2, [])
    p = parse_prompt("镜头拉远。一只熊猫在雪地上弹跳")
    assert (p.subject, p.background, p.motion, p.camera, p.unknown) == (6, 5, 5, 6, [])
    p = parse_prompt("镜头向左移动，一辆蓝色汽车向右移动")  # the camera's move, then the subject's
    assert (p.camera, p.motion, p.subject, p.color) == (1, 2, 4, 3)
    p = parse_prompt("一个漂亮的紫色星星，哈哈，中景")
    assert (p.subject, p.color, p.size) == (3, 6, 1)
    assert p.unknown == ["漂亮", "哈哈"]  # consecutive unmatched characters are one word


def test_sample_storyboard_prompts_parse_cleanly():
    prompts = [s["prompt"] for s in json.loads((DATA / "lantern_festival.json").read_text())["shots"]]
    with open(DATA / "lantern_festival.csv", newline="") as fh:
        prompts += [row["prompt"] for row in csv.DictReader(fh)]
    assert len(prompts) == 14
    for text in prompts:
        p = parse_prompt(text)
        assert p.unknown == [], text
        assert p.subject is not None and p.background is not None and p.camera is not None, text
    p = parse_prompt("远景，一个熊猫静止，草地，镜头向左平移")
    assert (p.size, p.subject, p.motion, p.background, p.camera) == (0, 6, 0, 4, 1)
