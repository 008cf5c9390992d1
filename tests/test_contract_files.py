"""contract.files: the one atomic writer both processes use."""

import os
import stat
import sys

import numpy as np
import pytest

from contract.files import atomic_path, atomic_write, temp_name


def test_atomic_write_bytes_and_text_replace_the_old_file(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    assert atomic_write(target, b"new bytes") == target
    assert target.read_bytes() == b"new bytes"
    atomic_write(target, "héllo")
    assert target.read_text(encoding="utf-8") == "héllo"
    assert os.listdir(tmp_path) == ["a.json"]  # no temporary file left beside it


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_written_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "clip.npy"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk gone")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["clip.npy"]


def test_atomic_path_keeps_the_extension_for_writers_that_need_it(tmp_path):
    target = tmp_path / "frames.npy"
    frames = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".npy"
        np.save(tmp, frames)  # numpy adds .npy to a name without it: the temp name must have it
    assert np.array_equal(np.load(target), frames)
    assert os.listdir(tmp_path) == ["frames.npy"]


def test_a_writer_that_writes_nothing_is_an_error_and_changes_nothing(tmp_path):
    target = tmp_path / "poster.png"
    with pytest.raises(FileNotFoundError), atomic_path(target):
        pass
    assert not target.exists() and os.listdir(tmp_path) == []


def test_temporary_names_are_hidden_and_unique(tmp_path):
    names = {temp_name(tmp_path / "x.mp4").name for _ in range(50)}
    assert len(names) == 50 and all(n.startswith(".x.") and n.endswith(".partial.mp4") for n in names)
