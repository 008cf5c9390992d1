"""Frame-rate conversion: flow interpolation (the default), blend and repeat (studio.media.motion)."""

import cv2
import numpy as np
import pytest

from studio.errors import StudioError
from studio.media import deliver
from studio.media.assembly import Segment, assemble
from studio.media.motion import MOTION_LABELS, MOTIONS, FlowInterpolator
from studio.media.presets import PRESETS, ExportSettings
from tests.media_testkit import make_project, solid, textured


def texture(h=72, w=128, seed=0) -> np.ndarray:
    """A smooth random colour texture (optical flow needs something to hold on to)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(30, 200, (h // 6, w // 6, 3)).astype(np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), (0, 0), 1.0)


def square_clip(n=4, step=6, h=64, w=96) -> np.ndarray:
    """A bright 12 px square moving `step` px right per frame over a still dim texture."""
    bg = (texture(h, w) // 3).astype(np.uint8)
    out = np.repeat(bg[None], n, 0)
    for i in range(n):
        out[i, 26:38, 10 + i * step : 22 + i * step] = 250
    return out


def pan_clip(n=8, step=4.5, h=72, w=128) -> np.ndarray:
    """A camera pan: a wide texture slid left by `step` px per frame."""
    wide = texture(h, w + int(n * step) + 8, seed=3)
    out = []
    for i in range(n):
        m = np.float32([[1, 0, -i * step], [0, 1, 0]])
        out.append(cv2.warpAffine(wide, m, (w, h), flags=cv2.INTER_CUBIC)[:, :w])
    return np.array(out)


def square_x(frame: np.ndarray) -> float:
    """Centre column of the bright square (brightness-weighted, so sub-pixel)."""
    lum = frame.astype(np.float64).mean(-1)
    weight = np.clip(lum - 120, 0, None)
    return float((weight.sum(0) * np.arange(frame.shape[1])).sum() / weight.sum())


def seg(frames, fps=8.0):
    return Segment(lambda: frames, fps, 0.0, len(frames) / fps)


def film(frames, fps_out=24, motion=None, fps_in=8.0):
    h, w = frames.shape[1:3]
    return list(assemble([seg(frames, fps_in)], fps_out, w, h, motion=motion))


def steps(frames) -> np.ndarray:
    """Global motion (px) between consecutive frames, by phase correlation (no optical flow)."""
    grey = [np.float64(cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY)) for f in frames]
    win = cv2.createHanningWindow(grey[0].shape[::-1], cv2.CV_64F)
    return np.array([np.hypot(*cv2.phaseCorrelate(a, b, win)[0]) for a, b in zip(grey, grey[1:], strict=False)])


# --- the interpolator -------------------------------------------------------------------------


def test_in_between_frames_land_where_the_motion_puts_them():
    clip = square_clip()
    fi = FlowInterpolator()
    x0 = square_x(clip[1])
    assert square_x(clip[2]) == pytest.approx(x0 + 6, abs=0.01)
    for t in (1 / 3, 0.5, 2 / 3):
        x = square_x(fi.frame(clip[1], clip[2], t, key=1))
        assert x == pytest.approx(x0 + 6 * t, abs=1.0)
    # the moved square stays whole (12×12 bright pixels); a blend keeps only the overlap bright
    flow = fi.frame(clip[1], clip[2], 1 / 3, key=1)
    ghost = cv2.addWeighted(clip[1], 2 / 3, clip[2], 1 / 3, 0)
    assert abs(int((flow.min(-1) > 200).sum()) - 144) <= 24
    assert (ghost.min(-1) > 200).sum() <= 80


def test_source_times_are_the_source_frames():
    clip = square_clip()
    fi = FlowInterpolator()
    a, b = clip[0], clip[1]
    assert fi.frame(a, b, 0.0) is a and fi.frame(a, b, 1.0) is b
    out = film(clip)  # 8 -> 24 fps at the native raster: every third frame is a source time
    for i in range(len(clip)):
        assert np.array_equal(out[3 * i], clip[i])


def test_film_places_the_square_every_third_of_a_step():
    clip = square_clip(n=4)
    out = film(clip)
    x0 = square_x(clip[0])
    for j in range(10):  # inside the clip: 3 source steps = 9 output steps
        assert square_x(out[j]) == pytest.approx(x0 + 2 * j, abs=1.0)


def test_flow_has_less_judder_than_repeat_on_a_pan():
    clip = pan_clip()
    inside = 3 * (len(clip) - 1) + 1  # up to the last source frame; after it the frame is held
    judder = {}
    for m in MOTIONS:
        s = steps(film(clip, motion=m)[:inside])
        judder[m] = s.std() / s.mean()
    truth = steps(pan_clip(n=inside, step=4.5 / 3))  # the same pan filmed at 24 fps
    floor = truth.std() / truth.mean()  # the yardstick's own noise (sub-pixel phase correlation)
    assert judder["repeat"] > 1.2  # 0, 0, X, 0, 0, X
    assert judder["blend"] > 1.0  # a dissolve stays put, then jumps
    assert judder["flow"] < floor + 0.05
    assert judder["flow"] < judder["repeat"] / 10
    assert steps(film(clip, motion="flow")[:inside]).mean() == pytest.approx(4.5 / 3, abs=0.15)


def test_deterministic():
    clip = pan_clip(n=4)
    a = film(clip, motion="flow")
    b = film(clip, motion="flow")
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    # flows cached or computed afresh, the picture is the same
    fi = FlowInterpolator()
    cached = [fi.frame(clip[1], clip[2], t, key=1) for t in (0.25, 0.5, 0.75)]
    fresh = [FlowInterpolator().frame(clip[1], clip[2], t) for t in (0.25, 0.5, 0.75)]
    assert all(np.array_equal(x, y) for x, y in zip(cached, fresh, strict=True))


def test_a_cut_inside_a_clip_falls_back_to_the_nearer_frame():
    a, b = texture(seed=1), texture(seed=2)[::-1].copy()  # unrelated pictures: no flow between them
    fi = FlowInterpolator()
    assert np.array_equal(fi.frame(a, b, 0.3), a)
    assert np.array_equal(fi.frame(a, b, 0.7), b)


def test_occlusions_beat_blend_and_repeat():
    # a dark bar moves 6 px right over a still texture: the strip it uncovers exists only in the
    # second frame, the strip it covers only in the first
    bg = texture(64, 96, seed=5)
    a, b = bg.copy(), bg.copy()
    a[:, 30:42], b[:, 36:48] = 10, 10
    mid = FlowInterpolator().frame(a, b, 1 / 3)
    truth = bg.copy()
    truth[:, 32:44] = 10
    err = np.abs(mid.astype(int) - truth).max(-1)
    assert np.median(err[:, 33:43]) < 10  # the bar itself, moved
    assert np.median(err[:, 30:32]) < 40 and np.median(err[:, 44:48]) < 40  # texture, not bar (~100 off)
    around = np.s_[:, 26:52]
    blend = np.abs(cv2.addWeighted(a, 2 / 3, b, 1 / 3, 0).astype(int) - truth).max(-1)
    repeat = np.abs(a.astype(int) - truth).max(-1)
    assert err[around].mean() < blend[around].mean() / 2
    assert err[around].mean() < repeat[around].mean() * 0.75


def test_still_frames_cost_no_flow_and_stay_put():
    still = solid((90, 120, 200), n=4, h=36, w=64)
    out = film(still)
    assert all(np.array_equal(f, still[0]) for f in out)


# --- choosing the method --------------------------------------------------------------------------


def test_default_is_flow_above_the_clip_rate_and_nothing_changes_at_it():
    clip = square_clip()
    default, flow, repeat = film(clip), film(clip, motion="flow"), film(clip, motion="repeat")
    assert all(np.array_equal(x, y) for x, y in zip(default, flow, strict=True))
    assert not np.array_equal(default[1], repeat[1])  # an in-between frame moved
    assert ExportSettings().motion == "flow"
    assert all(p.settings.motion == "flow" for p in PRESETS.values())
    # the film at the clip's own rate: its frames, untouched, whatever the method
    for m in MOTIONS:
        same = film(clip, fps_out=8, motion=m)
        assert len(same) == len(clip) and all(np.array_equal(f, c) for f, c in zip(same, clip, strict=True))


def test_blend_and_repeat_choices():
    clip = square_clip()
    blend = film(clip, motion="blend")
    assert np.array_equal(blend[1], cv2.addWeighted(clip[0], 2 / 3, clip[1], 1 / 3, 0))
    h, w = clip.shape[1:3]
    old = list(assemble([seg(clip)], 24, w, h, blend=True))  # the older flag still means blend
    assert all(np.array_equal(x, y) for x, y in zip(old, blend, strict=True))
    repeat = film(clip, motion="repeat")
    assert all(np.array_equal(repeat[j], clip[j // 3]) for j in range(9))


def test_unknown_motion_is_a_user_error():
    with pytest.raises(StudioError) as e:
        film(square_clip(), motion="warp")
    assert e.value.kind == "settings"


def test_old_settings_load():
    # settings saved before `motion` (sidecars, presets): the boolean maps onto the choice it made
    assert ExportSettings.model_validate({"blend_frames": True}).motion == "blend"
    assert ExportSettings.model_validate({"blend_frames": False}).motion == "repeat"
    old = {**ExportSettings().model_dump(mode="json"), "blend_frames": True}
    del old["motion"]
    assert ExportSettings.model_validate(old).motion == "blend"
    assert ExportSettings.model_validate({"blend_frames": True, "motion": "flow"}).motion == "flow"
    s = ExportSettings(motion="blend")
    assert s.blend_frames and not ExportSettings().blend_frames
    assert ExportSettings.model_validate_json(ExportSettings(motion="repeat").model_dump_json()).motion == "repeat"
    with pytest.raises(ValueError):
        ExportSettings(motion="warp")


def test_export_uses_the_settings_motion(tmp_path, monkeypatch):
    folder = tmp_path / "p.vstudio"
    proj = make_project(folder, [{"frames": textured(8)}])
    seen = []
    real = deliver.assemble

    def spy(*args, **kwargs):
        seen.append(kwargs.get("motion"))
        return real(*args, **kwargs)

    monkeypatch.setattr(deliver, "assemble", spy)
    for m in MOTIONS:
        s = ExportSettings(format="png", width=32, height=32, motion=m)
        deliver.export_project(proj, folder, tmp_path / f"out_{m}", s)
    assert seen == list(MOTIONS)


# --- the export dialog -----------------------------------------------------------------------------


def test_export_dialog_has_the_motion_combo(qtbot, tmp_path):
    from studio.ui.export_dialog import ExportDialog

    folder = tmp_path / "film.vstudio"
    dlg = ExportDialog(make_project(folder, [{"frames": textured(8)}]), folder)
    qtbot.addWidget(dlg)
    labels = [dlg.motion.itemText(i) for i in range(dlg.motion.count())]
    assert labels == [MOTION_LABELS[m] for m in MOTIONS]
    assert labels[0] == "Smooth (optical flow)" and "Repeat frames" in labels and "Blend" in labels
    assert dlg.motion.currentData() == "flow" and dlg.settings().motion == "flow"
    dlg.motion.setCurrentIndex(dlg.motion.findData("repeat"))
    assert dlg.settings().motion == "repeat"
    assert dlg.preset.currentData() == "custom"  # an edit leaves the preset
    dlg.preset.setCurrentIndex(dlg.preset.findData("landscape_1080p"))
    assert dlg.motion.currentData() == "flow"  # a preset brings its own choice back
