"""The studio's main window: shot list left, inspector right, viewer centre with the takes below
it, timeline along the bottom, render queue docked right. Menus and shortcuts drive the document
(File, Edit), the engine (Generate), the layout (View) and the viewer (Playback)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QWidget,
)

from studio.engine.params import capabilities_of
from studio.engine.variations import MAX_TAKES
from studio.media.timecode import format_seconds
from studio.project import preferences as prefs
from studio.project.document import ProjectDocument
from studio.ui.inspector import Inspector
from studio.ui.labels import STUDIO_SHORTCUTS
from studio.ui.media_cache import TakeMediaCache
from studio.ui.shot_list import ShotListPanel
from studio.ui.take_browser import TakesPanel
from studio.ui.timeline import TimelinePanel
from studio.ui.timeline_spans import total_duration
from studio.ui.viewer import Viewer

APP_NAME = "Video Diffusion Studio"
PROJECT_SUFFIX = ".vstudio"


class MainWindow(QMainWindow):
    def __init__(self, doc: ProjectDocument, preferences: prefs.Preferences | None = None,
                 generation=None, queue=None, parent=None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.doc = doc
        self.preferences = preferences if preferences is not None else prefs.load_preferences()
        self.generation = generation  # GenerationController, or None when no engine is running
        self.queue = queue
        self.media = TakeMediaCache(lambda: doc.path)
        self.ask = QMessageBox.question  # replaced in tests
        self.ask_int = QInputDialog.getInt
        self._build_panels()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self._update_title()
        self.resize(1560, 960)
        self._default_state = self.saveState()
        if doc.shot_count() and not doc.current_shot_id:
            doc.set_current_shot(doc.shot_at(0).id)

    # ================================================================================================
    # Building
    # ================================================================================================
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_panels(self) -> None:
        doc, media = self.doc, self.media
        self.viewer = Viewer(doc, media)
        self.player = self.viewer.player
        self.takes = TakesPanel(doc, media)
        self.shots = ShotListPanel(doc, media)
        self.inspector = Inspector(doc)
        self.timeline = TimelinePanel(doc, media)

        centre = QSplitter(Qt.Orientation.Vertical)
        centre.setObjectName("CentreSplitter")
        centre.addWidget(self.viewer)
        centre.addWidget(self.takes)
        centre.setStretchFactor(0, 3)
        centre.setStretchFactor(1, 2)
        centre.setChildrenCollapsible(False)
        centre.setSizes([440, 320])
        self.centre = centre
        self.setCentralWidget(centre)

        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setDockNestingEnabled(True)
        left, right, bottom = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                               Qt.DockWidgetArea.BottomDockWidgetArea)
        self.shots_dock = self._dock("Storyboard", "ShotsDock", self.shots, left)
        self.inspector_dock = self._dock("Inspector", "InspectorDock", self.inspector, right)
        self.timeline_dock = self._dock("Timeline", "TimelineDock", self.timeline, bottom)
        self.queue_dock = None
        if self.queue is not None:
            from studio.ui.queue_panel import QueuePanel  # the engine engineer's dock

            self.queue_dock = QueuePanel(self.queue, self, shot_label=self._job_label)
            self.addDockWidget(right, self.queue_dock)
            self.splitDockWidget(self.inspector_dock, self.queue_dock, Qt.Orientation.Vertical)
            self.resizeDocks([self.inspector_dock, self.queue_dock], [620, 260], Qt.Orientation.Vertical)
        self.resizeDocks([self.shots_dock, self.inspector_dock], [540, 400], Qt.Orientation.Horizontal)
        self.resizeDocks([self.timeline_dock], [170], Qt.Orientation.Vertical)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", context=Qt.ShortcutContext.WindowShortcut,
                checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
            a.setShortcutContext(context)
        if tip:
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        a.triggered.connect(lambda checked=False: slot(checked) if checkable else slot())
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey  # noqa: N806
        self.act_new = self._action("&New Project…", self.new_project, K.New)
        self.act_open = self._action("&Open Project…", self.open_project_dialog, K.Open)
        self.act_save = self._action("&Save", self.save, K.Save)
        self.act_save_as = self._action("Save &As…", self.save_as, K.SaveAs)
        self.act_import = self._action("&Import Storyboard…", self.import_storyboard, "Ctrl+I",
                                       "Add the shots of a JSON or CSV storyboard")
        self.act_export = self._action("&Export…", self.export, "Ctrl+E", "Render the film to a file")
        self.act_quit = self._action("&Quit", self.close, K.Quit)
        self.act_undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts(K.Undo)
        self.act_redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addActions([self.act_undo, self.act_redo])
        self.act_settings = self._action("Se&ttings…", self.open_settings, "Ctrl+,")
        self.act_generate = self._action("Generate &Selected", lambda: self.generate("selected"), "Ctrl+G",
                                         "Queue the selected shots")
        self.act_generate_stale = self._action("Generate S&tale", lambda: self.generate("stale"), "Ctrl+Shift+G",
                                               "Queue shots without a take, stale or failed")
        self.act_generate_all = self._action("Generate &All", lambda: self.generate("all"), None,
                                             "Queue every shot")
        self.act_generate_takes = self._action("Generate &Takes…", lambda: self.generate("takes"), "Ctrl+Alt+G",
                                               "Queue several takes of the selected shots (new seeds)")
        # Playback: window-wide, as in an NLE (text fields keep their keys: Qt lets the focused
        # editor claim a key before a shortcut does).
        p = self.player
        self.act_play = self._action("Play / Pause", p.toggle_play, "Space")
        self.act_j = self._action("Shuttle Backward", p.shuttle_reverse, "J")
        self.act_k = self._action("Stop", p.stop, "K")
        self.act_l = self._action("Shuttle Forward", p.shuttle_forward, "L")
        self.act_prev = self._action("Previous Frame", lambda: p.step(-1), "Left")
        self.act_next = self._action("Next Frame", lambda: p.step(1), "Right")
        self.act_prev10 = self._action("Back 10 Frames", lambda: p.step(-10), "Shift+Left")
        self.act_next10 = self._action("Forward 10 Frames", lambda: p.step(10), "Shift+Right")
        self.act_in = self._action("Mark In", p.set_mark_in, "I")
        self.act_out = self._action("Mark Out", p.set_mark_out, "O")
        self.act_clear_marks = self._action("Clear Marks", p.clear_marks, "Alt+X")
        self.act_loop = self._action("Loop", p.set_loop, "Ctrl+L", checkable=True)
        self.act_film = self._action("Play Film", lambda: self.viewer.show_film(play=True), "Ctrl+Return",
                                     "Play the whole timeline")
        self.act_reset_layout = self._action("Reset Layout", self.reset_layout)
        self.act_shortcuts = self._action("Keyboard Shortcuts", self.show_shortcuts, "F1")
        self.act_about = self._action("About", self.show_about)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addActions([self.act_new, self.act_open])
        self.recent_menu = f.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        f.addSeparator()
        f.addActions([self.act_save, self.act_save_as])
        f.addSeparator()
        f.addActions([self.act_import, self.act_export])
        f.addSeparator()
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addActions([self.act_undo, self.act_redo])
        e.addSeparator()
        s = self.shots
        e.addActions([s.act_add, s.act_duplicate, s.act_delete, s.act_up, s.act_down])
        e.addSeparator()
        e.addAction(self.act_settings)
        g = mb.addMenu("&Generate")
        g.addActions([self.act_generate, self.act_generate_stale, self.act_generate_all, self.act_generate_takes])
        pb = mb.addMenu("&Playback")
        pb.addActions([self.act_play, self.act_j, self.act_k, self.act_l])
        pb.addSeparator()
        pb.addActions([self.act_prev, self.act_next, self.act_prev10, self.act_next10])
        pb.addSeparator()
        pb.addActions([self.act_in, self.act_out, self.act_clear_marks, self.act_loop])
        pb.addSeparator()
        pb.addAction(self.act_film)
        v = mb.addMenu("&View")
        for dock in (self.shots_dock, self.inspector_dock, self.timeline_dock, self.queue_dock):
            if dock is not None:
                v.addAction(dock.toggleViewAction())
        v.addSeparator()
        v.addAction(self.act_reset_layout)
        h = mb.addMenu("&Help")
        h.addActions([self.act_shortcuts, self.act_about])
        # The shot list's own shortcuts work anywhere in the window once they sit in a menu.
        for a in (s.act_add, s.act_duplicate, s.act_up, s.act_down):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        s.act_delete.setShortcut(QKeySequence())  # Delete is the list's key, not the window's

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.engine_label = QLabel()
        self.project_label = QLabel()
        self.engine_label.setObjectName("Dim")
        self.project_label.setObjectName("Dim")
        sb.addPermanentWidget(self.project_label)
        sb.addPermanentWidget(self.engine_label)
        self._update_engine_label()
        self._update_project_label()

    def _connect(self) -> None:
        d = self.doc
        d.dirtyChanged.connect(lambda _d: self._update_title())
        d.titleChanged.connect(lambda _t: self._update_title())
        d.pathChanged.connect(lambda _p: (self._update_title(), self.media.clear()))
        d.settingsChanged.connect(self._update_project_label)
        d.timelineChanged.connect(self._update_project_label)
        d.errorOccurred.connect(lambda kind, msg: self.statusBar().showMessage(msg, 8000))
        d.autosaved.connect(lambda _p: self.statusBar().showMessage("Autosaved", 3000))
        d.saved.connect(lambda folder: self._remember(folder))
        d.currentShotChanged.connect(self._current_shot_changed)
        d.takesChanged.connect(self._takes_changed)
        self.shots.generateRequested.connect(self.generate)
        self.inspector.generateTakesRequested.connect(lambda n: self.generate("current", takes=n))
        self.shots.importRequested.connect(self.import_storyboard)
        self.shots.view.clicked.connect(lambda index: self.viewer.show_shot(self.shots.model.shot_id(index.row())))
        self.shots.view.activated.connect(lambda index: self.viewer.show_shot(self.shots.model.shot_id(index.row()),
                                                                              play=True))
        self.takes.playRequested.connect(lambda sid, tid: self.viewer.show_take(sid, tid, play=True))
        self.takes.compareRequested.connect(self.viewer.show_compare)
        self.timeline.scene.seekRequested.connect(self.viewer.seek_film)
        self.timeline.scene.clipActivated.connect(lambda sid: self.viewer.show_shot(sid, play=True))
        self.timeline.scene.editFailed.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.timeline.view.transportKey.connect(lambda key, mods: self.player.handle_key(key, mods))
        self.timeline.play_button.clicked.connect(lambda: self.viewer.show_film(play=True))
        self.viewer.filmPosition.connect(self.timeline.scene.follow_playhead)
        self.player.playingChanged.connect(self._sync_loop_action)
        if self.generation is not None:
            self.shots.model.progress_fn = self.generation.progress
            self.generation.progressChanged.connect(self.shots.model.refresh_shot)
            self.generation.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
            self.generation.engineChanged.connect(self._update_engine_label)

    # ================================================================================================
    # Selection and viewer
    # ================================================================================================
    def _current_shot_changed(self, shot_id: str) -> None:
        # The viewer follows the selection while it shows shots; on the film (a clip clicked on
        # the timeline) it stays on the film. Clicking a shot in the list shows that shot.
        if self.viewer.mode != "film":
            self.viewer.show_shot(shot_id)

    def _takes_changed(self, shot_id: str) -> None:
        if shot_id == self.doc.current_shot_id and self.viewer.mode == "shot" and self.viewer.take_ref is None:
            self.viewer.show_shot(shot_id)
        self.timeline.scene.clear_thumbnails()

    def _sync_loop_action(self, _playing: bool) -> None:
        self.act_loop.setChecked(self.player.loop)

    # ================================================================================================
    # Generate
    # ================================================================================================
    def shot_ids_for(self, kind: str) -> list[str]:
        current = [self.doc.current_shot_id] if self.doc.current_shot_id else []
        if kind == "selected":
            return self.shots.selected_ids() or current
        return {"stale": self.shots.stale_ids, "current": lambda: current}.get(kind, self.doc.shot_ids)()

    def generate(self, kind: str, takes: int = 1) -> None:
        """Queue `takes` takes of shots: "selected", "stale", "all" or "current" (the inspector's);
        "takes": of the selected, asking how many."""
        if kind == "takes":
            takes, ok = self.ask_int(self, "Generate takes", "New takes of each selected shot:", 3, 1, MAX_TAKES)
            if not ok:
                return
            kind = "selected"
        ids = self.shot_ids_for(kind)
        if not ids:
            self.statusBar().showMessage("Nothing to generate", 4000)
            return
        if self.generation is None:
            # TODO(engine): the app runs without an engine here (--no-engine, or it failed to start).
            self.statusBar().showMessage("The generation engine is not running (see the status bar)", 8000)
            return
        if self.doc.path is None and not self.save_as():
            return
        self.generation.generate(ids, takes=takes)

    def _job_label(self, job) -> str:
        row = self.doc.row_of(job.shot_id)
        prompt = " ".join(job.params.prompt.split())
        prompt = prompt if len(prompt) <= 26 else prompt[:25] + "…"
        return f"Shot {row + 1} · {prompt}" if row >= 0 else prompt

    # ================================================================================================
    # Files
    # ================================================================================================
    def maybe_save(self) -> bool:
        """Ask before throwing away unsaved changes. True = go ahead."""
        if not self.doc.is_dirty():
            return True
        B = QMessageBox.StandardButton  # noqa: N806
        answer = self.ask(self, APP_NAME, f"Save the changes to “{self.doc.title}”?",
                          B.Save | B.Discard | B.Cancel, B.Save)
        if answer == B.Save:
            return self.save()
        return answer == B.Discard

    def new_project(self) -> None:
        if not self.maybe_save():
            return
        name, _ = QFileDialog.getSaveFileName(self, "New project", str(Path.home() / f"Untitled{PROJECT_SUFFIX}"),
                                              f"Projects (*{PROJECT_SUFFIX})")
        if not name:
            return
        path = Path(name if name.endswith(PROJECT_SUFFIX) else name + PROJECT_SUFFIX)
        if self.doc.new(path, title=path.stem, settings=self.preferences.project_settings()) is None:
            self._remember(path)

    def open_project_dialog(self) -> None:
        if not self.maybe_save():
            return
        name = QFileDialog.getExistingDirectory(self, "Open project (a .vstudio folder)", str(Path.home()))
        if name:
            self.open_project(Path(name), ask=False)

    def open_project(self, path: Path, ask: bool = True) -> bool:
        """Open a project; when a newer autosave exists (a crash), offer to recover it."""
        if ask and not self.maybe_save():
            return False
        recover = False
        if ProjectDocument.recovery_available(path):
            B = QMessageBox.StandardButton  # noqa: N806
            answer = self.ask(self, "Recover unsaved work?",
                              f"“{Path(path).name}” has unsaved work newer than its last save — the studio may "
                              "have closed unexpectedly. Recover it?",
                              B.Yes | B.No, B.Yes)
            recover = answer == B.Yes
        if self.doc.open(path, recover=recover) is not None:
            return False
        if self.generation is not None:
            self.generation.restore()  # the jobs saved with this project
            self.generation.follow(self.preferences)  # this project's model
        self._remember(path)
        if self.doc.shot_count():
            self.doc.set_current_shot(self.doc.shot_at(0).id)
        return True

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        if self.doc.save() is None:
            self.statusBar().showMessage(f"Saved {self.doc.path.name}", 3000)
            return True
        return False

    def save_as(self) -> bool:
        start = str(Path.home() / f"{self.doc.title}{PROJECT_SUFFIX}")
        name, _ = QFileDialog.getSaveFileName(self, "Save project as", start, f"Projects (*{PROJECT_SUFFIX})")
        if not name:
            return False
        path = Path(name if name.endswith(PROJECT_SUFFIX) else name + PROJECT_SUFFIX)
        return self.doc.save_as(path) is None

    def import_storyboard(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import storyboard", str(Path.home()),
                                              "Storyboards (*.json *.csv)")
        if name and self.doc.import_storyboard(name) is None:
            self.statusBar().showMessage(f"Imported {Path(name).name}", 4000)

    def export(self) -> None:
        if self.doc.path is None:
            self.statusBar().showMessage("Save the project before exporting", 6000)
            return
        try:
            from studio.ui.export_dialog import ExportDialog  # the media engineer's dialog
        except ImportError:
            self.statusBar().showMessage("Export is not available in this build yet", 6000)
            return
        dialog = ExportDialog(self.doc.data, self.doc.path, self, preferences=self.preferences,
                              marks=self.viewer.film_marks())  # the film's in–out marks, if set
        dialog.exportFinished.connect(lambda path: self.statusBar().showMessage(f"Exported {Path(path).name}", 8000))
        dialog.exec()

    def _remember(self, path) -> None:
        if path is None:
            return
        try:
            self.preferences = prefs.add_recent_project(path, self.preferences)
        except Exception as e:  # noqa: BLE001 (a preferences write must never block opening a project)
            self.statusBar().showMessage(str(e), 6000)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = prefs.recent_projects(self.preferences)
        for p in paths:
            self.recent_menu.addAction(p.name.removesuffix(PROJECT_SUFFIX) + f"   ({p.parent})",
                                       lambda p=p: self.open_project(p))
        if not paths:
            self.recent_menu.addAction("No recent projects").setEnabled(False)

    # ================================================================================================
    # Settings, help, layout
    # ================================================================================================
    def open_settings(self) -> None:
        from studio.ui.preferences_dialog import PreferencesDialog

        dlg = PreferencesDialog(self.doc, self.preferences, self)
        if dlg.exec():
            self.preferences = dlg.preferences
            if dlg.engine_changed and self.generation is not None:
                self.generation.follow(self.preferences)

    def show_shortcuts(self) -> None:
        html = "<table cellspacing=6>" + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>"
                                                 for k, v in STUDIO_SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", html + "</table>")

    def show_about(self) -> None:
        QMessageBox.about(self, APP_NAME, f"<b>{APP_NAME}</b><br>Storyboard, generate, review and cut "
                          "video with a local U-ViT diffusion model.")

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for dock in (self.shots_dock, self.inspector_dock, self.timeline_dock, self.queue_dock):
            if dock is not None:
                dock.show()

    def _update_title(self) -> None:
        where = f" — {self.doc.path.name}" if self.doc.path is not None else " — not saved"
        self.setWindowTitle(f"{self.doc.title}[*]{where} — {APP_NAME}")
        self.setWindowModified(self.doc.is_dirty())

    def _update_project_label(self) -> None:
        s = self.doc.settings
        film = total_duration(self.timeline.scene.compute_spans())
        self.project_label.setText(f"{s.width}×{s.height} · {s.fps:g} fps · film {format_seconds(film, s.fps)}")

    def _update_engine_label(self) -> None:
        if self.generation is None or self.queue is None:
            self.engine_label.setText("Engine: off")
            return
        client = self.queue.client
        info = client.info
        state = client.state.value
        self.inspector.set_capabilities(capabilities_of(info))
        if info is not None and state in ("ready", "busy"):
            model = info.model_id or "model"
            if info.checkpoint_hash:
                model += f" ({info.checkpoint_hash[:8]})"
            self.engine_label.setText(f"{info.device} · {model} · {info.params / 1e6:.1f} M params · {state}")
            self.engine_label.setToolTip(f"Generation worker on {info.device}; native clips {info.frames} frames "
                                         f"of {info.width}×{info.height} at {info.fps:g} fps")
        elif client.last_error is not None and state == "failed":
            message = f"Engine failed: {client.last_error}"
            self.engine_label.setText(message if len(message) <= 70 else message[:69] + "…")
            self.engine_label.setToolTip(message)
        else:
            self.engine_label.setText(f"Engine {state}…")

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        # a SIGTERM / SIGINT (studio.app) quits without questions: the edits are autosaved already
        asked = QApplication.instance().property("vstudio_signal") is None
        pending = self.queue.pending() if self.queue is not None else []
        if asked and ((pending and not self._quit_with_jobs(len(pending))) or not self.maybe_save()):
            return e.ignore()
        self.player.pause()
        e.accept()

    def _quit_with_jobs(self, n: int) -> bool:
        B = QMessageBox.StandardButton  # noqa: N806
        jobs = f"{n} job{'s are' if n != 1 else ' is'}"
        return self.ask(self, APP_NAME, f"{jobs} still queued or generating. Quit anyway? They stay in the "
                        "project's queue and run again when you open it.", B.Yes | B.Cancel, B.Cancel) == B.Yes

    def restore_layout(self, geometry, state) -> None:
        """Window geometry and dock layout saved by a previous run (ignored when unreadable)."""
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
