"""Nothing the diffusers backend does may touch the network: importing this module sets the Hugging
Face libraries' offline switches in os.environ. huggingface_hub reads them once, when it is first
imported, so the backend imports this before diffusers / transformers (which import the hub);
`ensure()` also flips the hub's flag when something imported it earlier in the process. Loading
then passes `local_files_only=True` as well, so a missing file is an error, never a download."""

from __future__ import annotations

import os
import sys

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DISABLE_TELEMETRY": "1",  # diffusers' own switch
}

os.environ.update(OFFLINE_ENV)


def ensure() -> None:
    """Offline even if the hub was imported before this module (its flag is read at import)."""
    os.environ.update(OFFLINE_ENV)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True
        constants.HF_HUB_DISABLE_TELEMETRY = True
