"""Where authdemo keeps its files: one private directory per user.

State lives outside the working directory so `down` finds a stack wherever it is run
from; `AUTHDEMO_HOME` moves it (tests, several classrooms on one machine).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
from pathlib import Path
from typing import BinaryIO

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
    _check_private(path, bool(given))
    return path


def _check_private(path: Path, given: bool) -> None:
    """Refuse a home another user could change, as ssh's StrictModes does: the directory must be
    ours and not group/world-writable; a given AUTHDEMO_HOME's parents must be ours or root's and
    not writable by others unless sticky (/tmp), or another user could swap the directory. For the
    default ~/.authdemo nothing above is checked (it is the user's own home)."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is None:  # pragma: no cover - Windows: no POSIX modes to check
        return
    info = path.stat()
    what = f"AUTHDEMO_HOME ({path})" if given else str(path)
    fix = "set AUTHDEMO_HOME to a directory of your own that only you can write"
    if info.st_uid != uid:
        raise UsageError(
            f"{what} belongs to another user (uid {info.st_uid}), who could read or replace the keys "
            f"and passwords authdemo keeps there; {fix}."
        )
    if info.st_mode & 0o022:
        raise UsageError(
            f"{what} is writable by other users (mode {stat.S_IMODE(info.st_mode):o}), who could plant "
            f"links there; run `chmod go-w {shlex.quote(str(path))}`, or {fix}."
        )
    if not given:
        return
    link = path.lstat()  # AUTHDEMO_HOME may be a link: only its owner can point it elsewhere
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (0, uid):
        raise UsageError(f"{what} is a link that belongs to another user (uid {link.st_uid}); {fix}.")
    for parent in path.resolve().parents:
        info = parent.stat()
        if info.st_uid not in (0, uid) or (info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX):
            raise UsageError(
                f"{what} is inside {parent}, which another user can change (owner uid {info.st_uid}, "
                f"mode {stat.S_IMODE(info.st_mode):o}), so they could swap the directory; {fix}."
            )


#: Never through a symlink (0 where the OS has no such flag).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def read_text(path: Path) -> str:
    """A file authdemo wrote itself (server record, keys, kept tokens), read without following a
    symlink at its name: a planted link is an OSError, as a missing file is, never another key."""
    with os.fdopen(os.open(path, os.O_RDONLY | NOFOLLOW), "rb") as handle:
        return handle.read().decode("utf-8")


def fresh_file(path: Path) -> BinaryIO:
    """A new, empty 0600 file at `path`, open for writing: made under another name, then moved
    there in one step, so a link (or anything else) at `path` is replaced, never written through."""
    import tempfile  # not at import: `authdemo --help` reads no file

    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return os.fdopen(fd, "wb")


def write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace `path` with `text` in one step (a reader never sees half of it; a link at `path`
    is replaced, not written through), with `mode`: a file written for the user to keep."""
    import tempfile

    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _unusable(path: Path, why: str) -> UsageError:
    return UsageError(
        f"authdemo cannot keep its files in {path} ({why}); set AUTHDEMO_HOME to a directory "
        "you can write (e.g. AUTHDEMO_HOME=$HOME/.authdemo), or fix its permissions."
    )


def local_server_file() -> Path:
    """Runtime record of the embedded server started in the background (pid, port, who)."""
    return home() / "local-server.json"
