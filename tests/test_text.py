import torch

from contract import vocabulary as vocab
from contract.prompt_parser import scene_prompt
from model_runtime import toyworld as tw
from model_runtime.text import PAD, VOCAB_SIZE, SmallTextEncoder, Tokenizer

EN = "close-up shot of a red ball moving left at sunset, camera pans right"
ZH = "特写，一个红色的球向左移动，日落，镜头向右平移"


def test_english_and_chinese_give_the_same_tokens():
    tok = Tokenizer()
    en, zh = tok.tokenize(EN), tok.tokenize(ZH)
    assert en.ids == zh.ids and len(en.ids) == 6
    assert en.unknown == zh.unknown == []


def test_word_order_does_not_matter():
    tok = Tokenizer()
    assert tok.tokenize("camera pans right, a red ball at sunset moving left, close-up").ids == tok.tokenize(EN).ids


def test_missing_slots_give_fewer_tokens_and_unknown_words_are_reported():
    tok = Tokenizer()
    t = tok.tokenize("a purple dragon in the snow")
    assert len(t.ids) == 2  # purple, snow
    assert "dragon" in t.unknown


def test_every_concept_has_its_own_id():
    tok = Tokenizer()
    seen = set()
    for slot, names in (("subject", vocab.SUBJECTS), ("color", vocab.COLORS), ("background", vocab.BACKGROUNDS),
                        ("size", vocab.SIZES), ("motion", vocab.MOTIONS), ("camera", vocab.CAMERAS)):
        for i in range(len(names)):
            seen.add(tok.offsets[slot] + i)
    assert len(seen) == VOCAB_SIZE - 1 and PAD not in seen


def test_scene_ids_match_the_prompt_tokens():
    tok = Tokenizer()
    rng = __import__("numpy").random.default_rng(0)
    for _ in range(50):
        scene = tw.sample_scene(rng)
        if scene.subject == vocab.PANDA:
            continue  # the panda's prompt names no color
        assert tok.tokenize(scene_prompt(scene, "en")).ids == tok.scene_ids(scene)
        assert tok.tokenize(scene_prompt(scene, "zh")).ids == tok.scene_ids(scene)


def test_batch_pads_and_encoder_shapes():
    tok = Tokenizer(max_len=8)
    ids, unknown = tok.batch([EN, "", "hello"])
    assert ids.shape == (3, 8) and ids.dtype == torch.long
    assert ids[1].eq(PAD).all() and unknown[2] == ["hello"]
    enc = SmallTextEncoder(64, 16, layers=1)
    assert enc(ids).shape == (3, 8, 16)
