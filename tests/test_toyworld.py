"""The toy world against its contract (../shared/TOYWORLD.md): vocabulary, splits, renderer, CLI (the
parser alone: test_prompt_parser.py)."""

import numpy as np
import pytest

from contract import vocabulary as vocab
from contract.prompt_parser import parse_prompt, scene_prompt
from model_runtime import toyworld as tw
from model_runtime.toyworld import cli


def subject_mask(scene: tw.Scene, seed: int, size: int, frames: int = 16) -> np.ndarray:
    """Pixels where the clip differs from its own empty background (same seed, same texture)."""
    clip = tw.render(scene, seed, size=size, frames=frames).astype(int)
    empty = tw.empty_frames(scene.background, scene.camera, seed, size=size, frames=frames).astype(int)
    return np.abs(clip - empty).sum(-1) > 0


def box(mask: np.ndarray):
    ys, xs = np.nonzero(mask)
    return xs.min(), xs.max() + 1, ys.min(), ys.max() + 1


def centroids(mask: np.ndarray, size: int) -> np.ndarray:
    return np.array([[np.nonzero(m)[1].mean() + 0.5, np.nonzero(m)[0].mean() + 0.5] for m in mask]) / size


def best_shift(a: np.ndarray, b: np.ndarray, r: int) -> tuple[int, int]:
    """Integer (dx, dy) that best maps image a onto b (b[y+dy, x+dx] ≈ a[y, x])."""
    n = a.shape[0]
    errs = {}
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            pa = a[max(0, -dy):n - max(0, dy), max(0, -dx):n - max(0, dx)]
            pb = b[max(0, dy):n - max(0, -dy), max(0, dx):n - max(0, -dx)]
            errs[(dx, dy)] = float(((pa - pb) ** 2).mean())
    return min(errs, key=errs.get)


# ---- vocabulary and prompts ----------------------------------------------------------------------
def test_vocabulary_follows_the_contract_order():
    assert vocab.SUBJECTS[5] == "sailboat" and vocab.SUBJECTS_ZH[5] == "帆船"
    assert vocab.COLORS[6] == "purple" and tw.COLOR_RGB[6] == (150, 50, 200)
    assert vocab.BACKGROUNDS[7] == "studio" and tw.BACKGROUND_RGB[7] == (90, 90, 95)
    assert vocab.SIZES == ["wide", "medium", "close-up"] and tw.SIZE_FRACTION == (0.20, 0.35, 0.60)
    assert vocab.MOTIONS[5] == "bouncing" and vocab.MOTIONS_ZH[5] == "弹跳"
    assert vocab.CAMERAS[6] == "zooms out" and vocab.CAMERAS_ZH[6] == "拉远"
    for en, zh in [(vocab.SUBJECTS, vocab.SUBJECTS_ZH), (vocab.COLORS, vocab.COLORS_ZH),
                   (vocab.BACKGROUNDS, vocab.BACKGROUNDS_ZH), (vocab.SIZES, vocab.SIZES_ZH),
                   (vocab.MOTIONS, vocab.MOTIONS_ZH), (vocab.CAMERAS, vocab.CAMERAS_ZH)]:
        assert len(en) == len(zh)


def test_every_scene_prompt_parses_back_in_both_languages():
    rng = np.random.default_rng(0)
    for i in range(600):
        scene = tw.sample_scene(rng, "heldout" if i % 3 == 0 else "train")
        for lang in ("en", "zh"):
            text = scene_prompt(scene, lang)
            p = parse_prompt(text)
            assert p.unknown == [], text
            for slot in vocab.SLOTS:
                want = None if (slot == "color" and scene.subject == vocab.PANDA) else getattr(scene, slot)
                assert getattr(p, slot) == want, (text, slot)


def test_complete_scene_keeps_given_slots_and_fills_the_rest():
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(200):
        s = tw.complete_scene(parse_prompt("a red box at night"), rng)
        assert (s.subject, s.color, s.background) == (1, 0, 2)
        seen.add((s.size, s.motion, s.camera))
    assert len(seen) > 50


# ---- splits ----------------------------------------------------------------------------------------
def test_heldout_rule_and_sampling():
    assert tw.is_heldout(5, 0, 7) == ((5 + 0 + 7) % 7 == 3)
    rng = np.random.default_rng(1)
    train = [tw.sample_scene(rng, "train") for _ in range(3000)]
    held = [tw.sample_scene(rng, "heldout") for _ in range(1000)]
    assert not any(tw.is_heldout(s.subject, s.color, s.background) for s in train)
    assert all(tw.is_heldout(s.subject, s.color, s.background) for s in held)
    assert len({(s.subject, s.color, s.background) for s in held}) > 0.9 * len(tw.HELDOUT_TRIPLES)
    assert len({(s.subject, s.color, s.background) for s in train}) > 300  # of 448 - 64 allowed


def test_scored_attributes():
    assert not tw.is_scored("color", tw.Scene(0, 4, 5, 1, 0, 0))       # white on snow
    assert not tw.is_scored("size", tw.Scene(0, 5, 2, 1, 0, 0))        # black at night: subject unseen
    assert tw.is_scored("background", tw.Scene(0, 5, 2, 1, 0, 0))
    assert not tw.is_scored("color", tw.Scene(vocab.PANDA, 0, 0, 1, 0, 0))  # always black and white
    assert tw.is_scored("size", tw.Scene(vocab.PANDA, 4, 5, 1, 0, 0))     # the panda's black shows on snow
    assert not tw.is_scored("subject", tw.Scene(1, 0, 0, 0, 0, 0))     # wide: too few pixels for shapes
    assert tw.is_scored("subject", tw.Scene(1, 0, 0, 1, 0, 0))


# ---- rendering ---------------------------------------------------------------------------------
def test_render_shape_dtype_and_determinism():
    scene = tw.Scene(4, 2, 3, 1, 2, 5)
    a = tw.render(scene, 7)
    assert a.shape == (16, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, tw.render(scene, 7))
    assert not np.array_equal(a, tw.render(scene, 8))
    assert tw.render(scene, 7, size=48, frames=5).shape == (5, 48, 48, 3)


@pytest.mark.parametrize("size", [16, 32, 64])
def test_background_mean_and_spread(size):
    # at 64 px only the moves that show the most world: tilts (the gradient) and zooming out
    cameras = range(len(vocab.CAMERAS)) if size < 64 else (0, 3, 4, 6)
    for b, rgb in enumerate(tw.BACKGROUND_RGB):
        for camera in cameras:
            frames = tw.empty_frames(b, camera, seed=b * 10 + camera, size=size).astype(float)
            dev = np.linalg.norm(frames - np.asarray(rgb), axis=-1)
            means = np.linalg.norm(frames.mean(axis=(1, 2)) - np.asarray(rgb), axis=-1)
            assert means.max() <= 20, (vocab.BACKGROUNDS[b], camera, means.max())
            assert dev.max() <= 50, (vocab.BACKGROUNDS[b], camera, dev.max())
            assert dev.std() > 3, "backgrounds carry a texture"


def test_render_empty_background_matches_clip_background():
    scene = tw.Scene(0, 0, 4, 0, 0, 1)
    mask = subject_mask(scene, 5, 32)
    assert 0 < mask[0].sum() < 0.1 * 32 * 32  # only the subject differs


@pytest.mark.parametrize("subject", range(8))
def test_subject_height_is_its_size_and_own_color_dominates(subject):
    size = 64
    for s in range(3):
        scene = tw.Scene(subject, 2, 7, s, 0, 0)  # green in a studio: every part visible
        mask = subject_mask(scene, 1, size, frames=1)[0]
        x0, x1, y0, y1 = box(mask)
        assert abs((y1 - y0) - tw.SIZE_FRACTION[s] * size) <= 1.5, (subject, s, y1 - y0)
        cy = (y0 + y1) / 2 / size
        assert abs(cy - 0.5) < 0.04 + 1 / size  # centred at its position (± the seed's jitter)
    # own color over most of the area (a large close-up, so anti-aliased edges do not count)
    scene = tw.Scene(subject, 2, 7, 2, 0, 0)
    mask = subject_mask(scene, 1, 128, frames=1)[0]
    pix = tw.render(scene, 1, size=128, frames=1)[0][mask].astype(int)
    if subject == vocab.PANDA:
        black = (np.abs(pix - tw.COLOR_RGB[5]).sum(-1) < 30).mean()
        white = (np.abs(pix - tw.COLOR_RGB[4]).sum(-1) < 30).mean()
        assert black > 0.2 and white > 0.4 and black + white > 0.75
    else:
        own = (np.abs(pix - tw.COLOR_RGB[2]).sum(-1) < 30).mean()
        assert own > 0.5, (subject, own)


def test_distinct_shapes():
    """Fill of the bounding box tells the basic shapes apart: disc, square, triangle, star."""
    fills = {}
    for subject in range(4):
        mask = subject_mask(tw.Scene(subject, 0, 7, 2, 0, 0), 0, 64)[0]
        x0, x1, y0, y1 = box(mask)
        fills[subject] = mask.sum() / ((x1 - x0) * (y1 - y0))
    assert abs(fills[0] - np.pi / 4) < 0.06 and fills[1] > 0.95
    assert abs(fills[2] - 0.5) < 0.06 and fills[3] < 0.45


def test_dark_parts():
    size = 64
    clip = tw.render(tw.Scene(4, 0, 0, 2, 0, 0), 0, size=size)[0].astype(int)  # red car in a blue sky
    mask = subject_mask(tw.Scene(4, 0, 0, 2, 0, 0), 0, size)[0]
    x0, x1, y0, y1 = box(mask)
    bottom = clip[y1 - 4:y1, x0:x1][mask[y1 - 4:y1, x0:x1]]
    assert (np.abs(bottom - tw.DARK_RGB).sum(-1) < 30).mean() > 0.5  # wheels
    lantern = tw.render(tw.Scene(7, 1, 0, 2, 0, 0), 0, size=size)[0].astype(int)
    mask = subject_mask(tw.Scene(7, 1, 0, 2, 0, 0), 0, size)[0]
    x0, x1, y0, y1 = box(mask)
    for row in (y0 + 1, y1 - 2):  # inside the anti-aliased edge
        px = lantern[row][mask[row]]
        assert (np.abs(px - tw.DARK_RGB).sum(-1) < 30).mean() > 0.5  # caps


@pytest.mark.parametrize("motion, dx, dy", [(1, -0.5, 0), (2, 0.5, 0), (3, 0, -0.5), (4, 0, 0.5), (0, 0, 0)])
def test_motion_paths(motion, dx, dy):
    size = 64
    mask = subject_mask(tw.Scene(0, 3, 6, 0, motion, 0), 2, size)
    c = centroids(mask, size)
    assert abs(c[-1, 0] - c[0, 0] - dx) < 0.03 and abs(c[-1, 1] - c[0, 1] - dy) < 0.03
    mid = c[len(c) // 2 - 1: len(c) // 2 + 1].mean(0)
    assert np.abs(mid - 0.5).max() < 0.04  # path centred on the frame
    steps = np.diff(c, axis=0)
    assert np.ptp(steps, axis=0).max() < 0.01  # constant speed


@pytest.mark.parametrize("size_class", [0, 1, 2])
def test_bouncing(size_class):
    size = 64
    mask = subject_mask(tw.Scene(0, 0, 0, size_class, 5, 0), 4, size)
    bottoms = np.array([box(m)[3] for m in mask]) / size
    tops = np.array([box(m)[2] for m in mask]) / size
    assert tops[0] < 0.12  # starts near the top
    assert bottoms.max() <= 0.9 + 1 / size  # never through the floor
    y = centroids(mask, size)[:, 1]
    impacts = [t for t in range(1, len(y) - 1) if y[t] >= y[t - 1] and y[t] > y[t + 1]]
    assert len(impacts) >= 1
    first = impacts[0]
    # frames before the lowest one are in free fall (the lowest may already be after the impact)
    assert np.all(np.diff(y[: first + 1]) > 0)
    assert np.ptp(np.diff(np.diff(y[:first]))) < 0.006  # constant acceleration: gravity
    # and that fall reaches the floor (bottom at 0.9) within a frame of the lowest frame
    fall_fit = np.polyfit(np.arange(first), bottoms[:first], 2)
    t_hit = max(np.roots(fall_fit - np.array([0, 0, 0.9])).real)
    assert first - 1 <= t_hit <= first + 1
    fall = y[first] - y[0]
    rebound = y[first] - y[first + 1:].min()
    assert 0.3 * fall < rebound < 0.8 * fall  # restitution 0.8 → rises 0.64 of the drop


@pytest.mark.parametrize("camera, dx, dy", [(1, 0.5, 0), (2, -0.5, 0), (3, 0, 0.5), (4, 0, -0.5)])
def test_pans_and_tilts_move_the_content_opposite(camera, dx, dy):
    size = 64
    mask = subject_mask(tw.Scene(1, 0, 5, 0, 0, camera), 3, size)   # a still subject
    c = centroids(mask, size)
    assert abs(c[-1, 0] - c[0, 0] - dx) < 0.03 and abs(c[-1, 1] - c[0, 1] - dy) < 0.03
    # the background moves with it: the textured frame shifts by the same amount
    empty = tw.empty_frames(5, camera, 3, size=size).astype(np.float32).mean(-1)
    k = 3
    sx, sy = best_shift(empty[0], empty[k], 10)
    assert abs(sx - dx * size * k / 15) <= 1 and abs(sy - dy * size * k / 15) <= 1


@pytest.mark.parametrize("camera, ratio", [(5, 1.6), (6, 1 / 1.6)])
def test_zooms_scale_about_the_centre(camera, ratio):
    size = 64
    mask = subject_mask(tw.Scene(1, 0, 4, 1, 0, camera), 0, size)
    heights = np.array([box(m)[3] - box(m)[2] for m in mask], float)
    assert abs(heights[-1] / heights[0] - ratio) < 0.12
    mid = heights[len(heights) // 2 - 1: len(heights) // 2 + 1].mean()
    assert abs(mid / size - 0.35) < 0.04  # the prompt's shot size holds at the middle of the zoom
    c = centroids(mask, size)
    assert np.abs(c - c[len(c) // 2]).max() < 0.06  # a centred subject stays centred


# ---- CLI -------------------------------------------------------------------------------------------
def test_cli_writes_npy_and_warns_about_unknown_words(tmp_path, capsys):
    out = tmp_path / "clip.npy"
    rc = cli.main(["--prompt", "wide shot of a fluffy red ball at night", "--seed", "3", "--size", "24",
                  "--frames", "6", "--out", str(out)])
    assert rc == 0
    clip = np.load(out)
    assert clip.shape == (6, 24, 24, 3) and clip.dtype == np.uint8
    err = capsys.readouterr().err
    assert "fluffy" in err and len(err.strip().splitlines()) == 1
    # the same seed makes the same clip, missing slots included
    out2 = tmp_path / "again.npy"
    cli.main(["--prompt", "wide shot of a fluffy red ball at night", "--seed", "3", "--size", "24",
             "--frames", "6", "--out", str(out2)])
    assert np.array_equal(np.load(out2), clip)


def test_cli_writes_mp4(tmp_path):
    out = tmp_path / "clip.mp4"
    assert cli.main(["--prompt", "a red ball bouncing", "--frames", "8", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000 and out.read_bytes()[4:8] == b"ftyp"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temp file left behind


@pytest.mark.parametrize("args", [["--out", "x.gif"], ["--size", "8", "--out", "x.npy"],
                                  ["--frames", "0", "--out", "x.npy"], ["--out", "missing/x.npy"]])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--prompt", "a ball", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("aspect,height,width", [("16:9", 144, 256), ("9:16", 128, 72), ("1:1", 144, 144),
                                                 ("9:16", 144, 81)])
def test_frames_of_every_aspect_show_the_same_world(aspect, height, width):
    """A wider (or narrower) frame shows more (or less) of the same world at the sides: its centre
    columns are the square frame's, at any camera move."""
    scene = tw.Scene(5, 2, 3, 2, 2, 5)  # a close-up sailboat moving right on the sea, camera zooms in
    square = tw.render(scene, 4, size=height, frames=4)
    clip = tw.render(scene, 4, size=height, frames=4, aspect=aspect)
    assert clip.shape == (4, height, width, 3)
    if (height - width) % 2:  # an odd width's pixels sit half a pixel off the square frame's
        return
    lo = abs(width - height) // 2
    if width >= height:
        assert np.abs(clip[:, :, lo:lo + height].astype(int) - square).max() <= 1
    else:
        assert np.abs(square[:, :, lo:lo + width].astype(int) - clip).max() <= 1


def test_renderer_cli_writes_any_aspect(tmp_path):
    out = tmp_path / "x.npy"
    assert cli.main(["--prompt", "wide shot of a panda", "--seed", "2", "--aspect", "16:9", "--height", "72",
                    "--out", str(out)]) == 0
    assert np.load(out).shape == (16, 72, 128, 3)
    with pytest.raises(SystemExit):
        cli.main(["--prompt", "x", "--aspect", "4:3", "--out", str(out)])
