"""The Qt face of a project: one `ProjectDocument` that every widget binds to.

It wraps a `ProjectData` (schema.py), the project folder and a `QUndoStack`. Widgets read through the
accessors and change things only through the edit methods: each edit pushes one `QUndoCommand`
(commands/), so undo/redo covers everything a user does. Results from the engine (new takes, shot
status while queued/generating/failed) are *not* undoable: they are work done, not edits, and undoing
them would throw that work away. They still make the document dirty.

Rules widgets can rely on:
- Objects returned by accessors are the live data: read them, never mutate them.
- Shots are addressed by id (stable across reorders and undo), rows only for the shot list's model.
- Row signals come in Qt pairs (`...AboutToBe...` before the change, the plain one after), so a
  QAbstractTableModel can forward them straight to begin*/end* calls.
- File operations return `StudioError | None` (errors are values) and also emit `errorOccurred`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from studio.errors import StudioError
from studio.project import choice, store, storyboard
from studio.project.commands import project as project_commands
from studio.project.commands import shots as shots_commands
from studio.project.commands import takes as takes_commands
from studio.project.commands import timeline as timeline_commands
from studio.project.keeper import AUTOSAVE_INTERVAL_MS, Keeper  # noqa: F401 (re-exported)
from studio.project.schema import (
    GenParams,
    Job,
    ProjectData,
    ProjectSettings,
    Shot,
    ShotStatus,
    Take,
    TimelineClip,
    TransitionKind,
)
from studio.project.status import derive_status, is_stale


class ProjectDocument(QObject):
    # --- shot list (rows of data.shots) -----------------------------------------------------------
    shotsAboutToBeReset = Signal()
    shotsReset = Signal()  # whole list replaced (open, new, import with replace)
    shotsAboutToBeInserted = Signal(int, int)  # row, count
    shotsInserted = Signal(int, int)  # row, count
    shotsAboutToBeRemoved = Signal(int, int)  # row, count (always one contiguous block per pair)
    shotsRemoved = Signal(int, int)
    shotsAboutToBeMoved = Signal()  # a reorder: forward to layoutAboutToBeChanged
    shotsMoved = Signal()  # forward to layoutChanged (rows keep their shot ids)
    # --- one shot -----------------------------------------------------------------------------------
    shotChanged = Signal(str)  # shot_id: params, notes, status, error or chosen take changed
    takesChanged = Signal(str)  # shot_id: a take was added/deleted/rated, or the chosen one changed
    # --- the rest of the project -----------------------------------------------------------------
    timelineChanged = Signal()  # clips added/removed/reordered/trimmed, transitions
    settingsChanged = Signal()  # project fps / width / height
    titleChanged = Signal(str)
    queueChanged = Signal()  # data.queue replaced by the engine integration
    currentShotChanged = Signal(str)  # "" = none; UI state shared by shot list, inspector, takes
    # --- file state ----------------------------------------------------------------------------------
    dirtyChanged = Signal(bool)
    pathChanged = Signal(str)  # the .vstudio folder, "" when unsaved
    saved = Signal(str)  # folder path, after save / save as
    autosaved = Signal(str)  # folder path
    recoveryAvailable = Signal(str)  # on open: an autosave / edit journal newer than project.json (folder)
    errorOccurred = Signal(str, str)  # kind, one-line message (file operations, import)

    def __init__(self, data: ProjectData | None = None, path: str | Path | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._data = data if data is not None else ProjectData()
        self._path: Path | None = Path(path) if path is not None else None
        self._current = ""
        # What "Add shot" starts from; the app sets it from the user's settings.
        self.default_params = GenParams()
        self._extra_dirty = False  # dirty by non-undoable changes (engine results)
        self._last_dirty = False
        self._undo = QUndoStack(self)
        # A bound slot (not a lambda): Qt drops it when the document dies, before the stack's own
        # teardown emits cleanChanged.
        self._undo.cleanChanged.connect(self._on_clean_changed)
        # The 60-s autosave and the edit journal (keeper.py): a crash loses at most a moment of edits.
        self._keeper = Keeper(self)
        self._autosave = self._keeper.autosave_timer
        self._undo.indexChanged.connect(self._on_index_changed)  # bound, as cleanChanged above
        for shot in self._data.shots:
            self._refresh_status(shot)

    # ================================================================================================
    # Read access
    # ================================================================================================
    @property
    def data(self) -> ProjectData:
        """The whole project (live; read only)."""
        return self._data

    @property
    def path(self) -> Path | None:
        """The `NAME.vstudio` folder, or None for a project never saved."""
        return self._path

    @property
    def undo_stack(self) -> QUndoStack:
        """For Edit menu actions: `undo_stack.createUndoAction(...)`, and an undo view."""
        return self._undo

    @property
    def title(self) -> str:
        return self._data.title

    @property
    def settings(self) -> ProjectSettings:
        return self._data.settings

    def is_dirty(self) -> bool:
        return self._extra_dirty or not self._undo.isClean()

    def shot_count(self) -> int:
        return len(self._data.shots)

    def shot_at(self, row: int) -> Shot:
        return self._data.shots[row]

    def shot(self, shot_id: str) -> Shot | None:
        for s in self._data.shots:
            if s.id == shot_id:
                return s
        return None

    def row_of(self, shot_id: str) -> int:
        """Row of a shot in the list, -1 if absent."""
        for i, s in enumerate(self._data.shots):
            if s.id == shot_id:
                return i
        return -1

    def shot_ids(self) -> list[str]:
        return [s.id for s in self._data.shots]

    def take(self, shot_id: str, take_id: str) -> Take | None:
        shot = self.shot(shot_id)
        if shot is None:
            return None
        return next((t for t in shot.takes if t.id == take_id), None)

    def chosen_take(self, shot_id: str) -> Take | None:
        shot = self.shot(shot_id)
        return choice.chosen(shot) if shot is not None else None

    def status(self, shot_id: str) -> ShotStatus:
        """Same as `shot.status` (kept consistent after every change)."""
        shot = self.shot(shot_id)
        return derive_status(shot) if shot is not None else ShotStatus.DRAFT

    def is_stale(self, shot_id: str) -> bool:
        """True when the shot's GenParams differ from its chosen take's (generating fields only)."""
        shot = self.shot(shot_id)
        return shot is not None and is_stale(shot)

    def clips(self) -> list[TimelineClip]:
        """Timeline clips in play order (live; read only)."""
        return self._data.timeline.clips

    def clip_for(self, shot_id: str) -> TimelineClip | None:
        """A shot has at most one clip on the timeline: its chosen take."""
        return next((c for c in self._data.timeline.clips if c.shot_id == shot_id), None)

    def clip_index(self, shot_id: str) -> int:
        for i, c in enumerate(self._data.timeline.clips):
            if c.shot_id == shot_id:
                return i
        return -1

    def media_path(self, relative: str) -> Path | None:
        """Absolute path of a project-relative media path (None while the project has no folder)."""
        return None if self._path is None else self._path / relative

    @property
    def current_shot_id(self) -> str:
        return self._current

    def set_current_shot(self, shot_id: str) -> None:
        """Selection shared by widgets (not undoable, not saved)."""
        if shot_id != self._current:
            self._current = shot_id
            self.currentShotChanged.emit(shot_id)

    # ================================================================================================
    # Undoable edits (each pushes one command; returns ids where new things are made)
    # ================================================================================================
    def add_shots(self, params: Iterable[GenParams] | None = None, row: int | None = None) -> list[str]:
        """Insert shots at `row` (default: the end). `params=None` adds one shot with the project's
        defaults. Returns the new shot ids."""
        if params is None:
            params = [self.default_params]
        shots = [Shot(params=p.model_copy()) for p in params]
        if not shots:
            return []
        row = len(self._data.shots) if row is None else max(0, min(row, len(self._data.shots)))
        text = "Add shot" if len(shots) == 1 else f"Add {len(shots)} shots"
        self._undo.push(shots_commands.InsertShots(self, shots, row, text))
        return [s.id for s in shots]

    def add_shot(self, params: GenParams | None = None, row: int | None = None) -> str:
        return self.add_shots([params or self.default_params], row)[0]

    def duplicate_shots(self, shot_ids: Iterable[str]) -> list[str]:
        """Copy shots (params, notes, transition; no takes) right after the last selected one."""
        return shots_commands.duplicate_shots(self, list(shot_ids))

    def delete_shots(self, shot_ids: Iterable[str]) -> None:
        """Delete shots with their timeline clips. Media files stay on disk (undo brings them back)."""
        ids = [i for i in shot_ids if self.row_of(i) >= 0]
        if ids:
            self._undo.push(shots_commands.DeleteShots(self, ids))

    def move_shots(self, shot_ids: Iterable[str], to_row: int) -> None:
        """Move a (multi-)selection so it lands before the shot now at `to_row` (Qt drop semantics;
        `to_row == shot_count()` moves to the end). The moved shots keep their relative order."""
        ids = [i for i in shot_ids if self.row_of(i) >= 0]
        if ids:
            cmd = shots_commands.MoveShots(self, ids, to_row)
            if cmd.changes_anything():
                self._undo.push(cmd)

    def set_params(self, shot_ids: str | Iterable[str], **changes: Any) -> StudioError | None:
        """Change GenParams fields of one or more shots, e.g. `set_params(ids, steps=30)`.
        Consecutive edits of the same text field on the same shots merge into one undo step (typing).
        Invalid values change nothing and come back as a StudioError naming the field."""
        ids = [shot_ids] if isinstance(shot_ids, str) else list(shot_ids)
        return shots_commands.push_param_edit(self, ids, changes)

    def set_notes(self, shot_id: str, notes: str) -> None:
        """Consecutive notes edits of the same shot merge into one undo step."""
        shot = self.shot(shot_id)
        if shot is not None and shot.notes != notes:
            self._undo.push(shots_commands.SetNotes(self, shot_id, notes))

    def choose_take(self, shot_id: str, take_id: str | None) -> None:
        """Make a take the shot's chosen one; its clip appears on (or is updated in) the timeline,
        keeping trim and transition. `None` un-chooses and removes the clip."""
        shot = self.shot(shot_id)
        if shot is None or shot.chosen_take == take_id:
            return
        if take_id is not None and self.take(shot_id, take_id) is None:
            return
        self._undo.push(takes_commands.ChooseTake(self, shot_id, take_id))

    def rate_take(self, shot_id: str, take_id: str, rating: int) -> None:
        """0..5 stars."""
        take = self.take(shot_id, take_id)
        rating = max(0, min(5, int(rating)))
        if take is not None and take.rating != rating:
            self._undo.push(takes_commands.RateTake(self, shot_id, take_id, rating))

    def delete_take(self, shot_id: str, take_id: str) -> None:
        """Remove a take from the shot (and its clip if it was the chosen one). Files stay on disk."""
        if self.take(shot_id, take_id) is not None:
            self._undo.push(takes_commands.DeleteTake(self, shot_id, take_id))

    def move_clip(self, shot_id: str, to_index: int) -> None:
        """Reorder the timeline: the clip lands at `to_index` in the new order."""
        i = self.clip_index(shot_id)
        n = len(self._data.timeline.clips)
        to_index = max(0, min(to_index, n - 1))
        if i >= 0 and i != to_index:
            self._undo.push(timeline_commands.MoveClip(self, shot_id, to_index))

    def trim_clip(self, shot_id: str, in_s: float, out_s: float | None, *,
                  merge: bool = True) -> StudioError | None:
        """Set a clip's in/out points (seconds into the take, kept as frames at the project's fps; out
        None = the take's end). A trim merges into the undo step of the trim just before it on the same
        clip (live updates while dragging a handle); `merge=False` starts a new step (the first update
        of a drag, or a drag committed once on release)."""
        return timeline_commands.push_trim(self, shot_id, in_s, out_s, merge)

    def set_transition(self, shot_id: str, kind: TransitionKind | str,
                       duration: float | None = None) -> StudioError | None:
        """The transition *into* a shot (`duration` in seconds, kept as frames at the project's fps),
        on the shot (`shot.transition`: the plan before any take exists, then its clip's cut)."""
        return timeline_commands.push_transition(self, shot_id, kind, duration)

    def set_title(self, title: str) -> None:
        if title != self._data.title:
            self._undo.push(project_commands.SetTitle(self, title))

    def set_project_settings(self, **changes: Any) -> StudioError | None:
        """fps / width / height."""
        return project_commands.push_settings(self, changes)

    def import_storyboard(self, path: str | Path, *, replace: bool = False) -> StudioError | None:
        """Import a storyboard (JSON/CSV). `replace=False` appends its shots (with their
        transitions); `replace=True` replaces shots, timeline, title and settings, and so does an
        import into a project without shots (a fresh project takes the storyboard's title, fps and
        size). One undo step. Appended shots' times are made at this project's fps."""
        replace = replace or not self._data.shots
        try:
            fps = None if replace else self._data.settings.fps  # a replacing storyboard brings its own
            imported = storyboard.load_storyboard(path, self.default_params, fps=fps)
        except StudioError as e:
            self.errorOccurred.emit(e.kind, e.message)
            return e
        self._undo.push(project_commands.ImportStoryboard(self, imported, replace, Path(path).name))
        return None

    # ================================================================================================
    # Engine integration (not undoable; makes the document dirty)
    # ================================================================================================
    def mark_queued(self, shot_ids: Iterable[str]) -> None:
        self._set_engine_status(shot_ids, ShotStatus.QUEUED, "")

    def mark_generating(self, shot_id: str) -> None:
        self._set_engine_status([shot_id], ShotStatus.GENERATING, "")

    def mark_failed(self, shot_id: str, message: str) -> None:
        self._set_engine_status([shot_id], ShotStatus.FAILED, message)

    def clear_engine_status(self, shot_ids: Iterable[str]) -> None:
        """Cancelled or dequeued: back to what the takes say (draft / ready / stale)."""
        self._set_engine_status(shot_ids, None, "")

    def add_take(self, shot_id: str, take: Take, *, choose: bool | None = None) -> bool:
        """A finished take from the engine. `choose=None` chooses it when the shot has no chosen
        take yet (so the timeline fills up as a storyboard renders). Clears queued/generating/failed.
        Returns False when the shot no longer exists (the caller keeps or removes the files)."""
        return takes_commands.add_engine_take(self, shot_id, take, choose)

    def set_queue(self, jobs: list[Job]) -> None:
        """The engine queue persists its jobs in the project (data.queue). Call it when jobs are
        added, removed or change state, not on every progress tick (each call dirties)."""
        jobs = list(jobs)
        if jobs == self._data.queue:
            return
        self._data.queue = jobs
        self._mark_extra_dirty()
        self.queueChanged.emit()

    # ================================================================================================
    # Files (errors are values; also emitted on errorOccurred)
    # ================================================================================================
    def new(self, path: str | Path | None = None, title: str | None = None,
            settings: ProjectSettings | None = None) -> StudioError | None:
        """Start an empty project; with `path`, create its folder at once. The title defaults to
        the folder's name ("Untitled" without a path)."""
        if title is None:
            title = store.with_suffix(path).name.removesuffix(store.SUFFIX) if path is not None else "Untitled"
        data = ProjectData(title=title, settings=settings or ProjectSettings())
        if path is not None:
            try:
                folder = store.new_project(path, data)
            except StudioError as e:
                return self._fail(e)
        else:
            folder = None
        self.load_data(data, folder)
        return None

    def open(self, path: str | Path, *, recover: bool = False) -> StudioError | None:
        """Open a project folder (or its project.json). When an autosave or edit journal newer than
        the save is there, `recoveryAvailable(folder)` is emitted after opening so the UI can offer it;
        then `open(path, recover=True)` loads the newer of the two instead (the document is then dirty, and
        saving makes it the project). On error the current project stays as it was."""
        try:
            folder = store.project_dir(path)
            data = store.recover(folder) if recover else store.open_project(folder)
        except StudioError as e:
            return self._fail(e)
        self.load_data(data, folder)
        if recover:
            self._mark_extra_dirty()
        elif store.recovery_available(folder):
            self.recoveryAvailable.emit(str(folder))
        return None

    def save(self) -> StudioError | None:
        """Save to the current folder (atomic, with a backup of the previous save)."""
        if self._path is None:
            return self._fail(StudioError("no_path", "this project has no folder yet; use Save As"))
        try:
            store.save_project(self._path, self._data)
        except StudioError as e:
            return self._fail(e)
        self._mark_saved()
        return None

    def save_as(self, path: str | Path) -> StudioError | None:
        """Save into a new `NAME.vstudio` folder (media copied along); the document moves there."""
        try:
            folder = store.save_as(self._data, self._path, path)
        except StudioError as e:
            return self._fail(e)
        self._set_path(folder)
        self._mark_saved()
        return None

    def autosave_now(self) -> StudioError | None:
        """Write autosave/project.json (does not make the document clean)."""
        if self._path is None:
            return None
        try:
            store.autosave(self._path, self._data)
        except StudioError as e:
            return self._fail(e)
        self._keeper.autosaved()
        self.autosaved.emit(str(self._path))
        return None

    def journal_now(self) -> StudioError | None:
        """Write pending edits to the edit journal now (its timer does so within keeper.FLUSH_MS)."""
        return self._keeper.flush()

    @staticmethod
    def recovery_available(path: str | Path) -> bool:
        return store.recovery_available(path)

    def load_data(self, data: ProjectData, path: str | Path | None = None) -> None:
        """Replace everything (clears undo history; clean)."""
        self.shotsAboutToBeReset.emit()
        self._data = data
        for shot in self._data.shots:
            self._refresh_status(shot)
        self._undo.clear()
        self._undo.setClean()
        self._extra_dirty = False
        self._keeper.reset()
        self.shotsReset.emit()
        self.timelineChanged.emit()
        self.settingsChanged.emit()
        self.queueChanged.emit()
        self.titleChanged.emit(self._data.title)
        self._set_path(Path(path) if path is not None else None)
        if self._current and self.shot(self._current) is None:
            self.set_current_shot("")
        self._update_dirty()

    # ================================================================================================
    # Internals used by the commands
    # ================================================================================================
    def _refresh_status(self, shot: Shot) -> None:
        status = derive_status(shot)
        if shot.status != status:
            shot.status = status

    def _set_engine_status(self, shot_ids: Iterable[str], status: ShotStatus | None, error: str) -> None:
        for sid in shot_ids:
            shot = self.shot(sid)
            if shot is None:
                continue
            shot.error = error
            shot.status = status if status is not None else ShotStatus.DRAFT
            self._refresh_status(shot)
            self.shotChanged.emit(sid)
        self._mark_extra_dirty()

    def _mark_extra_dirty(self) -> None:
        self._extra_dirty = True
        self._keeper.changed()
        self._update_dirty()

    def _mark_saved(self) -> None:
        self._extra_dirty = False
        self._undo.setClean()
        self._keeper.saved()
        self._update_dirty()
        self.saved.emit(str(self._path))

    def _update_dirty(self) -> None:
        dirty = self.is_dirty()
        self._keeper.dirty_changed(dirty)
        if dirty != self._last_dirty:
            self._last_dirty = dirty
            self.dirtyChanged.emit(dirty)

    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_dirty()

    def _on_index_changed(self, _index: int) -> None:
        self._keeper.changed()  # every push / undo / redo / merge of the stack

    def _set_path(self, path: Path | None) -> None:
        if path != self._path:
            self._path = path
            self.pathChanged.emit(str(path) if path is not None else "")

    def _fail(self, e: StudioError) -> StudioError:
        self.errorOccurred.emit(e.kind, e.message)
        return e
