import os
import sys
from pathlib import Path

# A bare `pytest` must not abort on a machine without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep torch from oversubscribing the 2-core CI machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
