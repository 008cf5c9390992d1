"""The edit journal (no Qt): `NAME.vstudio/autosave/journal.jsonl`, so a crash loses at most a moment.

The 60-s autosave alone loses up to a minute of edits when the studio is killed. The journal is an
append-only file the document writes within `keeper.FLUSH_MS` of every change (keeper.py batches
the changes; each batch is one line, written with one `os.write` and fsync'd):

    <crc32 of the JSON, 8 hex digits> <JSON object>\n

The JSON object: `seq` (line number, rising), `t` (wall clock, ns), `base` (the seq of the snapshot
this line completes), and parts of the project: `rest` (every ProjectData field but `shots` and
`schema_version`), `order` (shot ids in row order) and `shots` ({id: shot}). A *snapshot* line
(`base == seq`) holds all three; it is always the file's first line. Every later line is a
*patch*: what differs from that snapshot (not from the previous line), so each good line alone
rebuilds the latest state, and a bad line in the middle (a full disk) costs nothing later.

Reading takes the snapshot plus the last patch that is whole: a line without its newline (kill -9
in the middle of a write), a checksum or JSON that does not match, or a seq that does not rise
is ignored. When patches would outgrow half the snapshot, or the file twice the snapshot (+1 MiB),
the next write replaces the file atomically with a fresh snapshot (compaction: no edit is lost in
between, the old file stays whole until the new one is in place).

Cost: only shots the document says changed (shotChanged / takesChanged, new ids) are serialised
again; a full pass runs on every snapshot and at least every `FULL_PASS_S` as a safety net. The
journal never writes anything but its own file in `autosave/` (resolved inside the project folder,
opened with O_NOFOLLOW), and reading it never raises: the recovery path (store.recover) validates
what it rebuilds like any project file and falls back to the autosave.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.files import atomic_write
from studio.errors import StudioError
from studio.project.containment import inside
from studio.project.schema import SCHEMA_VERSION, ProjectData

AUTOSAVE_DIR = "autosave"
JOURNAL_FILE = "journal.jsonl"
PREVIOUS_FILE = "journal.prev.jsonl"  # a journal a new session replaced (recovery declined)
JOURNAL_NAME = f"{AUTOSAVE_DIR}/{JOURNAL_FILE}"
FULL_PASS_S = 30.0
COMPACT_SLACK = 1 << 20
MIN_PATCH_LIMIT = 64 << 10
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_os_write = os.write  # (tests fill the disk here)


def journal_path(folder: str | Path) -> Path:
    """The journal of a project folder; StudioError("project_link") when it would lead outside."""
    return inside(folder, JOURNAL_NAME)


def encode_line(obj_json: str) -> bytes:
    payload = obj_json.encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def _ids(order: list[str]) -> str:
    return json.dumps(order, ensure_ascii=False)


class Journal:
    """Appends the states of one document to one project's journal. `write` raises StudioError
    (kinds `journal`, `project_link`) and then leaves the file as good as it was; the next write
    starts a fresh snapshot, so a torn tail never sits under newer lines."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._fd: int | None = None
        self._seq = 0
        self._base = 0
        self._shots: dict[str, str] = {}  # id -> the shot's JSON now (updated for changed shots)
        self._snap_shots: dict[str, str] = {}  # ... at the snapshot
        self._snap_rest = ""
        self._snap_order: list[str] = []
        self._snap_len = 0
        self._size = 0  # bytes in the file that are ours and whole
        self._torn = False  # a failed append may have left part of a line: snapshot next
        self._rotated = False
        self._last_full = 0.0

    # --- writing ---------------------------------------------------------------------------------------
    def write(self, data: ProjectData, changed: set[str] | None = None) -> int:
        """Journal `data`. `changed`: ids of the shots that may differ since the last write (None:
        any). Returns the bytes written."""
        path = journal_path(self.folder)  # first: a link refuses before any work
        now = time.monotonic()
        full = changed is None or self._fd is None or self._torn or now - self._last_full > FULL_PASS_S
        if full:
            self._shots = {s.id: s.model_dump_json() for s in data.shots}
            self._last_full = now
        else:
            shots = self._shots
            for s in data.shots:
                if s.id in changed or s.id not in shots:
                    shots[s.id] = s.model_dump_json()
            if len(shots) != len(data.shots):
                present = {s.id for s in data.shots}
                self._shots = {i: j for i, j in shots.items() if i in present}
        rest = data.model_dump_json(exclude={"shots", "schema_version"})
        order = [s.id for s in data.shots]
        if self._fd is None or self._torn:
            return self._snapshot(path, rest, order)
        line = self._patch_line(rest, order)
        if (len(line) > max(MIN_PATCH_LIMIT, self._snap_len // 2)
                or self._size + len(line) > 2 * self._snap_len + COMPACT_SLACK):
            return self._snapshot(path, rest, order)
        self._append(line)
        return len(line)

    def _head(self, base: int) -> str:
        self._seq += 1
        return f'{{"seq":{self._seq},"t":{time.time_ns()},"base":{base},"v":{SCHEMA_VERSION}'

    def _patch_line(self, rest: str, order: list[str]) -> bytes:
        parts = [self._head(self._base)]
        if rest != self._snap_rest:
            parts.append(f'"rest":{rest}')
        if order != self._snap_order:
            parts.append(f'"order":{_ids(order)}')
        snap, now = self._snap_shots, self._shots
        diff = ",".join(f"{json.dumps(i)}:{now[i]}" for i in order if snap.get(i) != now[i])
        parts.append(f'"shots":{{{diff}}}')
        return encode_line(",".join(parts) + "}")

    def _snapshot(self, path: Path, rest: str, order: list[str]) -> int:
        seq_before = self._seq
        head = self._head(self._seq + 1)
        shots = ",".join(f"{json.dumps(i)}:{self._shots[i]}" for i in order)
        line = encode_line(f'{head},"rest":{rest},"order":{_ids(order)},"shots":{{{shots}}}}}')
        try:
            inside(self.folder, AUTOSAVE_DIR).mkdir(exist_ok=True)
            if not self._rotated:
                self._keep_aside(path)
            atomic_write(path, line)  # the old file stays whole (and readable) until this replaces it
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | _O_NOFOLLOW | _O_CLOEXEC)
        except OSError as e:
            self._seq = seq_before
            raise _write_error(e) from None
        self._close_fd()
        self._fd, self._base, self._size, self._torn = fd, self._seq, len(line), False
        self._snap_shots = {i: self._shots[i] for i in order}
        self._snap_rest, self._snap_order, self._snap_len = rest, order, len(line)
        return len(line)

    def _keep_aside(self, path: Path) -> None:
        """A journal this session did not write (a recovery declined, or one just recovered from) is
        linked aside as journal.prev.jsonl before the first snapshot replaces it: by hand, it can
        still be read. A link, not a rename, so the journal path is never empty in between."""
        prev = inside(self.folder, f"{AUTOSAVE_DIR}/{PREVIOUS_FILE}")
        with contextlib.suppress(OSError):
            prev.unlink()
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                os.link(path, prev)
        self._rotated = True

    def _append(self, line: bytes) -> None:
        try:
            view = memoryview(line)
            while view:  # os.write may write less than asked (a nearly full disk)
                n = _os_write(self._fd, view)
                view = view[n:]
            os.fsync(self._fd)
        except OSError as e:
            self._torn = True
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)  # drop the partial line where possible
            raise _write_error(e) from None
        self._size += len(line)

    # --- ending ------------------------------------------------------------------------------------------
    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def close(self, remove: bool = False) -> None:
        """Stop journaling; `remove`: the edits are safe elsewhere (saved), drop the file too."""
        self._close_fd()
        if remove:
            discard(self.folder)


def _write_error(e: OSError) -> StudioError:
    return StudioError("journal", f"unsaved edits are not being journaled ({JOURNAL_NAME}: "
                                  f"{e.strerror or e}); save to keep them")


def discard(folder: str | Path) -> None:
    """Remove the journal (after a save): the file, or a link in its place (not what it points to);
    nothing when autosave/ itself leads out of the folder."""
    with contextlib.suppress(OSError, StudioError):
        (inside(folder, AUTOSAVE_DIR) / JOURNAL_FILE).unlink()


# --- reading ----------------------------------------------------------------------------------------------
@dataclass
class Recovered:
    t_ns: int  # the file's mtime (the clock project.json's mtime is on: store compares the two)
    project: dict[str, Any]  # project.json's dict (not validated: store.load_project_dict does that)
    lines: int  # good lines read


def _decode(raw: bytes) -> dict | None:
    crc, sep, payload = raw.partition(b" ")
    if not sep or len(crc) != 8:
        return None
    try:
        if int(crc, 16) != zlib.crc32(payload):
            return None
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    ok = (isinstance(obj, dict) and all(isinstance(obj.get(k), int) for k in ("seq", "t", "base", "v"))
          and isinstance(obj.get("shots"), dict))
    return obj if ok else None


def _is_snapshot(obj: dict) -> bool:
    return (obj["base"] == obj["seq"] and isinstance(obj.get("rest"), dict)
            and isinstance(obj.get("order"), list))


def read(folder: str | Path) -> Recovered | None:
    """The newest whole state in the journal, or None (no journal, a link, nothing good in it)."""
    try:
        path = journal_path(folder)
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
    except (OSError, StudioError):
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            written = os.fstat(f.fileno()).st_mtime_ns
            raw = f.read()
    except OSError:
        return None
    snap = patch = None
    good = 0
    for line in raw.split(b"\n")[:-1]:  # the piece after the last newline is a torn write
        obj = _decode(line)
        if obj is None:
            continue
        if _is_snapshot(obj):
            if snap is None or obj["seq"] > snap["seq"]:
                snap, patch, good = obj, None, good + 1
        elif snap is not None and obj["base"] == snap["seq"] and obj["seq"] > (patch or snap)["seq"]:
            patch, good = obj, good + 1
    if snap is None:
        return None
    project = _rebuild(snap, patch) if patch is not None else None
    if project is None:
        project = _rebuild(snap, None)
    if project is None:
        return None
    return Recovered(written, project, good)


def _rebuild(snap: dict, patch: dict | None) -> dict | None:
    patch = patch or {}
    rest = patch.get("rest", snap["rest"])
    order = patch.get("order", snap["order"])
    if not isinstance(rest, dict) or not isinstance(order, list):
        return None
    shots = {**snap["shots"], **patch.get("shots", {})}
    try:
        listed = [shots[i] for i in order]
    except (KeyError, TypeError):
        return None
    return {**rest, "schema_version": snap["v"], "shots": listed}
