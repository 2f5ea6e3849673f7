"""Where authdemo keeps its files: one private directory per user.

State lives outside the working directory so `down` finds a stack wherever it is run
from; `AUTHDEMO_HOME` moves it (tests, several classrooms on one machine).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The private authdemo directory, created 0700 on first use."""
    path = Path(os.environ.get("AUTHDEMO_HOME") or Path.home() / ".authdemo").expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def local_server_file() -> Path:
    """Runtime record of the embedded server started in the background (pid, port, who)."""
    return home() / "local-server.json"
