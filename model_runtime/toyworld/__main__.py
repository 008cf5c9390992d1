"""`python -m model_runtime.toyworld`: see cli.py."""

import sys

from model_runtime.toyworld.cli import main

sys.exit(main())
