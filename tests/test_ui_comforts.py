"""The editor's daily comforts (issue 17): what the inspector and the player say stays true."""

from __future__ import annotations


def test_a_generation_error_leaves_the_inspector_once_it_no_longer_holds(qtbot):
    from studio.project.document import ProjectDocument
    from studio.project.storyboard import load_storyboard
    from studio.ui.inspector import Inspector
    from tests.project_helpers import SAMPLE_JSON

    doc = ProjectDocument(load_storyboard(SAMPLE_JSON))
    ins = Inspector(doc)
    qtbot.addWidget(ins)
    sid = doc.shot_at(0).id
    doc.set_current_shot(sid)
    doc.mark_failed(sid, "worker died (exit code -9)")
    assert not ins.error.isHidden() and "worker died" in ins.error.text()
    doc.mark_queued([sid])  # generated again
    assert ins.error.isHidden()


def test_player_and_timeline_state_one_length(qtbot):
    import numpy as np

    from studio.media.timecode import format_seconds
    from studio.ui.frame_source import ArrayFrameSource
    from studio.ui.player import Player

    player = Player()
    qtbot.addWidget(player)
    player.set_source(ArrayFrameSource(np.zeros((180, 8, 8, 3), np.uint8), 24.0), "film")
    # a 7.5 s film at 24 fps is 180 frames: the timeline says 00:00:07:12, and so does the player
    assert player.duration_label.text() == "/ " + format_seconds(7.5, 24.0) == "/ 00:00:07:12"


def test_an_empty_player_states_no_length(qtbot):
    from studio.ui.player import Player

    player = Player()
    qtbot.addWidget(player)
    player.set_source(None, "")
    assert player.duration_label.text() == "/ 00:00:00:00"
