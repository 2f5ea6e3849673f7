"""Files a running embedded AWS publishes for its CLI in `authdemo.paths.home()` (0700): its
access key (`credentials.py`) and its issuer's key (`issuer.py`).

Each is written atomically, 0600, with the server's port and pid; a reader takes it only for the
port it asks about, and only the server that wrote it removes it (a newer server on the same home
may have replaced it). Cheap to import: no moto, no werkzeug.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from authdemo import paths
from authdemo.state import atomic_write_json

_UNREADABLE = (OSError, ValueError, KeyError, TypeError)


def write(path: Path, port: int, pid: int, fields: dict[str, Any]) -> None:
    atomic_write_json(path, {"port": port, "pid": pid, **fields})


def read(path: Path, port: int) -> dict[str, Any] | None:
    """The record of the server on `port`, or None (no file, unreadable, or another server's)."""
    try:
        data = json.loads(paths.read_text(path))
        return data if isinstance(data, dict) and int(data["port"]) == port else None
    except _UNREADABLE:
        return None


def remove(path: Path, pid: int) -> None:
    """Remove the file if the server `pid` wrote it."""
    with contextlib.suppress(*_UNREADABLE):
        if int(json.loads(paths.read_text(path))["pid"]) == pid:
            path.unlink()
