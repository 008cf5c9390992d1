import weakref

import numpy as np
import pytest

from studio.errors import StudioError
from studio.media.assembly import Segment, assemble, assembled_duration, frame_count, layout
from studio.media.conform import conform, placement
from studio.media.resolve import resolve_timeline, segments_from_project
from tests.media_testkit import make_project, ramp, solid


def seg(frames, in_s=0.0, out_s=None, transition="cut", d=0.0, fps=8.0):
    out_s = len(frames) / fps if out_s is None else out_s
    return Segment(lambda f=frames: f, fps, in_s, out_s, transition, d)


def timed(in_s, out_s, transition="cut", d=0.0):
    return Segment(lambda: None, 8.0, in_s, out_s, transition, d)


# --- timing (pure) ---------------------------------------------------------------------------


def test_durations_hand_computed():
    cuts = [timed(0, 2), timed(0, 2), timed(0.5, 2)]
    assert assembled_duration(cuts) == pytest.approx(5.5)
    assert frame_count(cuts, 24) == 132
    # crossfade 0.5 into clip 2 shortens by 0.5; fade through black 1.0 into clip 3 does not
    mixed = [timed(0, 2), timed(0, 2, "crossfade", 0.5), timed(0, 2, "fade_black", 1.0)]
    assert assembled_duration(mixed) == pytest.approx(5.5)
    assert [s.start for s in layout(mixed)] == pytest.approx([0.0, 1.5, 3.5])
    assert frame_count(mixed, 24) == 132
    assert frame_count(mixed, 25) == 138  # 137.5 rounds half up
    assert frame_count(mixed, 30) == 165
    assert assembled_duration([]) == 0.0 and frame_count([], 24) == 0


def test_first_clip_transitions_keep_duration():
    assert assembled_duration([timed(0, 2, "crossfade", 1.0)]) == pytest.approx(2.0)
    assert assembled_duration([timed(0, 2, "fade_black", 1.0), timed(0, 1)]) == pytest.approx(3.0)


def test_transitions_are_shortened_to_fit():
    # one transition may use a whole 2 s clip
    assert assembled_duration([timed(0, 2), timed(0, 2, "crossfade", 5.0)]) == pytest.approx(2.0)
    # the middle clip has transitions at both ends: each gets at most half of it
    spans = layout([timed(0, 4), timed(0, 2, "crossfade", 3.0), timed(0, 4, "crossfade", 3.0)])
    assert [s.transition_s for s in spans] == pytest.approx([0.0, 1.0, 1.0])
    assert spans[-1].end == pytest.approx(8.0)
    spans = layout([timed(0, 4), timed(0, 2, "fade_black", 9.0)])
    assert spans[1].transition_s == pytest.approx(4.0)  # d/2 = 2 s of each side


def test_bad_trim_is_a_user_error():
    with pytest.raises(StudioError) as e:
        assembled_duration([timed(1.0, 1.0)])
    assert e.value.kind == "timeline"
    with pytest.raises(StudioError):
        assembled_duration([timed(0, 1, "wipe", 1.0)])


# --- frame-rate conversion -------------------------------------------------------------------


def _grey(frames):
    return [int(f[0, 0, 0]) for f in frames]


def test_nearest_frame_resampling_by_timestamps():
    src = ramp(16)
    out = list(assemble([seg(src)], 24, 32, 32, motion="repeat"))
    assert len(out) == 48
    assert _grey(out) == [10 * (j // 3) for j in range(48)]
    out25 = list(assemble([seg(src)], 25, 32, 32, motion="repeat"))
    assert len(out25) == 50
    assert _grey(out25) == [10 * min(15, (j * 8) // 25) for j in range(50)]


def test_trim_in_and_out():
    out = list(assemble([seg(ramp(16), in_s=0.5, out_s=1.25)], 8, 32, 32))
    assert _grey(out) == [40, 50, 60, 70, 80, 90]


def test_frame_blending_interpolates_neighbours():
    out = list(assemble([seg(ramp(16, step=30)[:8])], 24, 32, 32, blend=True))
    # frames at 0, 1/3, 2/3 of the way from source 0 (0) to source 1 (30)
    assert _grey(out[:4]) == [0, 10, 20, 30]
    assert _grey(out[-3:]) == [210, 210, 210]  # the last frame is held, nothing past it


def test_start_stop_match_full_stream():
    segs = [seg(ramp(16)), seg(solid((200, 0, 0)), transition="crossfade", d=1.0)]
    full = list(assemble(segs, 24, 48, 27))
    part = list(assemble(segs, 24, 48, 27, start=30, stop=50))
    assert len(part) == 20
    assert all(np.array_equal(a, b) for a, b in zip(full[30:50], part, strict=True))


# --- transitions -------------------------------------------------------------------------------


def test_crossfade_middle_frame_is_average():
    red, blue = solid((220, 20, 0), h=18), solid((0, 40, 200), h=18)  # 16:9, fills 64×36
    out = list(assemble([seg(red), seg(blue, transition="crossfade", d=1.0)], 24, 64, 36))
    assert len(out) == 72  # 2 + 2 - 1 s
    mid = out[36]  # crossfade runs over frames 24..47; weight 0.5 at t = 1.5 s
    expect = (red[0, 0, 0].astype(float) + blue[0, 0, 0]) / 2
    assert np.abs(mid.reshape(-1, 3).mean(0) - expect).max() <= 1.0
    neighbours = (out[35].astype(float) + out[37]) / 2
    assert np.abs(mid - neighbours).max() <= 1.0
    assert np.array_equal(out[23], np.broadcast_to(red[0, 0, 0], out[23].shape))
    assert np.array_equal(out[48], np.broadcast_to(blue[0, 0, 0], out[48].shape))


def test_fade_through_black_reaches_black():
    white = solid((255, 255, 255), h=18)
    out = list(assemble([seg(white), seg(white, transition="fade_black", d=1.0)], 24, 64, 36))
    assert len(out) == 96  # duration unchanged
    level = [float(f.mean()) for f in out]
    assert level[47] < 255 * 0.1  # the outgoing clip is nearly black on its last frame
    assert level[48] == 0.0  # black at the cut
    assert level[36] == pytest.approx(255, abs=1)  # fade-out starts 0.5 s before the cut
    assert level[42] == pytest.approx(127.5, abs=1.5)  # halfway down
    assert level[54] == pytest.approx(127.5, abs=1.5)  # halfway up
    assert level[60] == pytest.approx(255, abs=1)
    assert level[:36] == [255.0] * 36


def test_first_clip_fades_in():
    out = list(assemble([seg(solid((255, 255, 255)), transition="fade_black", d=1.0)], 24, 32, 32))
    assert out[0].max() == 0 and out[12].min() == 255


def test_crossfade_into_the_first_clip_is_a_cut():
    # nothing to cross from, as in an NLE: no dissolve from black, and it takes nothing from the
    # clip's budget for the transition at its other end
    spans = layout([timed(0, 2, "crossfade", 1.0), timed(0, 2, "crossfade", 3.0)])
    assert [(s.transition, s.transition_s) for s in spans] == [("cut", 0.0), ("crossfade", 2.0)]
    white = solid((255, 255, 255))
    out = list(assemble([seg(white, transition="crossfade", d=1.0)], 24, 32, 32))
    assert len(out) == 48 and all(f.min() == 255 for f in out)


# --- conform -------------------------------------------------------------------------------------


def test_vertical_into_landscape_letterboxes():
    tall = solid((255, 255, 255), n=2, h=64, w=36)  # 9:16
    out = list(assemble([seg(tall)], 8, 64, 36))[0]
    p = placement(36, 64, 64, 36)
    assert (p.sw, p.sh, p.x, p.y) == (20, 36, 22, 0)
    assert out[:, :22].max() == 0 and out[:, 42:].max() == 0  # black bars left and right
    assert out[:, 23:41].min() >= 250  # picture in the middle


def test_crop_fills_frame():
    tall = solid((255, 255, 255), n=2, h=64, w=36)
    out = list(assemble([seg(tall)], 8, 64, 36, fit="crop"))[0]
    assert out.shape == (36, 64, 3) and out.min() >= 250


@pytest.mark.parametrize("scaler", ["smooth", "sharp", "pixel"])
def test_conform_sizes(scaler):
    frame = ramp(1, 32, 32)[0]
    assert conform(frame, 1920, 1080, "letterbox", scaler).shape == (1080, 1920, 3)
    assert conform(frame, 1080, 1920, "crop", scaler).shape == (1920, 1080, 3)
    assert conform(frame, 16, 9, "letterbox", scaler).shape == (9, 16, 3)


# --- streaming -------------------------------------------------------------------------------------


def test_takes_load_lazily_and_are_dropped():
    alive: list[weakref.ref] = []
    loads = []

    def source(i):
        def load():
            loads.append(i)
            arr = solid((i * 20, 0, 0))
            alive.append(weakref.ref(arr))
            return arr

        return load

    segs = [Segment(source(i), 8.0, 0.0, 2.0, "crossfade" if i else "cut", 0.5) for i in range(8)]
    it = assemble(segs, 24, 40, 24)
    assert loads == []  # nothing read before the first frame is asked for
    peak = 0
    for _ in it:
        peak = max(peak, sum(r() is not None for r in alive))
    assert loads == list(range(8))  # each take read once, in order
    assert peak <= 2


# --- project adapter -------------------------------------------------------------------------------


def test_segments_from_project(tmp_path):
    proj = make_project(
        tmp_path,
        [
            {"frames": ramp(16)},
            {
                "frames": solid((9, 9, 9)),
                "in_s": 0.5,
                "out_s": 1.5,
                "transition": "crossfade",
                "transition_s": 0.5,
            },
        ],
    )
    segs = segments_from_project(proj, tmp_path)
    assert [(s.in_s, s.out_s, s.transition) for s in segs] == [(0.0, 2.0, "cut"), (0.5, 1.5, "crossfade")]
    assert assembled_duration(segs) == pytest.approx(2.5)
    assert np.array_equal(segs[0].frames(), ramp(16))
    (tmp_path / "media" / "shot2_take1.npy").unlink()
    with pytest.raises(StudioError) as e:
        resolve_timeline(proj, tmp_path)
    assert e.value.kind == "missing_media" and "shot 2" in str(e.value)
