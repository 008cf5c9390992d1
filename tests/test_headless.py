"""`python main.py render ...` end to end, as a user runs it: a subprocess from the repo root, with a
tiny random-init model (2 sampler steps, one torch thread) so a whole render takes seconds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.media.probe import probe
from studio.project.store import open_project

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "lantern_festival.json"
TINY = {"width": 32, "depth": 3, "heads": 2, "text_width": 32, "text_layers": 1}  # 16 frames of 32 px at 8 fps
FAST = ["--random-init", "--threads", "1", "--steps", "2"]


def render(*args, timeout=200) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "render", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def three_shots(folder: Path) -> Path:
    """Three shots from the sample: a crossfade into a shot that continues the one before, then a
    fade through black into a shot long enough to need a chain of two model clips (20 > 16 frames)."""
    shots = json.loads(SAMPLE.read_text(encoding="utf-8"))["shots"]
    board = {"title": "Three", "fps": 24, "width": 1280, "height": 720, "shots": [
        {**shots[0], "duration": 1},
        {**shots[1], "duration": 1},  # continue_from_previous, crossfade 0.5
        {**shots[3], "duration": 2.5},  # fade_black 1.0
    ]}
    assert board["shots"][1]["continue_from_previous"] and board["shots"][1]["transition"] == "crossfade"
    path = folder / "three.json"
    path.write_text(json.dumps(board), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, tiny_config):
    folder = tmp_path_factory.mktemp("render")
    board = three_shots(folder)
    film = folder / "film.mp4"
    r = render(board, "-o", film, *FAST, "--model-config", tiny_config, "--seed", "100", "--keep-project")
    assert r.returncode == 0, r.stderr
    return folder, board, film, r


def one_line_error(r: subprocess.CompletedProcess) -> str:
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_three_shot_film_and_sidecar(rendered):
    folder, board, film, r = rendered
    info = probe(film)
    # 1 s + 1 s + 2.5 s, the crossfade overlaps 0.5 s (a fade through black does not): 4 s at 24 fps
    assert (info.width, info.height, info.fps) == (1280, 720, 24.0)  # the default: the storyboard's own raster
    assert info.video_codec == "h264"
    assert abs(info.frames - 96) <= 1
    side = json.loads(film.with_suffix(".json").read_text(encoding="utf-8"))
    assert side["film"]["frames"] == info.frames
    shots = json.loads(board.read_text(encoding="utf-8"))["shots"]
    assert [c["generation"]["prompt"] for c in side["clips"]] == [s["prompt"] for s in shots]
    assert [c["generation"]["seed"] for c in side["clips"]] == [100, 101, 102]  # --seed S: shot i gets S + i
    assert [c["generation"]["steps"] for c in side["clips"]] == [2, 2, 2]
    assert [c["transition"]["kind"] for c in side["clips"]] == ["cut", "crossfade", "fade_black"]
    assert [c["take_frames"] for c in side["clips"]] == [8, 8, 20]  # durations at the model's 8 fps
    # the final line says what was written
    assert str(film) in r.stdout and "96 frames" in r.stdout
    # nothing temporary left beside the film
    assert sorted(p.name for p in folder.iterdir()) == ["film.json", "film.mp4", "film.vstudio", "three.json"]


def test_kept_project_has_the_takes_and_continuity(rendered):
    folder, _board, _film, _r = rendered
    project_dir = folder / "film.vstudio"
    project = open_project(project_dir)
    takes = [next(t for t in s.takes if t.id == s.chosen_take) for s in project.shots]
    assert [c.take_id for c in project.timeline.clips] == [t.id for t in takes]
    assert all(s.status.value == "ready" for s in project.shots)
    first, second = (np.load(project_dir / t.frames_file) for t in takes[:2])
    # continue_from_previous: the second shot starts on the first shot's last frame (image-to-video)
    assert np.abs(second[0].astype(int) - first[-1]).max() <= 1
    assert np.abs(second[1].astype(int) - first[-1]).max() > 1  # ... and then it is generated


def test_rerender_project_reuses_its_takes(rendered, tiny_config):
    folder, _board, film, _r = rendered
    gif = folder / "again.gif"
    # No model flags at all: nothing needs generating, so no model (not even the bundled one) is loaded.
    r = render(folder / "film.vstudio", "-o", gif)
    assert r.returncode == 0, r.stderr
    before = json.loads(film.with_suffix(".json").read_text(encoding="utf-8"))
    after = json.loads(gif.with_suffix(".json").read_text(encoding="utf-8"))
    assert [c["take_id"] for c in after["clips"]] == [c["take_id"] for c in before["clips"]]
    info = probe(gif)
    assert (info.width, info.height) == (480, 270)  # .gif -> the gif_preview preset


@pytest.mark.parametrize("case", ["missing_file", "unknown_column", "zero_duration", "unknown_preset",
                                  "missing_folder", "format_mismatch", "sidecar_over_storyboard",
                                  "sidecar_over_other_json"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, case):
    board, out, extra = SAMPLE, tmp_path / "film.mp4", []
    if case == "missing_file":
        board = tmp_path / "nope.json"
    elif case == "unknown_column":
        board = tmp_path / "board.csv"
        board.write_text("prompt,duration,colour\nred ball at night,2,red\n", encoding="utf-8")
    elif case == "zero_duration":
        board = tmp_path / "board.json"
        board.write_text(json.dumps({"shots": [{"prompt": "red ball at night", "duration": 0}]}), encoding="utf-8")
    elif case == "unknown_preset":
        extra = ["--preset", "cinema_8k"]
    elif case == "missing_folder":
        out = tmp_path / "no" / "such" / "film.mp4"
    elif case == "format_mismatch":
        extra = ["--preset", "gif_preview"]
    elif case == "sidecar_over_storyboard":  # film.mp4's sidecar is film.json: the storyboard itself
        board = tmp_path / "film.json"
        board.write_bytes(SAMPLE.read_bytes())
    elif case == "sidecar_over_other_json":  # a film.json that is not an earlier export's sidecar
        (tmp_path / "film.json").write_text('{"notes": "mine"}', encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    r = render(board, "-o", out, "--random-init", *extra, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stderr)
    line = one_line_error(r)
    expect = {"missing_file": "not found", "unknown_column": "colour", "zero_duration": "duration",
              "unknown_preset": "cinema_8k", "missing_folder": "does not exist", "format_mismatch": ".gif",
              "sidecar_over_storyboard": "overwrite", "sidecar_over_other_json": "not a film's provenance"}[case]
    assert expect in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no film, no sidecar, no project
    if case == "sidecar_over_storyboard":
        assert board.read_bytes() == SAMPLE.read_bytes()
    if case == "sidecar_over_other_json":
        assert (tmp_path / "film.json").read_text(encoding="utf-8") == '{"notes": "mine"}'


def test_missing_checkpoint_is_one_line_and_leaves_nothing(tmp_path):
    r = render(SAMPLE, "-o", tmp_path / "film.mp4", "--checkpoint", tmp_path / "none.safetensors", timeout=120)
    assert r.returncode == 2, r.stderr
    assert "not found" in one_line_error(r)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_cancels_cleanly(tmp_path, tiny_config):
    board = three_shots(tmp_path)
    film = tmp_path / "film.mp4"
    # Many steps, so the first shot is still generating when the signal comes.
    args = [sys.executable, "main.py", "render", str(board), "-o", str(film), "--random-init", "--threads", "1",
            "--model-config", str(tiny_config), "--steps", "1000", "-q"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".film.render-*/project.json")):  # the model is loaded, work has begun
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the render never started"
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["three.json"]  # no film, sidecar, project or partial


@pytest.mark.parametrize("name,preset,fmt,size,final", [
    ("film.mp4", None, "h264", (1280, 720), "film.mp4"),  # the storyboard's own size by default
    ("film", None, "h264", (1280, 720), "film.mp4"),  # no suffix: the format's own is added
    ("film.webm", None, "vp9", (1280, 720), "film.webm"),
    ("film.mov", None, "prores", (1280, 720), "film.mov"),
    ("film.mp4", "landscape_1080p", "h264", (1920, 1080), "film.mp4"),
    ("film.gif", None, "gif", (480, 270), "film.gif"),
    ("film.mp4", "square_1080", "h264", (1080, 1080), "film.mp4"),
    ("film.mp4", "project", "h264", (1280, 720), "film.mp4"),  # the storyboard's own size
])
def test_format_from_suffix_and_preset(tmp_path, name, preset, fmt, size, final):
    from studio.headless import export_settings
    from studio.project.storyboard import load_storyboard

    project = load_storyboard(SAMPLE)  # 1280×720 at 24 fps
    settings, path = export_settings(tmp_path / name, preset, project)
    assert (settings.format, (settings.width, settings.height), path.name) == (fmt, size, final)
    assert settings.fps == (10.0 if fmt == "gif" else 24.0)


def test_render_path_imports_neither_torch_nor_qt(tmp_path):
    code = (
        "import sys\n"
        "from studio import headless\n"
        f"rc = headless.main([{str(SAMPLE)!r}, '-o', {str(tmp_path / 'f.mp4')!r}, '--checkpoint', 'none'])\n"
        "import studio.engine.queue, studio.engine.takes, studio.media.deliver, studio.project.store\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'model_runtime'))\n"
        "assert rc == 2 and not bad, (rc, bad)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_takes_makes_several_takes_and_chooses_the_first(tmp_path, tiny_config):
    board = tmp_path / "two.json"
    board.write_text(json.dumps({"title": "Two", "shots": [{"prompt": "a red ball at night", "duration": 1, "seed": 40},
                                                           {"prompt": "a blue box", "duration": 1}]}), encoding="utf-8")
    r = render(board, "-o", tmp_path / "film.mp4", *FAST, "--model-config", tiny_config, "--takes", "2",
               "--project-dir", tmp_path / "kept")
    assert r.returncode == 0, r.stderr
    project = open_project(tmp_path / "kept.vstudio")
    first, second = project.shots
    assert [t.params.seed for t in first.takes] == [40, 41]  # the storyboard's seed, then the next
    assert first.chosen_take == first.takes[0].id and second.chosen_take == second.takes[0].id
    assert len({t.params.seed for t in second.takes}) == 2


def test_range_exports_the_editors_in_out_part(rendered, tmp_path):
    folder, _board, _film, _r = rendered
    part = tmp_path / "part.mp4"
    r = render(folder / "film.vstudio", "-o", part, *FAST, "--range", "1-00:00:02:12")  # 1 s to 2.5 s
    assert r.returncode == 0, r.stderr
    assert abs(probe(part).frames - 36) <= 1  # 1.5 s at 24 fps
    side = json.loads(part.with_suffix(".json").read_text(encoding="utf-8"))
    assert side["film"]["frames"] == probe(part).frames
    for bad, words in (("3-1", "OUT must come after IN"), ("a-b", "give IN-OUT"), ("50-60", "holds no frame")):
        r = render(folder / "film.vstudio", "-o", tmp_path / "x.mp4", *FAST, "--range", bad)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1 and words in lines[0], r.stderr


def test_motion_picks_the_frame_rate_conversion(rendered, tmp_path):
    folder, _board, _film, _r = rendered
    out = tmp_path / "rep.mp4"
    r = render(folder / "film.vstudio", "-o", out, *FAST, "--range", "0-1", "--motion", "repeat")
    assert r.returncode == 0, r.stderr
    assert json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["export"]["motion"] == "repeat"
    default = tmp_path / "flow.mp4"
    assert render(folder / "film.vstudio", "-o", default, *FAST, "--range", "0-1").returncode == 0
    assert json.loads(default.with_suffix(".json").read_text(encoding="utf-8"))["export"]["motion"] == "flow"
