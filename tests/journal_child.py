"""A studio session for tests/test_project_journal.py to kill (not a test module).

    python tests/journal_child.py FOLDER START

Opens the project as the studio does after a crash (recovering when something is offered), then types
into the first shot's prompt every 2 ms: prompt "edit N" for N = START, START+1, ..., printing N once
`set_params` has returned. Engine edits (queued / cleared on the second shot) come in between, and
every 1999th edit saves, so a kill can land in a save, a journal write or a compaction.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QCoreApplication, QTimer  # noqa: E402

from studio.project.document import ProjectDocument  # noqa: E402


def main() -> int:
    folder, n = Path(sys.argv[1]), int(sys.argv[2])
    app = QCoreApplication([])
    doc = ProjectDocument()
    err = doc.open(folder, recover=ProjectDocument.recovery_available(folder))
    if err is not None:
        print(f"open failed: {err}", file=sys.stderr, flush=True)
        return 3
    doc.errorOccurred.connect(lambda kind, msg: print(f"ERROR-OCCURRED {kind}: {msg}", file=sys.stderr, flush=True))
    typed, other = doc.shot_at(0).id, doc.shot_at(1).id

    def step() -> None:
        nonlocal n
        doc.set_params(typed, prompt=f"edit {n}")
        if n % 10 == 3:
            doc.mark_queued([other])
        elif n % 10 == 7:
            doc.clear_engine_status([other])
        if n % 1999 == 1000:
            doc.save()
        print(n, flush=True)
        n += 1

    timer = QTimer()
    timer.timeout.connect(step)
    timer.start(2)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
