"""`main.py render` against hostile input and signals: one line and exit 2 before any work for odd
paths, SIGTERM handled like SIGINT at any moment (nothing left behind, no child left running), and a
film that was complete before a signal never reported as not written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_helpers import signal_when, working_on

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "lantern_festival.json"
TINY = {"width": 32, "depth": 2, "heads": 2, "text_width": 32, "text_layers": 1}


def render(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "render", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def one_line(r: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


@pytest.fixture
def tiny_config(tmp_path) -> Path:
    path = tmp_path.parent / f"{tmp_path.name}-tiny.json"
    path.write_text(json.dumps(TINY))
    return path


def board(folder: Path, **shot) -> Path:
    path = folder / "board.json"
    path.write_text(json.dumps({"title": "B", "fps": 24, "width": 1280, "height": 720,
                                "shots": [{"prompt": "a red ball at night", "duration": 1.5, **shot},
                                          {"prompt": "a blue box in the snow", "duration": 1.5}]}),
                    encoding="utf-8")
    return path


def test_a_film_name_too_long_for_the_file_system(tmp_path):
    r = render(SAMPLE, "-o", tmp_path / ("f" * 250 + ".mp4"), "--random-init")
    assert r.returncode == 2 and "too long" in one_line(r)
    assert list(tmp_path.iterdir()) == []


def test_control_characters_in_the_film_name(tmp_path):
    r = render(SAMPLE, "-o", tmp_path / "a\nb.mp4", "--random-init")
    assert r.returncode == 2 and "control characters" in one_line(r)
    assert list(tmp_path.iterdir()) == []


def test_a_fifo_as_the_storyboard_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "board.json"
    os.mkfifo(fifo)
    r = render(fifo, "-o", tmp_path / "film.mp4", "--random-init", timeout=60)
    assert r.returncode == 2 and "not a regular file" in one_line(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.json"]


def test_a_fifo_as_the_film_is_refused(tmp_path):
    fifo = tmp_path / "film.mp4"
    os.mkfifo(fifo)
    r = render(SAMPLE, "-o", fifo, "--random-init", timeout=60)
    assert r.returncode == 2 and "not a regular file" in one_line(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4"]


@pytest.mark.parametrize(("shot", "words"), [
    ({"mode": "i2v"}, "shot 1: image-to-video needs a reference image"),
    ({"mode": "v2v"}, "shot 1: video-to-video needs a source video"),
    ({"mode": "extend"}, "shot 1: extend needs a shot before it"),
])
def test_a_shot_without_its_reference_fails_before_the_model_loads(tmp_path, shot, words):
    # the checkpoint does not exist: had the model been loaded first, that would be the error
    r = render(board(tmp_path, **shot), "-o", tmp_path / "film.mp4", "--checkpoint", tmp_path / "none.safetensors")
    assert r.returncode == 2 and words in one_line(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.json"]


@pytest.mark.parametrize("phase", ["generate", "export"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_at_any_moment_leaves_nothing(tmp_path, tiny_config, phase, sig):
    path = board(tmp_path)
    film = tmp_path / "film.mp4"
    steps = "1000" if phase == "generate" else "1"  # long enough to be caught in that phase
    args = [sys.executable, "main.py", "render", str(path), "-o", str(film), "--random-init", "--threads", "1",
            "--model-config", str(tiny_config), "--steps", steps, "-q"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = (lambda: list(tmp_path.glob(".film.render-*/project.json"))) if phase == "generate" else \
        (lambda: list(tmp_path.glob(".film.partial-*")))
    out, err = signal_when(proc, started, sig, f"the {phase} phase")
    if film.exists():  # the export finished in the instant before the signal: it must say so
        assert "wrote" in out and "is complete and kept" in err, (out, err)
        return
    assert proc.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], err
    assert f"cancelled ({signal.Signals(sig).name}); no film was written" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.json"]  # no film, sidecar, project, partial
    time.sleep(0.5)
    assert working_on(tmp_path) == []


def test_an_interruption_after_the_film_is_written_reports_it_written(capsys, tmp_path):
    from studio.headless import _interrupted
    from studio.interrupts import Interrupted

    class Finished:
        film = (tmp_path / "film.mp4", 48, 2.0)
        folder, temporary, args = None, True, type("A", (), {"keep_project": False})()

        def summary(self, film, n, seconds):
            return f"wrote {film} ({seconds:.2f} s, {n} frames)"

    assert _interrupted(Interrupted(signal.SIGINT), Finished()) == 130
    out, err = capsys.readouterr()
    assert out.startswith("wrote ") and "is complete and kept" in err and "no film" not in err
    Finished.film = None
    assert _interrupted(Interrupted(signal.SIGTERM), Finished()) == 143
    assert "cancelled (SIGTERM); no film was written" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["missing", "not_a_model", "with_checkpoint"])
def test_a_bad_model_folder_is_one_line_before_any_work(tmp_path, case):
    folder = tmp_path / "model"
    extra = []
    if case == "not_a_model":
        folder.mkdir()
        (folder / "weights.safetensors").write_bytes(b"")
    if case == "with_checkpoint":
        folder.mkdir()
        (folder / "model_index.json").write_text("{}")
        extra = ["--checkpoint", str(tmp_path / "x.safetensors")]
    before = sorted(p.name for p in tmp_path.iterdir())
    r = render(SAMPLE, "-o", tmp_path / "film.mp4", "--model", folder, *extra)
    words = {"missing": "model folder not found", "not_a_model": "no model_index.json",
             "with_checkpoint": "use one of --checkpoint, --model"}[case]
    assert r.returncode == 2 and words in one_line(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
