import json

import numpy as np
import pytest

from studio.media.presets import PRESETS
from studio.media.probe import decode, probe
from studio.project import preferences
from studio.project.schema import Shot
from studio.ui.export_dialog import ExportDialog
from tests.media_testkit import make_project, ramp, solid, textured


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    # the dialog remembers the last folder and name in the user's preferences: keep them in tmp_path
    monkeypatch.setenv(preferences.CONFIG_ENV, str(tmp_path / "config"))


@pytest.fixture
def dialog(qtbot, tmp_path):
    folder = tmp_path / "film.vstudio"
    proj = make_project(
        folder,
        [
            {"frames": textured(16)},
            {"frames": solid((200, 30, 30)), "transition": "crossfade", "transition_s": 0.5},
        ],
    )
    dlg = ExportDialog(proj, folder)
    qtbot.addWidget(dlg)
    return dlg


def small(dlg, fmt="h264"):
    dlg.format.setCurrentIndex(dlg.format.findData(fmt))
    dlg.width_box.setValue(64)
    dlg.height_box.setValue(36)
    dlg.fps.setValue(24)
    dlg.speed.setCurrentText("ultrafast")


def test_presets_fill_fields_and_edits_switch_to_custom(dialog):
    dialog.preset.setCurrentIndex(dialog.preset.findData("vertical_1080x1920"))
    assert (dialog.width_box.value(), dialog.height_box.value()) == (1080, 1920)
    assert dialog.settings() == PRESETS["vertical_1080x1920"].settings
    dialog.preset.setCurrentIndex(dialog.preset.findData("gif_preview"))
    assert not dialog.audio.isEnabled()  # GIF has no sound
    dialog.width_box.setValue(320)
    assert dialog.preset.currentData() == "custom"
    assert dialog.settings().format == "gif" and dialog.settings().width == 320
    assert "frames" in dialog.summary.text()


def test_export_runs_off_the_ui_thread(dialog, qtbot, tmp_path):
    small(dialog)
    dialog.output.setText(str(tmp_path / "out"))
    seen = []
    dialog.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dialog.exportFinished, timeout=30000) as blocker:
        dialog.start_export()
        assert dialog.is_running() and not dialog.export_button.isEnabled()
    film = blocker.args[0]
    assert film.endswith("out.mp4")
    info = probe(film)
    assert (info.width, info.height, info.frames) == (64, 36, 84)
    assert json.loads((tmp_path / "out.json").read_text())["film"]["frames"] == 84
    assert dialog.progress.value() == 100 and seen and not dialog.is_running()


def test_cancel(dialog, qtbot, tmp_path):
    small(dialog, "prores")
    dialog.width_box.setValue(640)
    dialog.height_box.setValue(360)
    dialog.output.setText(str(tmp_path / "cancelled"))
    with qtbot.waitSignal(dialog.exportFailed, timeout=30000) as blocker:
        dialog.start_export()
        dialog.cancel_export()
    assert "cancelled" in blocker.args[0]
    assert "cancelled" in dialog.error.text()
    assert not any(p.name.startswith("cancelled") or p.name.startswith(".") for p in tmp_path.iterdir())
    assert dialog.export_button.isEnabled()


def test_error_shows_one_line(dialog, qtbot, tmp_path):
    small(dialog)
    dialog.output.setText(str(tmp_path / "x"))
    dialog.audio.setText(str(tmp_path / "missing.wav"))
    with qtbot.waitSignal(dialog.exportFailed, timeout=30000) as blocker:
        dialog.start_export()
    assert "missing.wav" in blocker.args[0] and "\n" not in dialog.error.text()
    assert not (tmp_path / "x.mp4").exists()


def test_odd_size_is_explained(dialog):
    small(dialog)
    dialog.width_box.setValue(65)
    assert "even width" in dialog.error.text()


def test_timeline_interchange_button(dialog, tmp_path):
    out = dialog.export_timeline_to(tmp_path / "cut.edl")
    assert out is not None and out.read_text().startswith("TITLE:")


def test_sidecar_never_overwrites_a_json_of_the_users(dialog, qtbot, tmp_path):
    # `out.mp4`'s sidecar is `out.json`: here a storyboard, which the export must leave alone
    mine = tmp_path / "out.json"
    mine.write_text('{"shots": []}', encoding="utf-8")
    small(dialog)
    dialog.output.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(dialog.exportFailed, timeout=30000) as blocker:
        dialog.start_export()
    assert "out.json" in blocker.args[0] and "overwrite" in blocker.args[0]
    assert "\n" not in dialog.error.text()
    assert mine.read_text(encoding="utf-8") == '{"shots": []}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.vstudio", "out.json"]  # no film, no partial


# --- delivery that does what the editor asked -----------------------------------------------------


def ramp_dialog(qtbot, tmp_path, marks=None, **kw):
    """One 16-frame take at 8 fps whose frame i is grey i*10, exported at 8 fps with repeated frames:
    the film's frame i is the take's frame i, readable back from the file."""
    folder = tmp_path / "ramp.vstudio"
    proj = make_project(folder, [{"frames": ramp(16)}], fps=8.0, **kw)
    dlg = ExportDialog(proj, folder, marks=marks)
    qtbot.addWidget(dlg)
    dlg.preset.setCurrentIndex(dlg.preset.findData("project"))
    dlg.motion.setCurrentIndex(dlg.motion.findData("repeat"))
    dlg.speed.setCurrentText("ultrafast")
    dlg.crf.setValue(0)
    return dlg


def export(dlg, qtbot, path):
    dlg.output.setText(str(path))
    with qtbot.waitSignal(dlg.exportFinished, timeout=30000) as blocker:
        dlg.start_export()
    return blocker.args[0]


def test_range_export_writes_only_the_marked_frames(qtbot, tmp_path):
    # the film viewer marked frame 4 (in) to frame 9 (out, shown, so included) at 8 fps
    dlg = ramp_dialog(qtbot, tmp_path, marks=(4, 9, 8.0))
    assert dlg.range.isEnabled() and dlg.range.currentText() == "In–Out (00:00:00:04 – 00:00:01:01)"
    assert dlg.summary.text().startswith("in–out: 6 frames, 0.75 s")
    film = export(dlg, qtbot, tmp_path / "cut")
    assert probe(film).frames == 6
    greys = [int(np.median(f)) for f in decode(film)]
    assert greys == pytest.approx([40, 50, 60, 70, 80, 90], abs=3)
    # at another rate the same stretch of time: 0.5 s to 1.25 s at 16 fps is frames [8, 20)
    dlg.fps.setValue(16)
    assert dlg.span(dlg.settings()) == (8, 20)
    dlg.range.setCurrentIndex(dlg.range.findData("whole"))
    assert dlg.span(dlg.settings()) is None and dlg.summary.text().startswith("32 frames")


def test_without_both_marks_only_the_whole_film(qtbot, tmp_path):
    dlg = ramp_dialog(qtbot, tmp_path)
    assert not dlg.range.isEnabled() and dlg.range.currentData() == "whole"
    assert not dlg.range.model().item(1).isEnabled()
    assert probe(export(dlg, qtbot, tmp_path / "all")).frames == 16


def test_the_last_folder_and_name_are_remembered(qtbot, tmp_path):
    dlg = ramp_dialog(qtbot, tmp_path)
    assert dlg.output.text() == str(tmp_path / "Test film")  # first time: beside the project, its title
    (tmp_path / "deliveries").mkdir()
    export(dlg, qtbot, tmp_path / "deliveries" / "final cut")
    again = ramp_dialog(qtbot, tmp_path)  # a new dialog (the preferences read back from disk)
    assert again.output.text() == str(tmp_path / "deliveries" / "final cut")
    assert again.summary.text().endswith("→ final cut.mp4")
    # another project: the same folder, its own name (not a name that would overwrite the other film)
    other = tmp_path / "other.vstudio"
    dlg2 = ExportDialog(make_project(other, [{"frames": ramp(8)}]), other)
    qtbot.addWidget(dlg2)
    assert dlg2.output.text() == str(tmp_path / "deliveries" / "Test film")
    # the folder is gone: back beside the project, under the remembered name
    (tmp_path / "deliveries" / "final cut.mp4").unlink()
    (tmp_path / "deliveries" / "final cut.json").unlink()
    (tmp_path / "deliveries").rmdir()
    assert ramp_dialog(qtbot, tmp_path).output.text() == str(tmp_path / "final cut")


def test_summary_follows_the_name_format_and_range(qtbot, tmp_path):
    dlg = ramp_dialog(qtbot, tmp_path, marks=(0, 7, 8.0))
    dlg.output.setText(str(tmp_path / "first"))
    assert dlg.summary.text().endswith("→ first.mp4")
    dlg.output.setText(str(tmp_path / "second"))
    assert dlg.summary.text() == "in–out: 8 frames, 1.00 s at 64×36 → second.mp4"
    dlg.format.setCurrentIndex(dlg.format.findData("gif"))
    assert dlg.summary.text().endswith("→ second.gif")
    dlg.range.setCurrentIndex(dlg.range.findData("whole"))
    assert dlg.summary.text() == "16 frames, 2.00 s at 64×36 → second.gif"
    export(dlg, qtbot, tmp_path / "second")
    assert dlg.summary.text() == f"saved {tmp_path / 'second.gif'}"
    dlg.output.setText(str(tmp_path / "third"))  # after an export, the next name
    assert dlg.summary.text().endswith("→ third.gif")


def named_inputs(dlg):
    return {"preset": dlg.preset, "output": dlg.output, "output browse": dlg.output_browse, "audio": dlg.audio,
            "audio browse": dlg.audio_browse, "format": dlg.format, "width": dlg.width_box,
            "height": dlg.height_box, "fps": dlg.fps, "fit": dlg.fit, "scaler": dlg.scaler, "quality": dlg.crf,
            "speed": dlg.speed, "motion": dlg.motion, "range": dlg.range}


def enabled(dlg):
    return sorted(name for name, w in named_inputs(dlg).items() if w.isEnabled())


def test_inputs_are_locked_while_exporting(qtbot, tmp_path):
    dlg = ramp_dialog(qtbot, tmp_path, marks=(0, 7, 8.0))
    everything = sorted(named_inputs(dlg))
    assert enabled(dlg) == everything  # H.264 uses them all
    dlg.output.setText(str(tmp_path / "done"))
    with qtbot.waitSignal(dlg.exportFinished, timeout=30000):
        dlg.start_export()
        # the worker's result reaches the dialog only through this (UI) thread's event loop
        assert dlg.is_running() and enabled(dlg) == [] and not dlg.timeline_button.isEnabled()
        assert dlg.cancel_button.isEnabled() and not dlg.export_button.isEnabled()
    assert enabled(dlg) == everything and dlg.export_button.isEnabled()
    # a failed export unlocks too, and a format's own limits come back (GIF: no sound, no CRF, no speed)
    dlg.format.setCurrentIndex(dlg.format.findData("gif"))
    dlg.output.setText(str(tmp_path / "nowhere" / "film"))
    with qtbot.waitSignal(dlg.exportFailed, timeout=30000):
        dlg.start_export()
        assert enabled(dlg) == []
    no_sound = {"audio", "audio browse", "quality", "speed"}
    assert enabled(dlg) == sorted(set(everything) - no_sound)


def test_cancelled_export_unlocks_the_inputs(dialog, qtbot, tmp_path):
    small(dialog, "prores")
    dialog.width_box.setValue(640)
    dialog.height_box.setValue(360)
    dialog.output.setText(str(tmp_path / "cancelled"))
    before = enabled(dialog)
    with qtbot.waitSignal(dialog.exportFailed, timeout=30000):
        dialog.start_export()
        assert enabled(dialog) == []
        dialog.cancel_export()
    assert enabled(dialog) == before and "range" not in before  # no marks: the whole film only


def left_out_project(folder):
    """Shots 1 and 3 on the timeline; shot 2 has a take nobody chose, shot 4 none yet."""
    proj = make_project(folder, [{"frames": solid((200, 0, 0), n=8)}, {"frames": solid((0, 200, 0), n=8)},
                                 {"frames": solid((0, 0, 200), n=8)}])
    second = proj.shots[1]
    second.chosen_take = None
    proj.timeline.clips = [c for c in proj.timeline.clips if c.shot_id != second.id]
    proj.shots.append(Shot())
    return proj


def test_shots_without_a_take_are_asked_about(qtbot, tmp_path):
    folder = tmp_path / "gaps.vstudio"
    dlg = ExportDialog(left_out_project(folder), folder)
    qtbot.addWidget(dlg)
    small(dlg)
    dlg.output.setText(str(tmp_path / "gaps"))
    asked = []
    dlg.ask = lambda parent, title, text: asked.append(text) or False  # Go back
    dlg.start_export()
    assert asked == ["Shots 2, 4 have no chosen take and are not in the film."]
    assert not dlg.is_running() and dlg.export_button.isEnabled()
    assert [p.name for p in tmp_path.iterdir()] == ["gaps.vstudio"]  # nothing written, nothing remembered
    dlg.ask = lambda parent, title, text: asked.append(text) or True  # Export anyway
    with qtbot.waitSignal(dlg.exportFinished, timeout=30000) as blocker:
        dlg.start_export()
    assert len(asked) == 2 and probe(blocker.args[0]).frames == 48  # shots 1 and 3: 2 s at 24 fps


def test_one_left_out_shot_is_named_alone(qtbot, tmp_path):
    from studio.ui.export_worker import left_out_text

    assert left_out_text([3]) == "Shot 3 has no chosen take and is not in the film."


def test_the_project_preset_is_first_and_the_default(qtbot, tmp_path):
    folder = tmp_path / "odd.vstudio"
    dlg = ExportDialog(make_project(folder, [{"frames": textured(8)}], fps=12.5, width=101, height=57), folder)
    qtbot.addWidget(dlg)
    assert dlg.preset.currentIndex() == 0 and dlg.preset.currentData() == "project"
    assert dlg.preset.itemText(0) == "Project (100×56, 12.5 fps)"  # even sizes for H.264's 4:2:0
    s = dlg.settings()
    assert (s.format, s.width, s.height, s.fps) == ("h264", 100, 56, 12.5)
    assert (dlg.width_box.value(), dlg.height_box.value(), dlg.fps.value()) == (100, 56, 12.5)
    assert [dlg.preset.itemData(i) for i in range(1, dlg.preset.count() - 1)] == list(PRESETS)
    dlg.preset.setCurrentIndex(dlg.preset.findData("gif_preview"))
    dlg.preset.setCurrentIndex(0)  # back to the project's own
    assert dlg.settings() == s
