"""The studio's prompt check and the shot fields read the contract's vocabulary, without the model."""

import subprocess
import sys
from pathlib import Path

from contract import vocabulary as vocab
from studio import vocabulary
from studio.project.schema import Camera, Motion, ShotSize

ROOT = Path(__file__).resolve().parent.parent


def test_prompt_slots_and_unknown_words():
    assert vocabulary.available()
    assert vocabulary.prompt_slots("wide shot of a fluffy red ball, camera tilts up") == {
        "subject": "ball", "color": "red", "size": "wide", "camera": "tilts up"}
    assert vocabulary.prompt_slots("") == {}
    assert vocabulary.unknown_words("a fluffy red ball at night, 哈哈") == ["fluffy", "哈哈"]
    assert vocabulary.unknown_words("  ") == []


def test_shot_fields_are_the_vocabulary_plus_auto_and_keep_their_saved_names():
    for enum, words in ((ShotSize, vocab.SIZES), (Camera, vocab.CAMERAS), (Motion, vocab.MOTIONS)):
        assert [m.value for m in enum] == ["auto", *words]
    # names code uses and values project files hold
    assert (ShotSize.CLOSE_UP, Camera.PAN_LEFT, Camera.ZOOM_OUT, Motion.LEFT, Motion.BOUNCING) == (
        "close-up", "pans left", "zooms out", "moving left", "bouncing")
    assert ShotSize("medium") is ShotSize.MEDIUM and Motion.AUTO == Camera.AUTO == "auto"


def test_the_studio_checks_prompts_without_numpy_or_the_model():
    code = ("import sys, studio.vocabulary as v; v.unknown_words('a red ball'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'torch', 'model_runtime'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
