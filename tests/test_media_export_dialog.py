import json

import pytest

from studio.media.presets import PRESETS
from studio.media.probe import probe
from studio.ui.export_dialog import ExportDialog
from tests.media_testkit import make_project, solid, textured


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
