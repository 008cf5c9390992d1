"""A project's files stay inside its folder (no Qt): the one rule for links and leftovers.

A `NAME.vstudio` folder can hold symbolic links (put there by a user, a sync tool or an attacker): a
`media/` linked elsewhere would make the worker write clips outside the project, a take linked to
`/etc/shadow` would be read as media. So every path the studio reads or writes inside a project is
resolved and must land inside the folder's own real path (the folder itself may live behind a link:
only what is inside it is checked), and a project whose files lead out is refused on open, naming
the first such file.

Leftovers: a save or a clip killed half-way leaves hidden temporary files (contract.files.temp_name,
the worker's `.partial` clip files); opening a project removes those that are stale.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from studio.errors import StudioError

SUBFOLDERS = ("media", "media/continuity", "media/references", "backups", "autosave")
STALE_S = 120.0  # a temporary file untouched this long belongs to no running save
_TEMP_PATTERNS = (".*.partial*", ".project.json.*.tmp")


def _leaves(root: Path, path: Path) -> bool:
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a loop of links
        return True
    return not real.is_relative_to(root)


def inside(folder: str | Path, path: str | Path) -> Path:
    """`path` (absolute, or relative to the project folder) if it stays inside the folder once links
    are followed; else StudioError("project_link") naming it. The path need not exist yet."""
    folder = Path(folder)
    p = Path(path)
    p = p if p.is_absolute() else folder / p
    if _leaves(folder.resolve(), p):
        raise StudioError("project_link", f"{_name(folder, p)} leads outside the project folder {folder.name} "
                                          f"(a link?); the project's files must be inside it")
    return p


def _name(folder: Path, p: Path) -> str:
    with contextlib.suppress(ValueError):
        return p.relative_to(folder).as_posix()
    return str(p)


def escaping(folder: str | Path, data=None) -> list[str]:
    """Project-relative names of the folder's own subfolders, and of the files `data` (ProjectData)
    refers to, that lead outside the folder. Missing files are not this rule's business."""
    folder = Path(folder)
    root = folder.resolve()
    names = list(SUBFOLDERS)
    if data is not None:
        for shot in data.shots:
            names += [x for x in (shot.params.reference_image, shot.params.source_video) if x]
            for take in shot.takes:
                names += [x for x in (take.clip, take.frames_file, take.poster, take.params.reference_image,
                                      take.params.source_video) if x]
    out = []
    for name in dict.fromkeys(names):
        p = folder / name
        if (p.is_symlink() or p.exists()) and _leaves(root, p):
            out.append(name)
    return out


def check_project(folder: str | Path, data=None) -> None:
    """Refuse (StudioError "project_link", one line) a project whose files lead outside its folder."""
    bad = escaping(folder, data)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise StudioError("project_link", f"{bad[0]}{more} in {Path(folder).name} leads outside the project "
                                          f"folder (a link?); move the files inside it, or remove the link")


def sweep_leftovers(folder: str | Path, now: float | None = None) -> list[Path]:
    """Remove hidden temporary files that a killed save, autosave or clip left in the project (only
    stale ones: a save in progress elsewhere keeps its file). Returns what was removed."""
    folder = Path(folder)
    now = time.time() if now is None else now
    removed = []
    for sub in ("", "autosave", "media", "media/continuity", "backups"):
        d = folder / sub
        if not d.is_dir() or d.is_symlink():
            continue
        for pattern in _TEMP_PATTERNS:
            for p in d.glob(pattern):
                with contextlib.suppress(OSError):
                    if p.is_file() and not p.is_symlink() and now - p.stat().st_mtime > STALE_S:
                        p.unlink()
                        removed.append(p)
    return removed
