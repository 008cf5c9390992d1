"""The studio window quits on SIGTERM and SIGINT as it does when closed: the model worker stops with
it (no process outlives it), exit 143 / 130 and one line, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_helpers import alive, children, processes, signal_when

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_studio_quits_cleanly_on_a_signal(tmp_path, sig):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VSTUDIO_CONFIG_DIR": str(tmp_path / "config"),
           "VSTUDIO_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    worker: list[int] = []

    def started() -> bool:  # the window is up and the engine's worker process has been spawned
        kids = set(children(proc.pid))
        worker[:] = [p for p, _fields, cmd in processes() if p in kids and "python" in cmd]
        return bool(worker)

    _out, err = signal_when(proc, started, sig, "the worker started", timeout=90, settle=1.0)
    assert proc.returncode == 128 + sig, err
    assert f"vstudio: quit on {signal.Signals(sig).name}" in err and "Traceback" not in err, err
    time.sleep(0.5)
    assert not any(alive(w) for w in worker)


def test_a_signal_quits_even_with_jobs_queued(qtbot, tmp_path):
    """The close questions (jobs queued, unsaved edits) are for a person at the window; a SIGTERM
    from a service manager or a logout must not be stopped by a dialog nobody sees."""
    from engine_helpers import StubClient
    from PySide6.QtWidgets import QApplication

    from studio.engine.queue import JobQueue
    from studio.project.document import ProjectDocument
    from studio.project.schema import GenParams
    from studio.ui.main_window import MainWindow

    queue = JobQueue(StubClient(), tmp_path / "media")
    window = MainWindow(ProjectDocument(), queue=queue)
    qtbot.addWidget(window)
    queue.enqueue("s1", GenParams(prompt="x"))
    asked = []
    window.ask = lambda *a, **k: asked.append(a[2]) or a[-1]  # a person would press Cancel
    app = QApplication.instance()
    app.setProperty("vstudio_signal", 15)
    try:
        assert window.close() and asked == []
    finally:
        app.setProperty("vstudio_signal", None)
