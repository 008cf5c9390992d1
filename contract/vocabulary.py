"""The toy world's vocabulary (../shared/TOYWORLD.md, "Vocabulary"): the words of each prompt slot,
in English and Chinese. Index order is part of the contract: it defines the held-out split, and a
scene is six indices into these lists."""

from __future__ import annotations

from dataclasses import dataclass

SUBJECTS = ["ball", "box", "pyramid", "star", "car", "sailboat", "panda", "lantern"]
SUBJECTS_ZH = ["球", "盒子", "金字塔", "星星", "汽车", "帆船", "熊猫", "灯笼"]
COLORS = ["red", "yellow", "green", "blue", "white", "black", "purple"]
COLORS_ZH = ["红色", "黄色", "绿色", "蓝色", "白色", "黑色", "紫色"]
BACKGROUNDS = ["blue sky", "sunset", "night", "sea", "grass", "snow", "desert", "studio"]
BACKGROUNDS_ZH = ["蓝天", "日落", "夜晚", "大海", "草地", "雪地", "沙漠", "摄影棚"]
BACKGROUND_PHRASES = ["in a blue sky", "at sunset", "at night", "on the sea", "on grass", "in the snow",
                      "in the desert", "in a studio"]
SIZES = ["wide", "medium", "close-up"]
SIZES_ZH = ["远景", "中景", "特写"]
MOTIONS = ["still", "moving left", "moving right", "moving up", "moving down", "bouncing"]
MOTIONS_ZH = ["静止", "向左移动", "向右移动", "向上移动", "向下移动", "弹跳"]
CAMERAS = ["static", "pans left", "pans right", "tilts up", "tilts down", "zooms in", "zooms out"]
CAMERAS_ZH = ["固定", "向左平移", "向右平移", "向上倾斜", "向下倾斜", "推近", "拉远"]

SLOTS = ("subject", "color", "background", "size", "motion", "camera")
# The English words of each slot, in SLOTS order.
SLOT_WORDS = {"subject": SUBJECTS, "color": COLORS, "background": BACKGROUNDS, "size": SIZES,
              "motion": MOTIONS, "camera": CAMERAS}
PANDA = 6  # always black and white: its color word changes nothing on screen


@dataclass(frozen=True)
class Scene:
    """A prompt with every slot filled: one index per slot into the lists above."""

    subject: int
    color: int
    background: int
    size: int
    motion: int
    camera: int
