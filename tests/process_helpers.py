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


def signal_when(proc, ready, sig: int, what: str, timeout: float = 150.0, settle: float = 0.2) -> tuple[str, str]:
    """Wait until `ready()` holds (failing if the process ends first or it takes too long), give the
    process `settle` seconds more, send it `sig` and return its (stdout, stderr). The process is
    killed if it is still running afterwards."""
    import time

    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None:
                raise AssertionError(f"the process ended before {what}: {proc.communicate()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"never reached {what}")
            time.sleep(0.02)
        time.sleep(settle)
        proc.send_signal(sig)
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
