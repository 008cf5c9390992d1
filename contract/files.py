"""Atomic file writes, the one implementation both processes use (standard library only).

A file written here is either the old one or the whole new one, never half of one: the bytes go to
a hidden temporary name beside the target (same folder, so the same file system), are fsync'd, and
`os.replace` swaps the name in; the folder is fsync'd too so the rename survives a crash. On any
failure the temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename in `folder` durable. Not possible on every platform (Windows): best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def temp_name(path: str | os.PathLike) -> Path:
    """A hidden, unique name beside `path` that keeps its extension (writers that pick a format by
    extension, or add one when it is missing, such as numpy.save and OpenCV, see the real one)."""
    p = Path(path)
    return p.with_name(f".{p.stem}.{secrets.token_hex(4)}.partial{p.suffix}")


def _fsync_file(path: Path) -> None:
    # O_RDWR: Windows refuses to flush a read-only handle
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path to write the new file to, for writers that want a file name (numpy.save,
    safetensors, an encoder). When the block ends normally the file there is fsync'd and replaces
    `path`; when it raises, the temporary file is removed and `path` is untouched.

        with atomic_path(out) as tmp:
            np.save(tmp, frames)
    """
    target = Path(path)
    tmp = temp_name(target)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)


def atomic_write(path: str | os.PathLike, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write `data` (text is encoded with `encoding`) to `path` atomically; returns the path.
    The file gets the user's normal permissions (not mkstemp's owner-only ones)."""
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    target = Path(path)
    with atomic_path(target) as tmp, open(tmp, "xb") as f:
        f.write(payload)
    return target
