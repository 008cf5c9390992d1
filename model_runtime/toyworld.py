"""The procedural toy world (../shared/TOYWORLD.md is the contract): vocabulary, prompt parser,
random scenes and a fast numpy renderer. Training draws clips from it on the fly, the evaluator
scores against it, and `python -m model_runtime.toyworld` writes a ground-truth clip.

Geometry: world units are frame heights H. At a static camera the frame shows world [0,1]×[0,1]
(x right, y down). A camera has a centre (cx, cy) and a zoom z; frame point (u, v) in [0,1]² shows
world (cx + (u-0.5)/z, cy + (v-0.5)/z). Backgrounds are functions of world coordinates, so their
texture moves only with the camera.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# ---- vocabulary (index order is part of the contract: it defines the held-out split) ----------
SUBJECTS = ["ball", "box", "pyramid", "star", "car", "sailboat", "panda", "lantern"]
SUBJECTS_ZH = ["球", "盒子", "金字塔", "星星", "汽车", "帆船", "熊猫", "灯笼"]
COLORS = ["red", "yellow", "green", "blue", "white", "black", "purple"]
COLORS_ZH = ["红色", "黄色", "绿色", "蓝色", "白色", "黑色", "紫色"]
COLOR_RGB = [(220, 40, 40), (245, 220, 40), (40, 190, 70), (40, 70, 230), (245, 245, 245), (20, 20, 20),
             (150, 50, 200)]
BACKGROUNDS = ["blue sky", "sunset", "night", "sea", "grass", "snow", "desert", "studio"]
BACKGROUNDS_ZH = ["蓝天", "日落", "夜晚", "大海", "草地", "雪地", "沙漠", "摄影棚"]
BACKGROUND_RGB = [(120, 170, 235), (230, 110, 70), (20, 25, 60), (40, 100, 170), (70, 150, 60),
                  (230, 235, 240), (215, 185, 120), (90, 90, 95)]
BACKGROUND_PHRASES = ["in a blue sky", "at sunset", "at night", "on the sea", "on grass", "in the snow",
                      "in the desert", "in a studio"]
SIZES = ["wide", "medium", "close-up"]
SIZES_ZH = ["远景", "中景", "特写"]
SIZE_FRACTION = (0.20, 0.35, 0.60)
MOTIONS = ["still", "moving left", "moving right", "moving up", "moving down", "bouncing"]
MOTIONS_ZH = ["静止", "向左移动", "向右移动", "向上移动", "向下移动", "弹跳"]
CAMERAS = ["static", "pans left", "pans right", "tilts up", "tilts down", "zooms in", "zooms out"]
CAMERAS_ZH = ["固定", "向左平移", "向右平移", "向上倾斜", "向下倾斜", "推近", "拉远"]

SLOTS = ("subject", "color", "background", "size", "motion", "camera")
PANDA = 6
FPS = 8
# Frame aspects (TOYWORLD.md, "Canvas"): width = ratio × height, rounded to whole pixels.
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}
DARK_RGB = (35, 35, 40)  # wheels, hull, mast, lantern caps
# (color, background) pairs too close to tell apart: the subject is not scored on them.
TOO_CLOSE = frozenset({(4, 5), (5, 2), (2, 4), (3, 3), (0, 1), (1, 6)})

# Motion and camera constants, in H and frames (8 fps); "over the whole clip" = frames 0 .. T-1.
TRAVEL = 0.5            # subject path and camera travel
ZOOM = 1.6              # total zoom factor, spread symmetrically around the middle frame
FLOOR = 0.9             # bouncing: the subject's bottom touches y = FLOOR
GRAVITY = 0.052         # H / frame²: the widest drop lands after ~5 frames, a second impact by ~13
RESTITUTION = 0.8
MAX_DEV = 44.0          # background pixels stay within this of the triple (contract: 50)


@dataclass(frozen=True)
class Scene:
    subject: int
    color: int
    background: int
    size: int
    motion: int
    camera: int


@dataclass
class ParsedPrompt:
    subject: int | None = None
    color: int | None = None
    background: int | None = None
    size: int | None = None
    motion: int | None = None
    camera: int | None = None
    unknown: list[str] = field(default_factory=list)


class ToyworldError(ValueError):
    """Bad input to the toy world (kind + one-line message)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


# ---- scenes -----------------------------------------------------------------------------------
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
    sizes = (len(SUBJECTS), len(COLORS), len(BACKGROUNDS), len(SIZES), len(MOTIONS), len(CAMERAS))
    vals = [getattr(p, s) if getattr(p, s) is not None else int(rng.integers(n)) for s, n in zip(SLOTS, sizes, strict=True)]
    return Scene(*vals)


def scene_prompt(scene: Scene, lang: str = "en") -> str:
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


# ---- prompt parser --------------------------------------------------------------------------------
def _english_phrases() -> dict[tuple[str, ...], tuple[str, int]]:
    table: dict[tuple[str, ...], tuple[str, int]] = {}

    def add(text: str, slot: str, value: int) -> None:
        table[tuple(text.split())] = (slot, value)

    subjects = [["ball", "balls", "sphere", "spheres"], ["box", "boxes", "cube", "cubes", "crate", "crates"],
                ["pyramid", "pyramids", "triangle", "triangles"], ["star", "stars"],
                ["car", "cars", "automobile", "automobiles"],
                ["sailboat", "sailboats", "sail boat", "sail boats", "sailing boat", "boat", "boats", "yacht"],
                ["panda", "pandas", "panda bear", "panda bears"], ["lantern", "lanterns"]]
    for i, words in enumerate(subjects):
        for w in words:
            add(w, "subject", i)
    for i, w in enumerate(COLORS):
        add(w, "color", i)
    add("violet", "color", 6)
    add("black and white", "_", 0)
    add("black white", "_", 0)
    backgrounds = [["blue sky", "sky", "skies", "clear sky"], ["sunset", "sundown", "dusk"],
                   ["night", "nighttime", "night sky", "night time"], ["sea", "ocean", "seas", "waves"],
                   ["grass", "grassy", "meadow", "lawn", "grassland"], ["snow", "snowy", "snowfield"],
                   ["desert", "sand", "dunes", "sand dunes"], ["studio", "photo studio"]]
    for i, words in enumerate(backgrounds):
        for w in words:
            add(w, "background", i)
    sizes = [["wide", "wide shot", "long shot", "establishing shot", "extreme wide"],
             ["medium", "mid", "midshot", "mid shot", "medium shot"],
             ["close up", "closeup", "close", "extreme close up", "tight", "tight shot"]]
    for i, words in enumerate(sizes):
        for w in words:
            add(w, "size", i)
    for w in ["still", "standing still", "stands still", "stand still", "staying still", "stays still",
              "sitting still", "sits still", "stationary", "motionless", "not moving", "at rest", "resting",
              "standing", "sitting", "hovering", "floating still"]:
        add(w, "motion", 0)
    movers = ["moving", "moves", "move", "going", "goes", "go", "travelling", "traveling", "travels",
              "heading", "heads", "drifting", "drifts", "sliding", "slides", "rolling", "rolls", "driving",
              "drives", "sailing", "sails", "flying", "flies", "floating", "floats", "walking", "walks",
              "gliding", "glides"]
    for d, name in enumerate(["left", "right", "up", "down"], start=1):
        for v in movers:
            for via in ("", " to the", " towards the", " toward the", " towards", " toward"):
                add(f"{v}{via} {name}", "motion", d)
                add(f"{v}{via} {name}ward", "motion", d)
                add(f"{v}{via} {name}wards", "motion", d)
    for w in ["rising", "rises", "rise", "ascending", "ascends", "climbing", "climbs"]:
        add(w, "motion", 3)
    for w in ["falling", "falls", "fall", "sinking", "sinks", "descending", "descends", "dropping", "drops"]:
        add(w, "motion", 4)
    for w in ["bouncing", "bounces", "bounce", "bouncy", "bouncing up and down", "bounces up and down",
              "hopping", "hops", "jumping", "jumps"]:
        add(w, "motion", 5)
    for w in ["static", "camera static", "static camera", "fixed", "fixed camera", "camera fixed",
              "camera is static", "camera is fixed", "locked off", "locked camera", "camera still",
              "still camera", "camera is still", "camera stays still", "camera does not move",
              "camera doesn't move", "camera not moving"]:
        add(w, "camera", 0)
    cam = {"pan": {"left": 1, "right": 2}, "tilt": {"up": 3, "down": 4}, "zoom": {"in": 5, "out": 6}}
    for verb, dirs in cam.items():
        forms = [verb, verb + "s", verb + ("ning" if verb == "pan" else "ing"), verb + ("ned" if verb == "pan" else "ed")]
        for f in forms:
            for dname, val in dirs.items():
                for via in ("", " to the", " towards the"):
                    add(f"{f}{via} {dname}", "camera", val)
                    add(f"camera {f}{via} {dname}", "camera", val)
                    add(f"camera is {f}{via} {dname}", "camera", val)
    for w, val in [("push in", 5), ("pushes in", 5), ("pushing in", 5), ("dolly in", 5), ("dollies in", 5),
                   ("pull out", 6), ("pulls out", 6), ("pulling out", 6), ("pull back", 6), ("pulls back", 6),
                   ("pulling back", 6), ("dolly out", 6), ("dollies out", 6)]:
        add(w, "camera", val)
        add("camera " + w, "camera", val)
    # "camera moves left" means the camera pans: longer than the subject phrase, so it wins.
    for v in movers[:10]:
        for dname, val in (("left", 1), ("right", 2), ("up", 3), ("down", 4), ("in", 5), ("out", 6)):
            for via in ("", " to the", " towards the"):
                add(f"camera {v}{via} {dname}", "camera", val)
                add(f"camera is {v}{via} {dname}", "camera", val)
    return table


_EN_PHRASES = _english_phrases()
_EN_MAXLEN = max(len(k) for k in _EN_PHRASES)
_EN_STOP = frozenset("""a an the of shot shots camera in on at with and is are to toward towards while as
    its it it's over across above against under by from into there one some this that which who view scene
    frame clip video film shows showing show see seen where during through near inside onto upon
    then also very slowly quickly gently steadily smoothly""".split())

_ZH_PHRASES: dict[str, tuple[str, int]] = {}


def _zh_table() -> None:
    def add(words, slot: str, value: int) -> None:
        for w in words.split():
            _ZH_PHRASES[w] = (slot, value)

    for i, w in enumerate(SUBJECTS_ZH):
        add(w, "subject", i)
    add("小球 皮球 圆球", "subject", 0)
    add("箱子 方块 立方体 方盒", "subject", 1)
    add("星 五角星", "subject", 3)
    add("车 小车 轿车", "subject", 4)
    add("帆船 小船 船 帆", "subject", 5)
    add("大熊猫", "subject", 6)
    add("红灯笼", "subject", 7)  # also a colour: handled in _parse_zh_run
    for i, w in enumerate(COLORS_ZH):
        add(w + " " + w[0], "color", i)
    add("紫罗兰色", "color", 6)
    add("黑白 黑白色 黑白相间", "_", 0)
    for i, w in enumerate(BACKGROUNDS_ZH):
        add(w, "background", i)
    for slot, words in (("size", SIZES_ZH), ("motion", MOTIONS_ZH), ("camera", CAMERAS_ZH)):
        for i, w in enumerate(words):
            add(w, slot, i)
    add("天空 蓝色天空 晴空 空中 天上", "background", 0)
    add("夕阳 黄昏 傍晚 落日", "background", 1)
    add("夜空 晚上 夜里 夜间 夜色 夜", "background", 2)
    add("海 海上 海面 海洋", "background", 3)
    add("草原 草坪 草丛", "background", 4)
    add("雪 雪中 雪原 雪景", "background", 5)
    add("沙丘 沙地", "background", 6)
    add("影棚 演播室 工作室", "background", 7)
    add("大远景 全景 远景镜头", "size", 0)
    add("中景镜头", "size", 1)
    add("大特写 特写镜头 近景", "size", 2)
    add("不动 静止不动 静静 一动不动 停着 静立", "motion", 0)
    for d, (zh, short) in enumerate([("左", "左移"), ("右", "右移"), ("上", "上移"), ("下", "下移")], start=1):
        add(f"向{zh}移动 {short} 往{zh}移动 向{zh}走 向{zh}运动 朝{zh}移动 向{zh}漂 向{zh} 往{zh}", "motion", d)
    add("上升 升起 飘起 飞起", "motion", 3)
    add("下降 落下 下落 坠落", "motion", 4)
    add("跳动 弹起 蹦跳 上下弹跳 弹来弹去 跳跃 弹", "motion", 5)
    add("镜头固定 固定镜头 镜头静止 镜头不动 静止镜头 机位固定", "camera", 0)
    for val, (zh, verb) in enumerate([("左", "平移"), ("右", "平移"), ("上", "倾斜"), ("下", "倾斜")], start=1):
        add(f"向{zh}{verb} {zh}{verb} 向{zh}摇 {zh}摇 向{zh}摇移", "camera", val)
    add("推进 拉近 推镜头 放大", "camera", 5)
    add("拉出 拉镜头 缩小", "camera", 6)
    # 镜头 + a direction is the camera's move even when the verb alone would be the subject's
    # (镜头向左移动); the longer match wins, so prefix every camera phrase and every bare direction.
    motions = {k: v for k, v in _ZH_PHRASES.items() if v[0] == "motion" and v[1] in (1, 2, 3, 4)}
    for k, (_, v) in motions.items():
        _ZH_PHRASES["镜头" + k] = ("camera", v)
    for k, v in [(k, v) for k, v in _ZH_PHRASES.items() if v[0] == "camera"]:
        _ZH_PHRASES.setdefault("镜头" + k, v)


_zh_table()
_ZH_MAXLEN = max(len(k) for k in _ZH_PHRASES)
# Function words and measure words that carry no slot (一个, 的, 镜头, ...); matched like phrases.
_ZH_STOP = frozenset("""一个 一只 一辆 一艘 一盏 一颗 一座 一头 一条 一只 一 个 只 辆 艘 盏 颗 座 头 的 地 得 着 在 上 中 里
    正在 镜头 画面 和 与 是 有 之中 之上 里面 上面 慢慢 缓缓 地方 场景 拍摄 视频 了 它""".split())
_ZH_STOP_MAXLEN = max(len(k) for k in _ZH_STOP)

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
        for n in range(min(_EN_MAXLEN, len(words) - i), 0, -1):
            hit = _EN_PHRASES.get(tuple(words[i:i + n]))
            if hit is not None:
                _assign(p, hit[0], hit[1], " ".join(words[i:i + n]))
                i += n
                break
        else:
            if words[i] not in _EN_STOP:
                p.unknown.append(words[i])
            i += 1


def _parse_zh_run(run: str, p: ParsedPrompt) -> None:
    i, pending = 0, ""
    while i < len(run):
        hit = None
        for n in range(min(_ZH_MAXLEN, len(run) - i), 0, -1):
            if run[i:i + n] in _ZH_PHRASES:
                hit = (n, _ZH_PHRASES[run[i:i + n]])
                break
        stop = next((n for n in range(min(_ZH_STOP_MAXLEN, len(run) - i), 0, -1) if run[i:i + n] in _ZH_STOP), 0)
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


# ---- geometry: subjects ---------------------------------------------------------------------------
# A subject lives in local coordinates: x right, y down, in units of its own height; its bounding box
# spans y in [-0.5, 0.5] and is centred on x = 0. Parts are signed distance fields (negative inside),
# which gives anti-aliased edges for free: coverage = clip(0.5 - sdf / pixel, 0, 1).
def _sd_circle(x, y, cx, cy, r):
    return np.hypot(x - cx, y - cy) - r


def _sd_ellipse(x, y, cx, cy, rx, ry):
    # first-order distance estimate; exact enough for one pixel of anti-aliasing
    k = np.hypot((x - cx) / rx, (y - cy) / ry)
    return (k - 1.0) * min(rx, ry)


def _sd_box(x, y, cx, cy, hw, hh, r=0.0):
    qx = np.abs(x - cx) - (hw - r)
    qy = np.abs(y - cy) - (hh - r)
    return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - r


def _sd_convex(x, y, verts):
    """Max of the edges' signed distances: exact inside, a close bound outside (convex polygons)."""
    v = np.asarray(verts, float)
    c = v.mean(axis=0)
    d = None
    for a, b in zip(v, np.roll(v, -1, axis=0), strict=True):
        n = np.array([b[1] - a[1], a[0] - b[0]])
        n /= np.hypot(*n)
        if np.dot(c - a, n) > 0:
            n = -n
        e = (x - a[0]) * n[0] + (y - a[1]) * n[1]
        d = e if d is None else np.maximum(d, e)
    return d


_STAR_R = 1.0 / (1.0 + math.cos(math.pi / 5))  # point up: bbox height R (1 + cos 36°) = 1
_STAR_CY = -0.5 + _STAR_R
_STAR_M = 3.0  # inner radius ≈ 0.47 R


def _sd_star(x, y):
    an, en = math.pi / 5, math.pi / _STAR_M
    px, py = x, _STAR_CY - y  # iq's star points along +y; ours points up the screen
    bn = np.mod(np.arctan2(px, py), 2 * an) - an
    r = np.hypot(px, py)
    qx = r * np.cos(bn) - _STAR_R * math.cos(an)
    qy = r * np.abs(np.sin(bn)) - _STAR_R * math.sin(an)
    t = np.clip(-(qx * math.cos(en) + qy * math.sin(en)), 0, _STAR_R * math.sin(an) / math.sin(en))
    qx = qx + math.cos(en) * t
    qy = qy + math.sin(en) * t
    return np.hypot(qx, qy) * np.sign(qx)


# Half width of each subject's bounding box (its height is 1): used to cull and by the evaluator.
SUBJECT_HALF_WIDTH = (0.5, 0.5, 0.55, _STAR_R * math.sin(2 * math.pi / 5), 0.7, 0.5, 0.42, 0.36)


def subject_layers(subject: int, rgb, x, y):
    """The subject as paint layers [(sdf, rgb)], bottom first, in local coordinates."""
    white, black = COLOR_RGB[4], COLOR_RGB[5]
    if subject == 0:
        return [(_sd_circle(x, y, 0, 0, 0.5), rgb)]
    if subject == 1:
        return [(_sd_box(x, y, 0, 0, 0.5, 0.5), rgb)]
    if subject == 2:
        return [(_sd_convex(x, y, [(0, -0.5), (0.55, 0.5), (-0.55, 0.5)]), rgb)]
    if subject == 3:
        return [(_sd_star(x, y), rgb)]
    if subject == 4:  # car: body and cabin in the color, two dark wheels below
        body = np.minimum(_sd_box(x, y, 0, 0.135, 0.7, 0.245, 0.08),
                          _sd_convex(x, y, [(-0.42, -0.08), (-0.3, -0.5), (0.25, -0.5), (0.45, -0.08)]))
        wheels = np.minimum(_sd_circle(x, y, -0.42, 0.38, 0.12), _sd_circle(x, y, 0.42, 0.38, 0.12))
        return [(body, rgb), (wheels, DARK_RGB)]
    if subject == 5:  # sailboat: two blunt-topped sails in the color, dark hull and mast
        sails = np.minimum(_sd_convex(x, y, [(-0.05, -0.5), (0.04, -0.5), (0.04, 0.4), (-0.44, 0.4)]),
                           _sd_convex(x, y, [(0.1, -0.4), (0.16, -0.4), (0.1, 0.4), (0.42, 0.4)]))
        hull = np.minimum(_sd_convex(x, y, [(-0.5, 0.4), (0.5, 0.4), (0.36, 0.5), (-0.36, 0.5)]),
                          _sd_box(x, y, 0.07, -0.05, 0.025, 0.45))
        return [(sails, rgb), (hull, DARK_RGB)]
    if subject == 6:  # panda, always black and white; white spans the full height, and so does black
        fur = np.minimum(_sd_circle(x, y, 0, -0.2, 0.3), _sd_ellipse(x, y, 0, 0.2, 0.4, 0.3))
        patches = np.minimum.reduce([
            _sd_circle(x, y, -0.24, -0.4, 0.1), _sd_circle(x, y, 0.24, -0.4, 0.1),
            _sd_ellipse(x, y, -0.11, -0.22, 0.07, 0.08), _sd_ellipse(x, y, 0.11, -0.22, 0.07, 0.08),
            _sd_ellipse(x, y, -0.3, 0.1, 0.12, 0.17), _sd_ellipse(x, y, 0.3, 0.1, 0.12, 0.17),
            _sd_circle(x, y, -0.22, 0.4, 0.1), _sd_circle(x, y, 0.22, 0.4, 0.1)])
        return [(fur, white), (patches, black)]
    if subject == 7:  # lantern: rounded body in the color, small dark caps
        body = _sd_box(x, y, 0, 0, 0.36, 0.45, 0.2)
        caps = np.minimum(_sd_box(x, y, 0, -0.47, 0.19, 0.03), _sd_box(x, y, 0, 0.47, 0.19, 0.03))
        return [(body, rgb), (caps, DARK_RGB)]
    raise ToyworldError("bad_scene", f"unknown subject index {subject}")


# ---- geometry: backgrounds ------------------------------------------------------------------------
def _sin_sum(u, v):
    """sin(u + v), from the sines and cosines of u and v: when u varies only along x and v only
    along y (any camera here keeps world x a function of the column, y of the row), the trig runs
    on a row and a column instead of every pixel."""
    return np.sin(u) * np.cos(v) + np.cos(u) * np.sin(v)


def _waves(x, y, specs):
    """Sum of sinusoids: specs = [(wavelength, angle_deg, phase)], normalised to about [-1, 1]."""
    acc = 0.0
    for lam, ang, ph in specs:
        a, k = math.radians(ang), 2 * math.pi / lam
        acc = acc + _sin_sum(x * (math.cos(a) * k) + ph, y * (math.sin(a) * k))
    return acc / len(specs)


def _cells(x, y, cell, salt):
    """Per-cell hashed uniforms (u1, u2, u3) and the position inside the cell, for sparse dots."""
    i = np.floor(x / cell).astype(np.int64)
    j = np.floor(y / cell).astype(np.int64)
    h = (i * 73856093) ^ (j * 19349663) ^ salt
    h = (h ^ (h >> 13)) * 1274126177
    h = h ^ (h >> 16)
    u = [((h >> s) & 1023) / 1023.0 for s in (0, 10, 20)]
    fx = x / cell - i
    fy = y / cell - j
    return u, fx, fy


def _dots(x, y, cell, radius, density, salt):
    """Soft round dots scattered one per cell (stars, snowflakes), values in [0, 1]."""
    (u1, u2, u3), fx, fy = _cells(x, y, cell, salt)
    dx = (fx - (0.3 + 0.4 * u1)) * cell
    dy = (fy - (0.3 + 0.4 * u2)) * cell
    on = u3 < density
    return np.where(on, np.exp(-(dx * dx + dy * dy) / (2 * radius * radius)), 0.0) * (0.6 + 0.4 * u3 / density)


_NOISE = [(0.23, 17, 0.3), (0.31, 81, 1.7), (0.19, 139, 4.1), (0.41, 205, 2.2)]


def _background_fields(b: int, x, y, tx, ty):
    """[(scalar field, RGB direction)] making up background b's deviation from its mean color.
    x, y: world coordinates (gradients); tx, ty: the same shifted by the seed's texture phase.
    Budget: gradient ≤ ~12 and texture ≤ ~32 from the triple, so the evaluator can tell any pixel
    more than 60 away from the local background for subject; features are ≥ ~0.15 H so they survive
    at 32 px and a zoom out (the evaluator tracks them to measure the camera)."""
    gy = np.clip(y - 0.5, -0.6, 0.6)
    noise = _waves(tx, ty, _NOISE)
    if b == 0:  # blue sky: lighter towards the horizon, soft clouds
        cloud = np.clip(1.6 * _waves(tx, ty, [(0.55, 5, 0.0), (0.37, 70, 1.3), (0.47, 140, 2.6)]) - 0.1, 0, 1)
        return [(gy, (16, 12, 3)), (cloud, (24, 18, 4)), (noise, (6, 6, 4))]
    if b == 1:  # sunset: warm bands, a low sun
        bands = _sin_sum(ty * (2 * math.pi / 0.2), 0.12 * 2 * math.pi * np.sin(tx * 2 * math.pi / 0.45))
        sun = np.clip(1.3 - np.hypot(tx % 1.5 - 0.75, y - 0.62) / 0.12, 0, 1)
        return [(gy, (4, 16, 8)), (bands, (5, 12, 10)), (sun, (12, 24, 10)), (noise, (6, 6, 4))]
    if b == 2:  # night: stars in a faint nebula
        stars = _dots(tx, ty, 0.14, 0.028, 0.75, 1)
        return [(gy, (3, 4, 10)), (stars, (24, 24, 21)), (noise, (6, 6, 14))]
    if b == 3:  # sea: wave crests, deeper blue lower down
        crest = _sin_sum(ty * (2 * math.pi / 0.2), 0.15 * 2 * math.pi * np.sin(tx * 2 * math.pi / 0.37))
        return [(gy, (-4, -10, -14)), (crest, (10, 16, 14)), (noise, (6, 8, 10))]
    if b == 4:  # grass: blades
        blades = _sin_sum(tx * (2 * math.pi / 0.15), 0.2 * 2 * math.pi * np.sin(ty * 2 * math.pi / 0.3))
        return [(gy, (6, 14, 4)), (blades, (8, 18, 6)), (noise, (6, 10, 5))]
    if b == 5:  # snow: bluish drifts and bright flakes
        flakes = _dots(tx, ty, 0.14, 0.028, 0.6, 2)
        return [(gy, (-4, -3, -1)), (noise, (-20, -16, -6)), (flakes, (22, 18, 13))]
    if b == 6:  # desert: dunes
        dunes = _sin_sum(ty * (2 * math.pi / 0.22), 0.2 * 2 * math.pi * np.sin(tx * 2 * math.pi / 0.6))
        return [(gy, (8, 8, 6)), (dunes, (16, 16, 14)), (noise, (6, 6, 5))]
    if b == 7:  # studio: backdrop panels, a floor line, a darker floor
        floor = (y > 0.72).astype(np.float32)
        line = np.exp(-((y - 0.72) / 0.03) ** 2)
        seams = np.exp(-(((tx % 0.3) - 0.15) / 0.03) ** 2) * (y < 0.68)
        spots = _waves(tx, ty, [(0.5, 30, 0.4), (0.42, 100, 2.0), (0.6, 160, 4.4)])  # soft lights
        return [(floor, (-10, -10, -10)), (line, (-18, -18, -18)), (seams, (-12, -12, -12)),
                (spots, (10, 10, 9)), (noise, (6, 6, 6))]
    raise ToyworldError("bad_scene", f"unknown background index {b}")


def _background_dev(b: int, x, y, tx, ty) -> np.ndarray:
    shape = np.broadcast(x, y, tx, ty).shape
    dev = np.zeros(shape + (3,), np.float32)
    for f, v in _background_fields(b, x, y, tx, ty):
        dev += np.asarray(f, np.float32)[..., None] * np.asarray(v, np.float32)
    dev -= _BG_BIAS[b]
    # never let texture and gradient together stray past MAX_DEV from the triple (contract: 50)
    norm = np.sqrt(np.einsum("...c,...c->...", dev, dev))[..., None]
    return dev * np.minimum(1.0, MAX_DEV / np.maximum(norm, 1e-6))


def _calibrate_bias() -> np.ndarray:
    """Mean texture deviation over many phases, subtracted so the empty frame's mean is the triple."""
    y = ((np.arange(64) + 0.5) / 64)[None, :, None]
    x = ((np.arange(256) + 0.5) / 32)[None, None, :]  # 8 frame widths of phase
    ty = y + np.array([0.0, 0.29, 0.61, 0.83])[:, None, None]  # and a few vertical phases
    out = np.zeros((len(BACKGROUNDS), 3), np.float32)
    for b in range(len(BACKGROUNDS)):
        dev = np.zeros((4, 64, 256, 3), np.float32)
        for f, v in _background_fields(b, x, y, x, ty):
            dev += np.asarray(f, np.float32)[..., None] * np.asarray(v, np.float32)
        out[b] = dev.reshape(-1, 3).mean(0)
    return out


_BG_BIAS = _calibrate_bias()


# ---- motion and camera ----------------------------------------------------------------------------
def _progress(frames: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, frames) if frames > 1 else np.array([0.5])


def camera_path(camera: int, frames: int):
    """Per frame: camera centre (cx, cy) in world H units and zoom z."""
    p = _progress(frames)
    cx = np.full(frames, 0.5)
    cy = np.full(frames, 0.5)
    z = np.ones(frames)
    travel = TRAVEL * (p - 0.5)  # centred: the middle frame looks at the centre
    if camera == 1:
        cx = 0.5 - travel   # camera pans left: content moves right
    elif camera == 2:
        cx = 0.5 + travel
    elif camera == 3:
        cy = 0.5 - travel   # camera tilts up: content moves down
    elif camera == 4:
        cy = 0.5 + travel
    elif camera == 5:
        z = ZOOM ** (p - 0.5)   # 1.6x in total, symmetric around the middle frame
    elif camera == 6:
        z = ZOOM ** (0.5 - p)
    elif camera != 0:
        raise ToyworldError("bad_scene", f"unknown camera index {camera}")
    return cx, cy, z


def bounce_path(y0: float, y_floor: float, frames: int) -> np.ndarray:
    """Centre height of a subject dropped from rest at y0 that bounces on a floor (centre at y_floor)."""
    ys = np.empty(frames)
    t_hit = math.sqrt(2 * max(y_floor - y0, 1e-9) / GRAVITY)
    v_up = GRAVITY * t_hit * RESTITUTION
    for k in range(frames):
        t = float(k)
        if t <= t_hit:
            ys[k] = y0 + 0.5 * GRAVITY * t * t
            continue
        t0, v = t_hit, v_up
        while True:
            flight = 2 * v / GRAVITY
            if t <= t0 + flight or flight < 1e-3:
                s = t - t0
                ys[k] = y_floor - v * s + 0.5 * GRAVITY * s * s if flight >= 1e-3 else y_floor
                break
            t0 += flight
            v *= RESTITUTION
    return np.minimum(ys, y_floor)


def subject_path(scene: Scene, frames: int, rng: np.random.Generator):
    """Subject centre per frame in world H units (x, y)."""
    h = SIZE_FRACTION[scene.size]
    p = _progress(frames)
    jx, jy = rng.uniform(-0.03, 0.03, size=2)
    x = np.full(frames, 0.5 + jx)
    y = np.full(frames, 0.5 + jy)
    step = TRAVEL * (p - 0.5)
    if scene.motion == 1:
        x = 0.5 + jx - step
    elif scene.motion == 2:
        x = 0.5 + jx + step
    elif scene.motion == 3:
        y = 0.5 + jy - step
    elif scene.motion == 4:
        y = 0.5 + jy + step
    elif scene.motion == 5:
        top = rng.uniform(0.03, 0.08)
        y = bounce_path(top + h / 2, FLOOR - h / 2, frames)
    elif scene.motion != 0:
        raise ToyworldError("bad_scene", f"unknown motion index {scene.motion}")
    return x, y


def _paths(scene: Scene, seed: int, frames: int):
    """The seed's draws, in the renderer's order: texture phase, camera path, subject path."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 8, size=2)
    return phase, camera_path(scene.camera, frames), subject_path(scene, frames, rng)


LAYOUT_FIELDS = ("camera_x", "camera_y", "log_zoom", "subject_x", "subject_y", "subject_h", "subject_half_w")


def layout(scene: Scene, seed: int, frames: int = 16) -> np.ndarray:
    """Where the camera and the subject are in the clip `render(scene, seed)` draws: float32 T×7 in
    world H units about the world centre (LAYOUT_FIELDS), the annotation a real dataset gets from a
    tracker and camera-pose estimation. The subject's size columns are always > 0."""
    _check_scene(scene)
    _, (cx, cy, z), (sx, sy) = _paths(scene, seed, frames)
    h = SIZE_FRACTION[scene.size]
    cols = [cx - 0.5, cy - 0.5, np.log(z), sx - 0.5, sy - 0.5,
            np.full(frames, h), np.full(frames, SUBJECT_HALF_WIDTH[scene.subject] * h)]
    return np.stack(cols, axis=1).astype(np.float32)


# ---- renderer -------------------------------------------------------------------------------------
def frame_width(height: int, aspect: str = "1:1") -> int:
    """Width in pixels of a frame `height` px tall at `aspect` (16:9, 9:16 or 1:1)."""
    if aspect not in ASPECTS:
        raise ToyworldError("bad_aspect", f"unknown aspect {aspect!r} (choose {', '.join(ASPECTS)})")
    return max(1, round(height * ASPECTS[aspect]))


def _frame_offsets(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres as offsets from the frame's centre in frame heights: columns (W), rows (H)."""
    gx = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / height
    gy = (np.arange(height, dtype=np.float32) + 0.5 - height / 2) / height
    return gx, gy


def _check_scene(scene: Scene) -> None:
    sizes = (len(SUBJECTS), len(COLORS), len(BACKGROUNDS), len(SIZES), len(MOTIONS), len(CAMERAS))
    for slot, n in zip(SLOTS, sizes, strict=True):
        v = getattr(scene, slot)
        if not isinstance(v, int | np.integer) or not 0 <= v < n:
            raise ToyworldError("bad_scene", f"{slot} must be an index in 0..{n - 1}, got {v!r}")


def render(scene: Scene, seed: int, size: int = 32, frames: int = 16, aspect: str = "1:1") -> np.ndarray:
    """The clip of `scene`: uint8 array T×H×W×3 with H = size and W = frame_width(size, aspect).
    Same scene, seed and frame count → same clip at any size and aspect (sizes are fractions of H)."""
    _check_scene(scene)
    if size < 16:
        raise ToyworldError("bad_size", f"size must be at least 16 pixels, got {size}")
    if frames < 1:
        raise ToyworldError("bad_frames", f"frames must be at least 1, got {frames}")
    width = frame_width(size, aspect)
    phase, (cx, cy, z), (sx, sy) = _paths(scene, seed, frames)

    gx, gy = _frame_offsets(size, width)
    zc = z[:, None, None].astype(np.float32)
    wx = cx[:, None, None].astype(np.float32) + gx[None, None, :] / zc   # T×1×W
    wy = cy[:, None, None].astype(np.float32) + gy[None, :, None] / zc   # T×H×1
    img = _background_dev(scene.background, wx, wy, wx + phase[0], wy + phase[1])
    img += np.asarray(BACKGROUND_RGB[scene.background], np.float32)

    # Subject: only the rows and columns its bounding box can touch (culling keeps wide shots cheap).
    h = SIZE_FRACTION[scene.size]
    hw = SUBJECT_HALF_WIDTH[scene.subject] * h
    lx = (wx - sx[:, None, None]) / h
    ly = (wy - sy[:, None, None]) / h
    pix = 1.0 / (size * zc * h)  # one pixel in local units
    cols = np.nonzero((np.abs(wx - sx[:, None, None]) < hw + 2.0 / (size * zc)).any(axis=(0, 1)))[0]
    rows = np.nonzero((np.abs(wy - sy[:, None, None]) < h / 2 + 2.0 / (size * zc)).any(axis=(0, 2)))[0]
    if len(cols) and len(rows):
        c0, c1, r0, r1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
        x = np.broadcast_to(lx[:, :, c0:c1], (frames, r1 - r0, c1 - c0))
        y = np.broadcast_to(ly[:, r0:r1, :], (frames, r1 - r0, c1 - c0))
        region = img[:, r0:r1, c0:c1]
        for sdf, rgb in subject_layers(scene.subject, COLOR_RGB[scene.color], x, y):
            a = np.clip(0.5 - sdf / pix, 0.0, 1.0)[..., None].astype(np.float32)
            region += a * (np.asarray(rgb, np.float32) - region)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def empty_frames(background: int, camera: int, seed: int, size: int = 32, frames: int = 16,
                 aspect: str = "1:1") -> np.ndarray:
    """The background alone (for tests of the background contract)."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 8, size=2)
    cx, cy, z = camera_path(camera, frames)
    gx, gy = _frame_offsets(size, frame_width(size, aspect))
    wx = (cx[:, None, None] + gx[None, None, :] / z[:, None, None]).astype(np.float32)
    wy = (cy[:, None, None] + gy[None, :, None] / z[:, None, None]).astype(np.float32)
    img = _background_dev(background, wx, wy, wx + phase[0], wy + phase[1]) + np.asarray(
        BACKGROUND_RGB[background], np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


# ---- CLI ------------------------------------------------------------------------------------------
def write_mp4(clip: np.ndarray, path: str | Path, fps: int = FPS, min_side: int = 256) -> None:
    """Nearest-neighbour upscale to at least `min_side` px, H.264 yuv420p; atomic (temp + replace)."""
    import imageio_ffmpeg

    path = Path(path)
    k = max(1, math.ceil(min_side / min(clip.shape[1:3])))
    big = np.repeat(np.repeat(clip, k, axis=1), k, axis=2)
    h, w = big.shape[1:3]
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}.mp4")
    try:
        writer = imageio_ffmpeg.write_frames(str(tmp), (w, h), fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                             pix_fmt_out="yuv420p", macro_block_size=1,
                                             output_params=["-loglevel", "error"])
        writer.send(None)
        for frame in big:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_npy(clip: np.ndarray, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}.npy")
    try:
        np.save(tmp, clip)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.toyworld",
                                 description="Render a ground-truth toy-world clip from a prompt.")
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--height", "--size", dest="size", type=int, default=32,
                    help="frame height in pixels (>= 16); the width follows --aspect")
    ap.add_argument("--aspect", default="1:1", choices=list(ASPECTS), help="frame aspect (width:height)")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--out", required=True, help="output .npy (uint8 T×H×W×3) or .mp4")
    args = ap.parse_args(argv)
    try:
        out = Path(args.out)
        if out.suffix.lower() not in (".npy", ".mp4"):
            raise ToyworldError("bad_output", f"--out must end in .npy or .mp4, got {args.out!r}")
        if not out.parent.is_dir():
            raise ToyworldError("bad_output", f"folder {str(out.parent)!r} does not exist")
        if not 0 <= args.seed < 2**63:
            raise ToyworldError("bad_seed", f"seed must be a non-negative integer, got {args.seed}")
        if args.frames > 10_000 or args.size > 1024:
            raise ToyworldError("too_large", "at most 10000 frames of at most 1024 px")
        if args.frames * args.size * frame_width(args.size, args.aspect) > 2**31:
            raise ToyworldError("too_large", "that clip would not fit in memory; use fewer frames or a smaller height")
        parsed = parse_prompt(args.prompt)
        if parsed.unknown:
            print(f"warning: ignored words not in the toy world's vocabulary: {', '.join(parsed.unknown)}",
                  file=sys.stderr)
        scene = complete_scene(parsed, np.random.default_rng([args.seed, 1]))
        clip = render(scene, args.seed, size=args.size, frames=args.frames, aspect=args.aspect)
        if out.suffix.lower() == ".npy":
            write_npy(clip, out)
        else:
            write_mp4(clip, out)
    except ToyworldError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"{scene_prompt(scene)} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
