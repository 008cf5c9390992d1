"""Application start: QApplication on a qasync loop, the dark theme, the engine, the main window.

`run()` opens a project (the demo project by default, so a new user can press Generate at once),
offering to recover a newer autosave after a crash, and starts the generation worker in the
background; the window is usable while the model loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

SCREENSHOT_ENV = "VSTUDIO_SCREENSHOT"  # path.png: grab the window after a second and quit
SCREENSHOT_DELAY_ENV = "VSTUDIO_SCREENSHOT_DELAY_MS"  # how long to wait before grabbing (default 1000)
NO_ENGINE_ENV = "VSTUDIO_NO_ENGINE"  # 1: do not start the worker process


def _make_engine(doc, preferences):
    """The engine client + job queue + the controller that binds them to the document."""
    from studio.engine.client import EngineClient, WorkerOptions
    from studio.engine.queue import JobQueue
    from studio.ui.generation import GenerationController

    client = EngineClient(WorkerOptions(checkpoint=preferences.checkpoint or None, device=preferences.device,
                                        savers=preferences.savers()))
    folder = doc.path or Path.cwd()
    queue = JobQueue(client, Path(folder) / "media", doc.path)
    return client, queue, GenerationController(doc, queue)


async def _start_engine(client, window) -> None:
    from studio.errors import StudioError

    try:
        await client.start()
    except (StudioError, Exception) as e:  # noqa: BLE001 (any start failure is shown, never raised)
        message = getattr(e, "message", None) or str(e) or type(e).__name__
        window.statusBar().showMessage(f"The generation engine could not start: {message}", 15000)
    window._update_engine_label()


def _quit_on_signals(app, doc, got: list[int]):
    """SIGINT and SIGTERM quit the studio the way closing it does (the worker is stopped, nothing is
    left running), after an autosave of unsaved edits, so the next start offers to recover them.
    Python runs signal handlers only between bytecodes: a timer gives it a moment while Qt waits."""
    import signal

    from PySide6.QtCore import QTimer

    def on_signal(signum, _frame) -> None:
        if not got:
            got.append(signum)
            if doc.path is not None and doc.is_dirty():
                doc.autosave_now()
            app.setProperty("vstudio_signal", int(signum))  # the window closes without asking
            app.quit()

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, on_signal)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return timer


def run(project: str | Path | None = None, engine: bool | None = None, screenshot: str | None = None) -> int:
    import qasync
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from studio.errors import StudioError
    from studio.project.demo import ensure_demo_project
    from studio.project.document import ProjectDocument
    from studio.project.preferences import config_dir, load_preferences_checked, recent_projects
    from studio.ui.main_window import MainWindow
    from studio.ui.screenshot import screenshot_later
    from studio.ui.theme import apply_theme

    if engine is None:
        engine = os.environ.get(NO_ENGINE_ENV, "") not in ("1", "true", "yes")
    screenshot = screenshot or os.environ.get(SCREENSHOT_ENV) or None

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Video Diffusion Studio")
    app.setOrganizationName("vstudio")
    apply_theme(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    preferences, preferences_error = load_preferences_checked()
    doc = ProjectDocument()
    client = queue = generation = None
    if engine:
        client, queue, generation = _make_engine(doc, preferences)
    window = MainWindow(doc, preferences, generation=generation, queue=queue)

    doc.default_params = preferences.gen_defaults()
    layout = QSettings(str(config_dir() / "layout.ini"), QSettings.Format.IniFormat)
    window.restore_layout(layout.value("geometry"), layout.value("state"))
    window.show()  # first, so that a recovery question or an error sits on top of the studio

    def open_start_project() -> None:
        try:
            # The project asked for, else the one worked on last, else (first start) the demo project.
            recent = recent_projects(preferences)
            path = Path(project) if project else (recent[0] if recent else ensure_demo_project(preferences))
        except StudioError as e:
            window.statusBar().showMessage(e.message, 15000)
            return
        if not window.open_project(path, ask=False):
            QMessageBox.warning(window, "Could not open the project",
                                window.statusBar().currentMessage() or f"Could not open {path}")
            return
        if preferences_error is not None:
            window.statusBar().showMessage(preferences_error.message, 10000)

    QTimer.singleShot(0, open_start_project)

    start_task = loop.create_task(_start_engine(client, window)) if client is not None else None
    if screenshot:
        screenshot_later(window, screenshot, int(os.environ.get(SCREENSHOT_DELAY_ENV, "1000")))

    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)
    signalled: list[int] = []
    _signal_timer = _quit_on_signals(app, doc, signalled)  # noqa: F841 (kept alive with the app)

    def save_layout() -> None:  # where the user put the panels, for next time
        layout.setValue("geometry", window.saveGeometry())
        layout.setValue("state", window.saveState())
        layout.sync()

    app.aboutToQuit.connect(save_layout)
    with loop:
        loop.run_until_complete(closing.wait())
        if start_task is not None and not start_task.done():
            start_task.cancel()  # quitting while the model still loads
            with contextlib.suppress(asyncio.CancelledError, Exception):
                loop.run_until_complete(start_task)
        if client is not None:
            client.close()
    if signalled:
        import signal

        name = signal.Signals(signalled[0]).name
        print(f"vstudio: quit on {name}" + (" (unsaved edits autosaved: the next start offers them)"
                                            if doc.path is not None and doc.is_dirty() else ""), file=sys.stderr)
        return 128 + signalled[0]
    return 0
