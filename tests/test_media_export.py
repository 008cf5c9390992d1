import errno
import json
import math
import os
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import studio.media.export as export_mod
from studio.errors import StudioError
from studio.media.assembly import assemble, frame_count
from studio.media.deliver import export_project, plan
from studio.media.export import export
from studio.media.presets import PRESETS, ExportSettings, resolve_settings
from studio.media.probe import decode, probe
from studio.media.provenance import app_version
from studio.media.resolve import segments_from_project
from tests.media_testkit import make_project, solid, textured

W, H = 64, 36


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "film.vstudio"
    proj = make_project(
        folder,
        [
            {"frames": textured(16, seed=1), "prompt": "a red ball bouncing", "seed": 7},
            {"frames": textured(16, seed=2), "in_s": 0.25, "out_s": 1.75, "transition": "crossfade",
             "transition_s": 0.5, "negative_prompt": "blur"},
            {"frames": solid((30, 200, 60)), "transition": "fade_black", "transition_s": 1.0},
        ],
        width=W,
        height=H,
    )  # fmt: skip
    return proj, folder


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def sine_wav(path: Path, seconds=1.0, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    data = (0.3 * 32767 * np.sin(2 * math.pi * 440 * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return path


CASES = [
    ("h264", 24.0, ".mp4", "h264"),
    ("h265", 24.0, ".mp4", "hevc"),
    ("vp9", 25.0, ".webm", "vp9"),
    ("prores", 30.0, ".mov", "prores"),
    ("gif", 10.0, ".gif", "gif"),
]


@pytest.mark.parametrize(("fmt", "fps", "ext", "codec"), CASES)
def test_formats_read_back(project, tmp_path, fmt, fps, ext, codec):
    proj, folder = project
    s = ExportSettings(format=fmt, width=W, height=H, fps=fps, speed="veryfast")
    out = tmp_path / "out"
    out.mkdir()
    film = export_project(proj, folder, out / "film", s)
    assert film == out / f"film{ext}"
    # 2 + 1.5 + 2 s, less the 0.5 s crossfade
    expected = round(5.0 * fps)
    assert plan(proj, folder, s) == (expected, pytest.approx(5.0))
    info = probe(film)
    assert (info.frames, info.fps, info.width, info.height) == (expected, fps, W, H)
    assert info.duration == pytest.approx(5.0, abs=1.5 / fps)
    assert info.video_codec == codec and info.audio_codec is None
    if fmt == "h265":
        assert "hvc1" in info.tags  # plays in QuickTime / Apple devices
    assert sorted(p.name for p in out.iterdir()) == sorted([film.name, "film.json"])


def test_png_sequence_folder(project, tmp_path):
    proj, folder = project
    s = ExportSettings(format="png", width=W, height=H, fps=8.0)
    film = export_project(proj, folder, tmp_path / "frames", s)
    assert film.is_dir() and film.name == "frames"
    files = sorted(film.iterdir())
    assert len(files) == 40 and files[0].name == "frame_000001.png"
    ref = list(assemble(segments_from_project(proj, folder), 8.0, W, H))
    assert all(np.array_equal(a, b) for a, b in zip(ref, decode(film), strict=True))  # lossless
    # a second export replaces the folder whole
    (film / "stray.txt").write_text("x")
    export_project(proj, folder, tmp_path / "frames", s)
    assert len(list(film.iterdir())) == 40 and not leftovers(tmp_path)


def test_h264_pixels_match_source(project, tmp_path):
    proj, folder = project
    s = ExportSettings(width=W, height=H, fps=24.0)
    film = export_project(proj, folder, tmp_path / "q.mp4", s)
    ref = assemble(segments_from_project(proj, folder), 24.0, W, H)
    mse = np.mean([np.mean((a.astype(np.float64) - b) ** 2) for a, b in zip(ref, decode(film), strict=True)])
    assert 10 * np.log10(255**2 / mse) > 33  # a colour-matrix mismatch would land near 25 dB


@pytest.mark.parametrize(("fmt", "codec"), [("h264", "aac"), ("vp9", "opus"), ("prores", "aac")])
def test_audio_bed(project, tmp_path, fmt, codec):
    proj, folder = project
    wav = sine_wav(tmp_path / "bed.wav", seconds=9.0)  # longer than the film: trimmed to it
    s = ExportSettings(format=fmt, width=W, height=H, fps=24.0, speed="ultrafast")
    film = export_project(proj, folder, tmp_path / "with_sound", s, audio=wav)
    info = probe(film)
    assert info.audio_codec == codec
    assert info.frames == 120 and info.duration == pytest.approx(5.0, abs=0.1)
    side = json.loads((tmp_path / "with_sound.json").read_text())
    assert side["audio"]["file"] == str(wav)


def test_audio_refused_where_it_cannot_go(project, tmp_path):
    proj, folder = project
    wav = sine_wav(tmp_path / "bed.wav")
    with pytest.raises(StudioError) as e:
        export_project(
            proj, folder, tmp_path / "x", ExportSettings(format="gif", width=W, height=H), audio=wav
        )
    assert e.value.kind == "settings"
    with pytest.raises(StudioError) as e:
        export_project(
            proj, folder, tmp_path / "x", ExportSettings(width=W, height=H), audio=tmp_path / "no.wav"
        )
    assert e.value.kind == "audio"


def test_cancel_leaves_nothing(project, tmp_path):
    proj, folder = project
    stop = threading.Event()
    seen: list[str] = []

    def progress(done, total):
        # cancel only once ffmpeg has created its partial file, so removing it is what is tested
        deadline = time.monotonic() + 5
        while done >= 10 and not stop.is_set() and time.monotonic() < deadline:
            seen[:] = [p.name for p in tmp_path.glob(".c.partial-*")]
            if seen:
                stop.set()
            else:
                time.sleep(0.01)

    with pytest.raises(StudioError) as e:
        export_project(
            proj,
            folder,
            tmp_path / "c.mp4",
            ExportSettings(width=W, height=H),
            progress=progress,
            cancel=stop,
        )
    assert e.value.kind == "cancelled" and "\n" not in str(e.value)
    assert seen, "the export was cancelled before ffmpeg made its file: nothing to clean up was tested"
    assert list(tmp_path.iterdir()) == [folder]
    # a plain callable works as well
    with pytest.raises(StudioError):
        export_project(
            proj, folder, tmp_path / "c.mp4", ExportSettings(width=W, height=H), cancel=lambda: True
        )
    assert list(tmp_path.iterdir()) == [folder]


class _FullDiskPopen(subprocess.Popen):
    """ffmpeg whose stdin fails with ENOSPC after a few frames."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        real = self.stdin

        class Pipe:
            writes = 0

            def write(self, data):
                Pipe.writes += 1
                if Pipe.writes > 5:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return real.write(data)

            def __getattr__(self, name):
                return getattr(real, name)

        self.stdin = Pipe()


def test_disk_full_on_write(project, tmp_path, monkeypatch):
    proj, folder = project
    monkeypatch.setattr(export_mod.subprocess, "Popen", _FullDiskPopen)
    with pytest.raises(StudioError) as e:
        export_project(proj, folder, tmp_path / "d.mp4", ExportSettings(width=W, height=H))
    assert e.value.kind == "disk_full" and "disk full" in str(e.value)
    assert list(tmp_path.iterdir()) == [folder]


def test_disk_full_reported_by_ffmpeg(project, tmp_path, monkeypatch):
    proj, folder = project
    real = export_mod.ffmpeg_command

    def to_dev_full(s, target, audio, duration):  # ffmpeg itself gets ENOSPC from the kernel
        return [*real(s, target, audio, duration)[:-1], "/dev/full"]

    monkeypatch.setattr(export_mod, "ffmpeg_command", to_dev_full)
    with pytest.raises(StudioError) as e:
        export_project(proj, folder, tmp_path / "d.mp4", ExportSettings(width=W, height=H))
    assert e.value.kind == "disk_full"
    assert list(tmp_path.iterdir()) == [folder]


def test_disk_full_on_a_small_tmpfs(project, tmp_path):
    proj, folder = project
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:  # fmt: skip
        pytest.skip("cannot mount a tmpfs here")
    try:
        with pytest.raises(StudioError) as e:
            export_project(
                proj, folder, mnt / "big.mov", ExportSettings(format="prores", width=W * 4, height=H * 4)
            )
        assert e.value.kind == "disk_full"
        assert list(mnt.iterdir()) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_ffmpeg_failure_is_one_line(project, tmp_path, monkeypatch):
    proj, folder = project
    real = export_mod.video_args
    monkeypatch.setattr(
        export_mod, "video_args", lambda s: [*real(s)[:-2], "-no_such_option", "1", "-f", "mp4"]
    )
    with pytest.raises(StudioError) as e:
        export_project(proj, folder, tmp_path / "f.mp4", ExportSettings(width=W, height=H))
    assert e.value.kind == "encode" and "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == [folder]


def test_user_mistakes(project, tmp_path):
    proj, folder = project
    with pytest.raises(StudioError) as e:
        export_project(proj, folder, tmp_path / "nope" / "f.mp4", ExportSettings(width=W, height=H))
    assert e.value.kind == "path"
    with pytest.raises(StudioError) as e:
        export(iter([]), 0, tmp_path / "e.mp4", ExportSettings(width=W, height=H))
    assert e.value.kind == "empty"
    with pytest.raises(StudioError) as e:
        resolve_settings("4k imax")
    assert e.value.kind == "settings"
    with pytest.raises(ValidationError):
        ExportSettings(width=1081)
    with pytest.raises(StudioError) as e:  # a frame of the wrong size is caught, not sent to ffmpeg
        export(
            iter([np.zeros((10, 10, 3), np.uint8)]), 1, tmp_path / "w.mp4", ExportSettings(width=W, height=H)
        )
    assert e.value.kind == "encode" and not leftovers(tmp_path)


def test_presets():
    assert set(PRESETS) >= {
        "landscape_1080p",
        "vertical_1080x1920",
        "square_1080",
        "prores_master",
        "gif_preview",
    }
    v = resolve_settings("vertical_1080x1920")
    assert (v.width, v.height, v.format) == (1080, 1920, "h264")
    assert resolve_settings("gif_preview").fps <= 12 and resolve_settings("gif_preview").width <= 640
    assert resolve_settings(PRESETS["prores_master"].label).format == "prores"


def test_provenance_sidecar(project, tmp_path):
    proj, folder = project
    s = ExportSettings(width=W, height=H, fps=24.0)
    film = export_project(proj, folder, tmp_path / "cut.mp4", s)
    side = json.loads((tmp_path / "cut.json").read_text())
    assert side["app"] == {"name": "vstudio", "version": app_version()}
    assert side["film"] == {
        "file": film.name,
        "frames": 120,
        "fps": 24.0,
        "duration_s": 5.0,
        "width": W,
        "height": H,
    }
    assert ExportSettings(**side["export"]) == s
    assert [c["shot_id"] for c in side["clips"]] == [c.shot_id for c in proj.timeline.clips]
    first, second, third = side["clips"]
    shot1 = proj.shots[0]
    assert first["generation"]["prompt"] == "a red ball bouncing" and first["generation"]["seed"] == 7
    for key in ("negative_prompt", "sampler", "steps", "guidance"):
        assert first["generation"][key] == getattr(shot1.takes[0].params, key)
    assert first["generation"]["mode"] == "t2v"
    assert first["model_id"] == "uvit-toy" and first["checkpoint_hash"] == "abc123"
    assert first["take_id"] == shot1.takes[0].id and first["take_file"] == shot1.takes[0].clip
    assert second["generation"]["negative_prompt"] == "blur"
    assert (second["in_s"], second["out_s"], second["transition"]) == (
        0.25,
        1.75,
        {"kind": "crossfade", "duration": 0.5},
    )
    assert second["timeline_start_s"] == pytest.approx(1.5)
    assert third["out_s_is_take_end"] and third["out_s"] == 2.0
    assert third["transition"] == {"kind": "fade_black", "duration": 1.0}


def test_sidecar_replaces_only_an_earlier_sidecar(project, tmp_path):
    proj, folder = project
    s = ExportSettings(width=W, height=H, fps=24.0)
    export_project(proj, folder, tmp_path / "cut.mp4", s)
    first = json.loads((tmp_path / "cut.json").read_text())
    export_project(proj, folder, tmp_path / "cut.mp4", s)  # our own sidecar: replaced
    assert json.loads((tmp_path / "cut.json").read_text())["format"] == first["format"]
    board = tmp_path / "board.json"
    board.write_text('{"shots": []}')
    with pytest.raises(StudioError) as e:
        export_project(proj, folder, tmp_path / "board", s)  # -> board.mp4 + board.json
    assert e.value.kind == "path" and "board.json" in e.value.message and "\n" not in e.value.message
    assert board.read_text() == '{"shots": []}' and not (tmp_path / "board.mp4").exists()


def test_frame_count_matches_stream(project):
    proj, folder = project
    segs = segments_from_project(proj, folder)
    for fps in (8.0, 24.0, 25.0, 29.97):
        assert sum(1 for _ in assemble(segs, fps, 16, 16)) == frame_count(segs, fps)


def test_a_dot_in_the_name_is_not_an_extension():
    from studio.media.export import output_path

    mp4 = ExportSettings()
    assert output_path("/films/cut v1.2", mp4).name == "cut v1.2.mp4"
    assert output_path("/films/cut.mov", mp4).name == "cut.mp4"  # another video format's extension is replaced
    assert output_path("/films/cut.mp4", mp4).name == "cut.mp4"
