"""The phrase tables of the prompt parser: every English and Chinese way of saying each vocabulary
word (synonyms, inflections, "camera pans to the left", 镜头向左平移), and the function words that
carry no slot. Built once at import; the parser matches the longest phrase first."""

from __future__ import annotations

from contract.vocabulary import (
    BACKGROUNDS_ZH,
    CAMERAS_ZH,
    COLORS,
    COLORS_ZH,
    MOTIONS_ZH,
    SIZES_ZH,
    SUBJECTS_ZH,
)


# A phrase maps to (slot, index); slot "_" is a descriptor in the world that fills no slot
# ("black and white" for the panda). English phrases are word tuples, Chinese ones strings.
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


EN_PHRASES = _english_phrases()
EN_MAXLEN = max(len(k) for k in EN_PHRASES)
EN_STOP = frozenset("""a an the of shot shots camera in on at with and is are to toward towards while as
    its it it's over across above against under by from into there one some this that which who view scene
    frame clip video film shows showing show see seen where during through near inside onto upon
    then also very slowly quickly gently steadily smoothly""".split())

ZH_PHRASES: dict[str, tuple[str, int]] = {}


def _zh_table() -> None:
    def add(words, slot: str, value: int) -> None:
        for w in words.split():
            ZH_PHRASES[w] = (slot, value)

    for i, w in enumerate(SUBJECTS_ZH):
        add(w, "subject", i)
    add("小球 皮球 圆球", "subject", 0)
    add("箱子 方块 立方体 方盒", "subject", 1)
    add("星 五角星", "subject", 3)
    add("车 小车 轿车", "subject", 4)
    add("帆船 小船 船 帆", "subject", 5)
    add("大熊猫", "subject", 6)
    add("红灯笼", "subject", 7)  # also a colour: the parser reads both
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
    motions = {k: v for k, v in ZH_PHRASES.items() if v[0] == "motion" and v[1] in (1, 2, 3, 4)}
    for k, (_, v) in motions.items():
        ZH_PHRASES["镜头" + k] = ("camera", v)
    for k, v in [(k, v) for k, v in ZH_PHRASES.items() if v[0] == "camera"]:
        ZH_PHRASES.setdefault("镜头" + k, v)


_zh_table()
ZH_MAXLEN = max(len(k) for k in ZH_PHRASES)
# Function words and measure words that carry no slot (一个, 的, 镜头, ...); matched like phrases.
ZH_STOP = frozenset("""一个 一只 一辆 一艘 一盏 一颗 一座 一头 一条 一只 一 个 只 辆 艘 盏 颗 座 头 的 地 得 着 在 上 中 里
    正在 镜头 画面 和 与 是 有 之中 之上 里面 上面 慢慢 缓缓 地方 场景 拍摄 视频 了 它""".split())
ZH_STOP_MAXLEN = max(len(k) for k in ZH_STOP)
