"""The tokens of `authdemo login`, kept for `test`, `token` and `open`.

One JSON file beside the stack's state file (`<state file>.tokens`), written by
`state.atomic_write_json` (atomic replace, mode 0600): the refresh token is a credential. Kept
tokens are used only while both JWTs are unexpired and were issued to the stack's current app
client; anything unreadable is treated as absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from .. import paths
from ..state import atomic_write_json
from ..tokens import decode

#: Kept tokens are not used in their last minute: a request must not race their expiry.
MARGIN = 60


def tokens_path(state_file: Path) -> Path:
    return state_file.with_name(state_file.name + ".tokens")


def save(
    state_file: Path, client_id: str, answer: dict[str, Any], refresh: str | None = None
) -> dict[str, Any]:
    """Keep the token endpoint's answer (`refresh`: the one to keep when the answer has none,
    as after a refresh_token grant); returns the record written."""
    claims = decode(answer["id_token"])[1]
    access_claims = decode(answer["access_token"])[1]
    record = {
        "client_id": client_id,
        "username": claims.get("cognito:username") or access_claims.get("username"),
        "id": answer["id_token"],
        "access": answer["access_token"],
        "refresh": answer.get("refresh_token") or refresh,
        "expires_at": min(int(claims.get("exp", 0)), int(access_claims.get("exp", 0))),
        "obtained": int(time.time()),
    }
    atomic_write_json(tokens_path(state_file), record)
    return record


def load(state_file: Path) -> dict[str, Any] | None:
    """The kept record, or None (no file, or one authdemo cannot read)."""
    try:
        data = json.loads(paths.read_text(tokens_path(state_file)))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("id", "access")):
        return None
    return data


def usable(record: dict[str, Any] | None, client_id: str | None, now: float | None = None) -> bool:
    """Issued to this app client and not about to expire."""
    if not record or record.get("client_id") != client_id:
        return False
    now = time.time() if now is None else now
    return int(record.get("expires_at") or 0) > now + MARGIN


def remove(state_file: Path) -> bool:
    """Forget the kept tokens; True when there were some."""
    with contextlib.suppress(FileNotFoundError):
        tokens_path(state_file).unlink()
        return True
    return False


def set_aside(state_file: Path, kept: Path) -> Path | None:
    """`authdemo forget`: the kept tokens follow the state file aside (`<kept>.tokens`, still 0600),
    so a new stack of the same name never finds them; returns where they went."""
    try:
        os.replace(tokens_path(state_file), tokens_path(kept))
    except FileNotFoundError:
        return None
    return tokens_path(kept)


def until(record: dict[str, Any]) -> str:
    """When the kept tokens expire, for the one line that says they are used."""
    return time.strftime("%H:%M UTC", time.gmtime(int(record.get("expires_at") or 0)))
