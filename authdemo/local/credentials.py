"""The embedded AWS's own access key: generated per server, kept 0600 beside its record.

A server started with `python -m authdemo.local.server` (what `authdemo local start`
spawns) writes `local-credentials.json` in `authdemo.paths.home()` (0700) as soon as it
has its port; `authdemo up|test|down --local` and `authdemo local env` sign with it. Only
the user who owns that directory can read the key, so only they can use the server.
Cheap to import: the CLI reads the file without loading moto or werkzeug.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path

from authdemo import paths
from authdemo.local import published
from authdemo.local.names import CREDENTIALS_NAME

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass(frozen=True)
class Credentials:
    """An access key pair; the secret stays out of reprs and logs."""

    access_key: str
    secret_key: str = field(repr=False)

    @classmethod
    def generate(cls) -> Credentials:
        """A fresh pair shaped like an IAM user's key (`AKIA` + 16, secret of 40)."""
        access = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
        return cls(access, secret)


def credentials_file() -> Path:
    return paths.home() / CREDENTIALS_NAME


def save(credentials: Credentials, port: int, pid: int) -> None:
    """Atomically, 0600, so no reader sees half a key and no other user any."""
    fields = {"access_key": credentials.access_key, "secret_key": credentials.secret_key}
    published.write(credentials_file(), port, pid, fields)


def load(port: int) -> Credentials | None:
    """The key of the server on `port`, or None (no file, unreadable, or another server's)."""
    data = published.read(credentials_file(), port)
    if data is None or "access_key" not in data or "secret_key" not in data:
        return None
    return Credentials(str(data["access_key"]), str(data["secret_key"]))


def remove(pid: int) -> None:
    """Remove the file if it is this server's (a newer server may have replaced it)."""
    published.remove(credentials_file(), pid)
