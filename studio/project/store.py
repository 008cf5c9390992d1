"""Project folders on disk (no Qt): new / open / save / save as, autosave, recovery, backups.

A project is a folder `NAME.vstudio/` holding `project.json`, `media/`, `backups/` and `autosave/`
(the 60-s autosave `autosave/project.json` and the edit journal `autosave/journal.jsonl`, journal.py).
Saves are atomic (contract.files: temp file, fsync, os.replace, fsync of the folder) so a crash
leaves either the old or the new file, never half of one. Files of older schemas are migrated
forward on load (migrations.py). Loading is strict: anything wrong with project.json (not
JSON, truncated, written by a newer build, a field out of range, a media path leaving the folder,
a dangling reference) raises `StudioError` with one line saying why, and nothing on disk changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from contract.files import atomic_write, fsync_dir
from studio.errors import StudioError
from studio.project import journal
from studio.project.containment import check_project, inside, sweep_leftovers
from studio.project.migrations import MIGRATIONS, migrate  # noqa: F401 (MIGRATIONS: re-exported)
from studio.project.schema import SCHEMA_VERSION, ProjectData
from studio.project.status import normalize_engine_state

SUFFIX = ".vstudio"
PROJECT_FILE = "project.json"
MEDIA_DIR = "media"
BACKUP_DIR = "backups"
AUTOSAVE_DIR = "autosave"
KEEP_BACKUPS = 5


# --- paths ------------------------------------------------------------------------------------------
def with_suffix(path: str | Path) -> Path:
    """`films/lantern` -> `films/lantern.vstudio` (unchanged when it already ends so)."""
    p = Path(path)
    return p if p.name.endswith(SUFFIX) else p.with_name(p.name + SUFFIX)


def project_dir(path: str | Path) -> Path:
    """The project folder for a folder path or a path to its project.json."""
    p = Path(path)
    if p.name == PROJECT_FILE and not p.is_dir():
        return p.parent
    return p


# --- loading ------------------------------------------------------------------------------------------
def _bad_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _field_name(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _validation_line(e: ValidationError, name: str) -> StudioError:
    err = e.errors()[0]
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    field = _field_name(tuple(err.get("loc", ())))
    more = f" (and {e.error_count() - 1} more problems)" if e.error_count() > 1 else ""
    kind = "project_unsafe_path" if "media path" in msg else "project_invalid"
    return StudioError(kind, f"{name}: {field}: {msg}{more}")


def load_project_bytes(raw: bytes, name: str = PROJECT_FILE, folder: Path | None = None) -> ProjectData:
    """Parse, migrate and validate the bytes of a project file. Raises StudioError only. `folder`
    (the project folder) lets a migration read the media metadata there."""
    return load_project_dict(_parse(raw, name), name, folder)


def _parse(raw: bytes, name: str) -> dict:
    if not raw.strip():
        raise StudioError("project_corrupt", f"{name} is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StudioError("project_corrupt", f"{name} is not UTF-8 text (byte {e.start})") from None
    try:
        d = json.loads(text, parse_constant=_bad_constant)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string"):
            raise StudioError("project_corrupt", f"{name} is truncated (it ends at line {e.lineno})") from None
        raise StudioError("project_corrupt", f"{name} is not valid JSON (line {e.lineno})") from None
    except ValueError as e:  # NaN / Infinity
        raise StudioError("project_corrupt", f"{name} is not valid JSON ({e})") from None
    except RecursionError:
        raise StudioError("project_corrupt", f"{name} is nested too deeply to be a project") from None
    if not isinstance(d, dict):
        raise StudioError("project_corrupt", f"{name} does not hold a project (expected a JSON object)")
    return d


def load_project_dict(d: dict, name: str = PROJECT_FILE, folder: Path | None = None) -> ProjectData:
    """Migrate and validate a project's parsed JSON (as load_project_bytes; the journal's rebuilt
    states come in here)."""
    version = d.get("schema_version")
    if version is None:
        raise StudioError("project_corrupt", f"{name} has no schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise StudioError("project_corrupt", f"{name}: schema_version {version!r} is not a version number")
    if version > SCHEMA_VERSION:
        raise StudioError(
            "project_too_new",
            f"{name} was written by a newer version (schema {version}; this build reads up to {SCHEMA_VERSION})",
        )
    try:
        d = migrate(d, version, SCHEMA_VERSION, folder)
    except Exception as e:  # a damaged old file can trip a migration in any way
        raise StudioError("project_corrupt", f"{name}: cannot migrate from schema {version} ({e})") from None
    try:
        data = ProjectData.model_validate(d)
    except ValidationError as e:
        raise _validation_line(e, name) from None
    except RecursionError:
        raise StudioError("project_corrupt", f"{name} is nested too deeply to be a project") from None
    _check_references(data, name)
    normalize_engine_state(data)
    return data


def _check_references(data: ProjectData, name: str) -> None:
    """Ids must be unique and every reference must land (the document relies on both)."""
    shots = {}
    for i, shot in enumerate(data.shots):
        if shot.id in shots:
            raise StudioError("project_invalid", f"{name}: shots[{i}].id {shot.id!r} is used twice")
        shots[shot.id] = shot
        take_ids = set()
        for j, take in enumerate(shot.takes):
            if take.id in take_ids:
                raise StudioError("project_invalid", f"{name}: shots[{i}].takes[{j}].id {take.id!r} is used twice")
            take_ids.add(take.id)
        if shot.chosen_take is not None and shot.chosen_take not in take_ids:
            raise StudioError("project_invalid",
                              f"{name}: shots[{i}].chosen_take {shot.chosen_take!r} is not one of its takes")
    seen = set()
    for k, clip in enumerate(data.timeline.clips):
        where = f"{name}: timeline.clips[{k}]"
        shot = shots.get(clip.shot_id)
        if shot is None:
            raise StudioError("project_invalid", f"{where}.shot_id {clip.shot_id!r} is not a shot")
        if clip.shot_id in seen:
            raise StudioError("project_invalid", f"{where}: shot {clip.shot_id!r} has two clips")
        seen.add(clip.shot_id)
        if not any(t.id == clip.take_id for t in shot.takes):
            raise StudioError("project_invalid", f"{where}.take_id {clip.take_id!r} is not a take of its shot")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StudioError("project_missing", f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise StudioError("project_corrupt", f"{path} is a folder, not a project file") from None
    except OSError as e:
        raise StudioError("io", f"cannot read {path}: {e.strerror or e}") from None


def open_project(path: str | Path) -> ProjectData:
    """Load `NAME.vstudio/project.json`. A project whose files lead outside its folder (links) is
    refused, naming them; nothing on disk changes on any error. A successful open removes the stale
    temporary files a killed save or clip left (containment.sweep_leftovers)."""
    folder = project_dir(path)
    if not folder.is_dir():
        raise StudioError("project_missing", f"project folder not found: {folder}")
    inside(folder, PROJECT_FILE)
    data = load_project_bytes(_read(folder / PROJECT_FILE, "project.json"), PROJECT_FILE, folder)
    check_project(folder, data)
    sweep_leftovers(folder)
    return data


# --- writing ------------------------------------------------------------------------------------------
def dump_project(data: ProjectData) -> bytes:
    """The bytes of project.json. Refuses (StudioError) a project that would not open again."""
    _check_references(data, "project")
    d = data.model_dump(mode="json")
    d["schema_version"] = SCHEMA_VERSION  # whatever it was read as, it is written as this build's
    return json.dumps(d, ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8")


def _ensure_layout(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for sub in (MEDIA_DIR, BACKUP_DIR, AUTOSAVE_DIR):
        inside(folder, sub).mkdir(exist_ok=True)  # a subfolder linked elsewhere is refused, not written


def _backup(folder: Path) -> None:
    """Keep the save being replaced in backups/ (newest KEEP_BACKUPS kept)."""
    current = folder / PROJECT_FILE
    if not current.exists():
        return
    backups = folder / BACKUP_DIR
    target = backups / f"project-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}.json"
    try:
        os.link(current, target)  # the old inode stays as the backup; os.replace then swaps the name
    except OSError:
        shutil.copy2(current, target)
    for old in list_backups(folder)[:-KEEP_BACKUPS]:
        with contextlib.suppress(OSError):
            old.unlink()


def list_backups(path: str | Path) -> list[Path]:
    """Backups oldest first."""
    d = project_dir(path) / BACKUP_DIR
    return sorted(d.glob("project-*.json")) if d.is_dir() else []


def _io_error(e: OSError, what: str) -> StudioError:
    return StudioError("io", f"could not save {what}: {e.strerror or e}")


def save_project(path: str | Path, data: ProjectData) -> None:
    """Save atomically into the folder, backing up the previous save and dropping the autosave."""
    folder = project_dir(path)
    payload = dump_project(data)
    try:
        _ensure_layout(folder)
        _backup(folder)
        atomic_write(folder / PROJECT_FILE, payload)
    except OSError as e:
        raise _io_error(e, str(folder / PROJECT_FILE)) from None
    discard_recovery(folder)


def new_project(path: str | Path, data: ProjectData | None = None) -> Path:
    """Create `NAME.vstudio/` (suffix added if missing) with an empty project; returns the folder."""
    folder = with_suffix(path)
    if (folder / PROJECT_FILE).exists():
        raise StudioError("project_exists", f"a project already exists at {folder}")
    save_project(folder, data if data is not None else ProjectData(title=folder.name.removesuffix(SUFFIX)))
    return folder


def save_as(data: ProjectData, source: str | Path | None, dest: str | Path) -> Path:
    """Save into a new folder, with the source project's media. Built beside the target under a
    temporary name and renamed at the end, so a failure leaves no half-made project."""
    folder = with_suffix(dest)
    src = project_dir(source) if source is not None else None
    if src is not None and folder.resolve() == src.resolve():
        save_project(folder, data)
        return folder
    if folder.exists() and any(folder.iterdir()):
        raise StudioError("project_exists", f"{folder} already exists and is not empty")
    payload = dump_project(data)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as e:
        raise _io_error(e, str(folder)) from None
    try:
        if src is not None and (src / MEDIA_DIR).is_dir():
            shutil.copytree(src / MEDIA_DIR, tmp / MEDIA_DIR)
        _ensure_layout(tmp)
        atomic_write(tmp / PROJECT_FILE, payload)
        if folder.exists():
            folder.rmdir()  # empty (checked above)
        os.replace(tmp, folder)
        fsync_dir(folder.parent)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _io_error(e, str(folder)) from None
    return folder


# --- autosave and recovery ------------------------------------------------------------------------------
def autosave_file(path: str | Path) -> Path:
    return project_dir(path) / AUTOSAVE_DIR / PROJECT_FILE


def autosave(path: str | Path, data: ProjectData) -> None:
    """Write autosave/project.json atomically (project.json is left alone)."""
    target = autosave_file(path)
    inside(project_dir(path), target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, dump_project(data))
    except OSError as e:
        raise _io_error(e, str(target)) from None


def _recoverable(folder: Path) -> list[tuple[int, int, Callable[[], ProjectData]]]:
    """What a crash may have left, newest first: (mtime ns, strict, load). The edit journal's last
    good state (journal.read never raises) and autosave/project.json. `strict`: the journal must be
    newer than project.json, not as new (a save writes project.json just after the journal's last
    line, and file times tick coarsely: a tie is a save that was killed before it removed the journal).
    """
    out: list[tuple[int, int, Callable[[], ProjectData]]] = []
    rec = journal.read(folder)
    if rec is not None:
        out.append((rec.t_ns, 1, lambda: load_project_dict(rec.project, journal.JOURNAL_NAME, folder)))
    auto = autosave_file(folder)
    with contextlib.suppress(OSError, StudioError):
        inside(folder, auto)
        name = f"{AUTOSAVE_DIR}/{PROJECT_FILE}"
        out.append((auto.stat().st_mtime_ns, 0, lambda: load_project_bytes(_read(auto, name), name, folder)))
    return sorted(out, key=lambda o: o[:2], reverse=True)  # on a tie the journal (flushed after an autosave)


def _saved_at(folder: Path) -> int | None:
    try:
        return (folder / PROJECT_FILE).stat().st_mtime_ns
    except OSError:
        return None


def _offered(folder: Path) -> ProjectData | StudioError | None:
    """The newest state a crash left (journal or autosave) that is newer than project.json, loads,
    and differs from it; else the first error met, or None when there is nothing."""
    saved_at, saved, error = _saved_at(folder), None, None
    for t, strict, load in _recoverable(folder):
        if saved_at is not None and t < saved_at + strict:
            continue
        try:
            data = load()
            check_project(folder, data)
        except StudioError as e:
            error = error or e
            continue
        if saved_at is None:
            return data
        if saved is None:
            try:
                saved = load_project_bytes(_read(folder / PROJECT_FILE, PROJECT_FILE), PROJECT_FILE,
                                           folder).model_dump()
            except StudioError:
                return data  # a project.json that does not open: anything recoverable is worth offering
        if data.model_dump() != saved:
            return data
    return error


def recovery_available(path: str | Path) -> bool:
    """True when an autosave or an edit journal is there that is newer than project.json and holds
    a different project (a save removes both, so one left behind means the last session ended
    without saving). A file that does not load is not offered."""
    return isinstance(_offered(project_dir(path)), ProjectData)


def recover(path: str | Path) -> ProjectData:
    """Load what recovery_available offers: the newer of the edit journal and the autosave (the other
    when that one does not load or holds the saved project). Nothing on disk changes; saving
    afterwards makes it the project."""
    folder = project_dir(path)
    found = _offered(folder)
    if isinstance(found, ProjectData):
        return found
    raise found or StudioError("project_missing", f"nothing to recover in {folder.name}: no autosave or "
                                                  "edit journal newer than its project.json")


def discard_recovery(path: str | Path) -> None:
    """Remove the autosave and the edit journal (never following a link out of the folder)."""
    folder = project_dir(path)
    with contextlib.suppress(OSError, StudioError):
        inside(folder, AUTOSAVE_DIR)
        autosave_file(folder).unlink()
    journal.discard(folder)
