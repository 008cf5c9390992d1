"""What processes are running (Linux /proc), for tests that check nothing outlives what they stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def processes() -> Iterator[tuple[int, list[str], str]]:
    """(pid, the stat fields after the command name, the command line) of every process readable now."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while we looked
        yield int(proc.name), fields, cmd


def children(pid: int) -> list[int]:
    return [p for p, fields, _cmd in processes() if int(fields[1]) == pid]


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent's wait() is not)."""
    return any(p == pid and fields[0] != "Z" for p, fields, _cmd in processes())


def working_on(folder: Path) -> list[str]:
    """Command lines (ffmpeg, a worker) that name this folder, other than pytest's own."""
    return [cmd[:120] for _p, fields, cmd in processes() if str(folder) in cmd and "pytest" not in cmd
            and fields[0] != "Z"]
