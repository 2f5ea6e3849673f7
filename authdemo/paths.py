"""Where authdemo keeps its files: one private directory per user.

State lives outside the working directory so `down` finds a stack wherever it is run
from; `AUTHDEMO_HOME` moves it (tests, several classrooms on one machine).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError


def home() -> Path:
    """The private authdemo directory, created 0700 on first use; a UsageError (one sentence,
    exit 2) when it cannot be created or written."""
    given = os.environ.get("AUTHDEMO_HOME")
    path = Path(given or Path.home() / ".authdemo").expanduser()
    if path.exists() and not path.is_dir():  # mkdir would say only "File exists"
        what, example = (f"AUTHDEMO_HOME ({path})", "$HOME/.authdemo") if given else (path, "$HOME/authdemo")
        raise UsageError(
            f"{what} is a file, not a directory; set AUTHDEMO_HOME to a directory you can write "
            f"(e.g. AUTHDEMO_HOME={example}), or move that file away."
        )
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(path, exc.strerror or type(exc).__name__) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise _unusable(path, "not writable")
    return path


def _unusable(path: Path, why: str) -> UsageError:
    return UsageError(
        f"authdemo cannot keep its files in {path} ({why}); set AUTHDEMO_HOME to a directory "
        "you can write (e.g. AUTHDEMO_HOME=$HOME/.authdemo), or fix its permissions."
    )


def local_server_file() -> Path:
    """Runtime record of the embedded server started in the background (pid, port, who)."""
    return home() / "local-server.json"
