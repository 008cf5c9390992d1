"""The player: timecode, keys (Space, J/K/L, arrows, I/O), wall-clock playback, frame sources."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.media.timecode import format_seconds, format_timecode, parse_timecode
from studio.ui.frame_source import ArrayFrameSource, ConformedSource, SideBySideSource, StreamFrameSource
from studio.ui.playback_clock import PlaybackClock
from studio.ui.player import Player


def numbered(n: int, fps: float = 24.0, size: int = 8) -> ArrayFrameSource:
    """Frame i has red = i (so a shown frame says its index)."""
    frames = np.zeros((n, size, size, 3), np.uint8)
    frames[..., 0] = np.arange(n, dtype=np.uint8)[:, None, None]
    return ArrayFrameSource(frames, fps)


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def player(qtbot):
    p = Player()
    qtbot.addWidget(p)
    p.set_source(numbered(48), "test")
    p.clock_fn = FakeClock()
    p._clock_fn = p.clock_fn
    return p


def shown_index(p: Player) -> int:
    img = p.view.image()
    return img.pixelColor(0, 0).red()


# -- timecode --------------------------------------------------------------------------------------
def test_timecode_text():
    assert format_timecode(0, 24) == "00:00:00:00"
    assert format_timecode(23, 24) == "00:00:00:23"
    assert format_timecode(24, 24) == "00:00:01:00"
    assert format_timecode(((1 * 60 + 2) * 60 + 3) * 25 + 4, 25) == "01:02:03:04"
    assert format_timecode(48, 23.976) == "00:00:02:00"  # NDF counts 24 frames a second
    assert format_timecode(-5, 24) == "-00:00:00:05"
    assert format_seconds(1.5, 24) == "00:00:01:12"


def test_timecode_parse_round_trip():
    for frame in (0, 1, 23, 24, 1000, 86399):
        assert parse_timecode(format_timecode(frame, 30), 30) == frame
    assert parse_timecode("1:00", 24) == 24  # SS:FF
    with pytest.raises(ValueError):
        parse_timecode("ab:cd", 24)


# -- keys ---------------------------------------------------------------------------------------------
def test_arrow_keys_step_frames_and_timecode_follows(qtbot, player):
    qtbot.keyClick(player, Qt.Key.Key_Right)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    assert player.position == 2
    assert shown_index(player) == 2
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert player.position == 1
    qtbot.keyClick(player, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert player.position == 11
    assert player.timecode_text() == "00:00:00:11"
    qtbot.keyClick(player, Qt.Key.Key_End)
    assert player.position == 47
    assert player.timecode_text() == "00:00:01:23"
    qtbot.keyClick(player, Qt.Key.Key_Right)  # clamps at the last frame
    assert player.position == 47
    qtbot.keyClick(player, Qt.Key.Key_Home)
    assert player.position == 0
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert player.position == 0


def test_typing_a_timecode_goes_there(qtbot, player):
    player.timecode.setFocus()
    player.timecode.selectAll()
    qtbot.keyClicks(player.timecode, "1:12")
    qtbot.keyClick(player.timecode, Qt.Key.Key_Return)
    assert player.position == 36
    assert player.timecode_text() == "00:00:01:12"
    player.timecode.setFocus()
    player.timecode.selectAll()
    qtbot.keyClicks(player.timecode, "nonsense")
    qtbot.keyClick(player.timecode, Qt.Key.Key_Return)
    assert player.position == 36 and player.timecode_text() == "00:00:01:12"


def test_space_toggles_play_and_jkl_shuttle(qtbot, player):
    qtbot.keyClick(player, Qt.Key.Key_Space)
    assert player.playing and player.speed == 1.0
    qtbot.keyClick(player, Qt.Key.Key_Space)
    assert not player.playing
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.speed == 1.0
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.speed == 2.0
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.speed == 4.0
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert not player.playing
    player.seek(20)
    qtbot.keyClick(player, Qt.Key.Key_J)
    assert player.speed == -1.0
    qtbot.keyClick(player, Qt.Key.Key_J)
    assert player.speed == -2.0
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert not player.playing and player.position == 20


def test_shuttle_moves_the_frame_with_the_clock(qtbot, player):
    player.seek(10)
    qtbot.keyClick(player, Qt.Key.Key_L)
    player.clock_fn.t += 0.25  # 6 frames at 24 fps
    player._on_tick()
    assert player.position == 16
    qtbot.keyClick(player, Qt.Key.Key_L)  # 2x from here
    player.clock_fn.t += 0.25
    player._on_tick()
    assert player.position == 28
    qtbot.keyClick(player, Qt.Key.Key_J)  # reverse at 1x
    player.clock_fn.t += 0.5
    player._on_tick()
    assert player.position == 16
    assert shown_index(player) == 16


def test_marks_bound_playback_and_loop(qtbot, player):
    player.seek(5)
    qtbot.keyClick(player, Qt.Key.Key_I)
    player.seek(15)
    qtbot.keyClick(player, Qt.Key.Key_O)
    assert (player.mark_in, player.mark_out) == (5, 15)
    assert "IN 00:00:00:05" in player.marks_label.text()
    player.set_loop(True)
    player.play()  # at the out mark: starts again from the in mark
    assert player.position == 5
    player.clock_fn.t += 11 / 24  # past the out mark: wraps to the in mark
    player._on_tick()
    assert player.position == 5 and player.playing
    player.set_loop(False)
    player.clock_fn.t += 20 / 24
    player._on_tick()
    assert player.position == 15 and not player.playing  # stops on the out mark


def test_late_ticks_drop_frames_but_keep_time(qtbot, player):
    player.play()
    player.clock_fn.t += 1 / 24
    player._on_tick()
    assert player.dropped_frames == 0
    player.clock_fn.t += 4 / 24  # the UI stalled for 4 frame times
    player._on_tick()
    assert player.position == 5  # on time, not one frame behind
    assert player.dropped_frames == 3
    assert "dropped 3" in player.dropped_label.text()


def test_clock_schedules_by_wall_clock():
    c = PlaybackClock(fps=24)
    c.start(0, now=10.0)
    assert c.seconds_to_next(10.0) == pytest.approx(1 / 24)
    assert c.tick(10.0 + 1 / 24) == 1
    # the next tick is due at anchor + 2/24 whatever time it is now (no drift accumulates)
    assert c.seconds_to_next(10.0 + 1.5 / 24) == pytest.approx(0.5 / 24)
    assert c.tick(10.0 + 10 / 24) == 10 and c.dropped == 8
    assert c.tick(10.0 + 10.5 / 24) is None  # an early wake-up shows nothing and counts nothing
    assert (c.shown, c.dropped) == (2, 8)


# -- frame sources ---------------------------------------------------------------------------------
def test_conformed_source_holds_frames_to_keep_duration():
    src = numbered(16, fps=8.0)
    conf = ConformedSource(src, 24.0)
    assert len(conf) == 48
    assert [conf.frame(i)[0, 0, 0] for i in (0, 1, 2, 3, 47)] == [0, 0, 0, 1, 15]


def test_side_by_side_source_plays_two_takes_in_sync():
    a, b = numbered(10), numbered(20)
    sbs = SideBySideSource(a, b, gap=2)
    assert len(sbs) == 20
    f = sbs.frame(15)
    assert f.shape == (8, 18, 3)
    assert f[0, 0, 0] == 9 and f[0, 17, 0] == 15  # A holds its last frame, B goes on


def test_stream_source_reads_forward_once_and_reopens_on_seek():
    opened = []

    def open_stream(start):
        opened.append(start)
        return (np.full((4, 4, 3), i, np.uint8) for i in range(start, 100))

    s = StreamFrameSource(open_stream, 100, 24.0, cache_frames=16)
    assert [s.frame(i)[0, 0, 0] for i in range(10)] == list(range(10))
    assert opened == [0]
    assert s.frame(12)[0, 0, 0] == 12  # a small jump ahead (dropped frames) keeps the stream
    assert opened == [0]
    assert s.frame(5)[0, 0, 0] == 5  # cached: no reopen
    assert opened == [0]
    assert s.frame(80)[0, 0, 0] == 80
    assert opened == [0, 80]
    assert s.frame(500)[0, 0, 0] == 99  # clamped to the last frame
    # playing backwards from far away reads blocks, not one stream per frame
    opened.clear()
    assert [s.frame(i)[0, 0, 0] for i in range(60, 30, -1)] == list(range(60, 30, -1))
    assert opened[0] == 60 - 8 and len(opened) <= 5  # blocks of half the cache, not 30 opens
