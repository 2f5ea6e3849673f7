"""The owner's local inbox: where the embedded Cognito "sends" its confirmation codes.

On AWS, Cognito emails a sign-up or password-reset code; offline there is no mail, and a code
anyone could read would let anyone take over an account (issue 20, finding 2). So the embedded
AWS writes each message to `local-inbox.json` in `authdemo.paths.home()` (0700): atomically,
0600, by replacing the file (a symlink planted there is replaced, never followed, and never read
through), keeping the newest `KEEP` messages. `authdemo local inbox` prints them; only the user
who owns that directory can. Cheap to import: no moto, no werkzeug.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from authdemo import paths
from authdemo.state import atomic_write_json

INBOX_NAME = "local-inbox.json"
KEEP = 50  # messages kept: enough for a class, not a file that grows forever
MAX_BYTES = 1024 * 1024
_lock = threading.Lock()  # the server is threaded: two deliveries must not lose each other


def inbox_file() -> Path:
    return paths.home() / INBOX_NAME


def read(path: Path | None = None) -> list[dict[str, Any]]:
    """The messages, oldest first; [] when there is no inbox, or it is not ours to read (a
    symlink, not a regular file, not JSON)."""
    path = path or inbox_file()
    try:
        fd = os.open(path, os.O_RDONLY | paths.NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return []
    with os.fdopen(fd, "rb") as handle:
        try:
            data = json.loads(handle.read(MAX_BYTES + 1)[:MAX_BYTES])
        except (OSError, ValueError):
            return []
    messages = data.get("messages") if isinstance(data, dict) else None
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def deliver(message: dict[str, Any]) -> Path:
    """Append `message` to the inbox (the newest KEEP kept); returns the inbox's path."""
    path = inbox_file()
    with _lock:
        messages = [*read(path), message][-KEEP:]
        atomic_write_json(path, {"messages": messages})
    return path


def clear() -> None:
    """Remove the inbox (the link itself if it is one)."""
    with _lock, contextlib.suppress(OSError):
        inbox_file().unlink()
