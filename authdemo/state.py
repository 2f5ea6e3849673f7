"""The state file: every resource ID, recorded the moment AWS returns it.

One JSON file per stack (`~/.authdemo/<stack>.json`, `<stack>.local.json` for the
embedded AWS), mode 0600 because it holds the demo user's password. Every change is a
whole-file atomic replace (write a temp file, fsync, `os.replace`), so a `kill -9` leaves
either the old or the new file, never half of one. Worker threads share one
:class:`StateStore`; its lock makes it the only writer.

A file we cannot read (empty, truncated, not JSON, unknown or newer schema) is never
overwritten: the command stops and says where it is; `--state-file` or moving it aside
are the fixes.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import shlex
import socket
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from .errors import BusyError, StateError, UsageError
from .paths import NOFOLLOW

SCHEMA_VERSION = 1


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` in one step, readable by the owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            # one write: json.dump would hand the file a few hundred pieces (twice the time)
            handle.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class CorruptStateError(StateError):
    """An unreadable state file; `quarantine` keeps it aside and the message says where."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"The state file {path} {problem}.")

    def kept_aside(self, moved_to: Path) -> StateError:
        return StateError(
            f"The state file {self.path} {self.problem}; it was kept as {moved_to}. "
            "Run `authdemo up` to adopt the stack's resources by name and tag, "
            "or `authdemo down --sweep` to delete them."
        )


# The fields authdemo reads, and their types (None is "not set"; other fields are kept, unread).
_NUMBER = (int, float)
_SETTINGS: dict[str, type | tuple[type, ...]] = {
    **dict.fromkeys(["stack", "region", "endpoint_url", "account_id", "issuer", "created", "updated"], str),
    **dict.fromkeys(["username", "password", "student_password"], str),
    "local": bool,
    "callback_port": int,
    "server_pid": int,
    "audience": list,
}
_RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    **dict.fromkeys(
        ("id", "arn", "name", "sid", "source_arn", "uri", "issuer", "url", "endpoint", "username", "group"),
        str,
    ),
    "confirmed": bool,
    "created_at": _NUMBER,
    "endpoints": dict,
}


def _typed(value: Any, kind: type | tuple[type, ...]) -> bool:
    """`isinstance`, except that a bool is no number (JSON's true is not a port)."""
    return value is None or (isinstance(value, kind) and (kind is bool or not isinstance(value, bool)))


def _shape_problem(data: dict[str, Any]) -> str | None:
    """What makes a state of this schema unusable (a field authdemo reads of the wrong type), or None."""
    for key, kind in _SETTINGS.items():
        if not _typed(data.get(key), kind):
            return f"has a {key!r} of the wrong type ({type(data[key]).__name__})"
    if not all(isinstance(a, str) for a in data.get("audience") or []):
        return "has an 'audience' that is not a list of strings"
    for name, rec in data.get("resources", {}).items():
        if not isinstance(rec, dict):
            return f"has a resource {name!r} that is not an object"
        for key, kind in _RECORD_FIELDS.items():
            if not _typed(rec.get(key), kind):
                return f"has a resource {name!r} whose {key!r} is of the wrong type"
        if not all(isinstance(v, str) for v in (rec.get("endpoints") or {}).values()):
            return f"has a resource {name!r} whose 'endpoints' are not all strings"
    return None


def read_state(path: Path) -> dict[str, Any] | None:
    """The parsed state, None when there is no file; StateError when it is unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(
            f"Cannot read the state file {path}: {exc.strerror}; check its permissions."
        ) from exc
    if not raw.strip():
        raise CorruptStateError(path, "is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CorruptStateError(path, "is not UTF-8 text") from exc
    except ValueError as exc:
        raise CorruptStateError(path, "is not valid JSON (truncated?)") from exc
    except RecursionError as exc:  # json's parser recurses once per nesting level
        raise CorruptStateError(path, "is nested too deeply to be an authdemo state file") from exc
    if not isinstance(data, dict) or not isinstance(data.get("resources", {}), dict):
        raise CorruptStateError(path, "is not an authdemo state file")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CorruptStateError(path, f"has an unknown schema version ({version!r})")
    if version > SCHEMA_VERSION:
        raise StateError(
            f"The state file {path} was written by a newer authdemo (schema {version}); "
            "upgrade authdemo (`pip install -U authdemo`) to use it."
        )
    problem = _shape_problem(data)  # of this schema: a newer one may type its fields otherwise
    if problem:
        raise CorruptStateError(path, problem)
    return data


class StateStore:
    """Thread-safe, write-through view of one stack's state file."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self._data = data
        self._lock = threading.RLock()
        self._on_disk = False  # known to exist (this object wrote it, or found it there)

    @classmethod
    def load(cls, path: Path) -> StateStore | None:
        data = read_state(path)
        return None if data is None else cls(path, data)

    @classmethod
    def new(cls, path: Path, **fields: Any) -> StateStore:
        data = {"schema_version": SCHEMA_VERSION, "created": _now(), "resources": {}, **fields}
        return cls(path, data)

    # -- reading -------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return copy.deepcopy(self._data.get(key, default))

    def resource(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            rec = self._data["resources"].get(key)
            return dict(rec) if rec else None

    def resources(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._data["resources"])

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data)

    # -- writing (each call is one atomic replace of the file) -----------------------------
    def set(self, **fields: Any) -> None:
        """Update settings; written only once the file exists (a new stack's file appears just
        before its first create, so a command that fails before that leaves no file)."""
        with self._lock:
            self._data.update(fields)
            if self._data["resources"] or self.path.exists():
                self._save()

    def record(self, key: str, **ids: Any) -> None:
        """Remember (or extend) a resource's IDs; called right after AWS returns them."""
        with self._lock:
            self._data["resources"].setdefault(key, {}).update(ids)
            self._save()

    def before_create(self) -> None:
        """Write the file if it is not there yet: called right before every create, so that a
        run killed between AWS's answer and the record still leaves a file, which makes a later
        `down` look for the stack's resources by name and tag (without it, `down` has no stack)."""
        with self._lock:
            if not self._on_disk and not self.path.exists():
                self._save()
            self._on_disk = True

    def forget(self, *keys: str) -> None:
        with self._lock:
            changed = False
            for key in keys:
                changed |= self._data["resources"].pop(key, None) is not None
            if changed:
                self._save()

    def remove_file(self) -> None:
        with self._lock, contextlib.suppress(FileNotFoundError):
            self._on_disk = False
            self.path.unlink()

    def _save(self) -> None:
        self._data["updated"] = _now()
        atomic_write_json(self.path, self._data)
        self._on_disk = True


def quarantine(path: Path, kind: str = "corrupt") -> Path:
    """Keep a state file aside as `<name>.<kind>-<time>` (never overwrite it); returns where it
    went. `corrupt`: unreadable; `forgotten`: `authdemo forget`."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{kind}-{stamp}")
    if target.exists():
        target = target.with_name(f"{target.name}-{os.getpid()}")
    os.replace(path, target)
    return target


# -- one writer per stack ---------------------------------------------------------------------
if sys.platform == "win32":  # pragma: no cover
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False


# Never through a symlink (paths.NOFOLLOW): a lock file that is a link (planted, or left by hand)
# is refused, so taking a lock never creates or truncates a file elsewhere.


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` (not followed) is still the file open as `fd`."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


class LockFile:
    """An exclusive lock held by the OS on `path`, so a killed holder frees it at once; the file
    names its holder (pid, command, start time) so another can say who is busy.

    The file exists only while held (or once a holder was killed): `release` removes it while
    still holding it. Whoever locked it meanwhile holds a file no longer at `path`, sees that
    and locks the new one, so two holders never overlap and no lock files pile up, one per
    stack name ever used. A file left by a dead process is simply taken over.
    """

    def __init__(self, path: Path, command: str) -> None:
        self.path = path
        self.command = command
        self._fd: int | None = None
        self.holder: dict[str, Any] | None = None  # who holds it, after a refused try_acquire
        self.took_over_from: dict[str, Any] | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False (and `holder` says who has it) if not."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o600)
            except OSError as exc:
                if not self.path.is_symlink():
                    raise
                raise UsageError(
                    f"The lock file {self.path} is a symbolic link, which authdemo never follows; "
                    f"remove it (`rm {shlex.quote(str(self.path))}`) and retry."
                ) from exc
            try:
                locked = _try_lock(fd)
                current = _same_file(fd, self.path)
                if current and not locked:
                    self.holder = self._read_holder(fd)
            except BaseException:
                os.close(fd)
                raise
            if current and locked:
                break
            os.close(fd)  # removed by a releasing holder: lock the file at `path` now
            if current:
                return False
        previous = self._read_holder(fd)
        if previous and previous.get("pid") != os.getpid():
            self.took_over_from = previous  # its process is gone: the OS released the lock
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        holder = {
            "pid": os.getpid(),
            "command": self.command,
            "started": _now(),
            "host": socket.gethostname(),
        }
        os.write(fd, json.dumps(holder).encode())
        os.fsync(fd)
        self._fd = fd
        return True

    @staticmethod
    def _read_holder(fd: int) -> dict[str, Any] | None:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            raw = os.read(fd, 4096)
            data = json.loads(raw) if raw.strip() else None
            return data if isinstance(data, dict) else None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        """Remove the file, then let go (closing drops the lock)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _same_file(fd, self.path):
                os.unlink(self.path)
        except OSError:  # not removable here (e.g. Windows, while open): leave it empty
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)


class StackLock(LockFile):
    """The one writer of a stack: `<state file>.lock`."""

    def __init__(self, state_path: Path, command: str) -> None:
        super().__init__(state_path.with_name(state_path.name + ".lock"), command)

    def acquire(self) -> StackLock:
        if not self.try_acquire():
            holder = self.holder
            who = (
                f"`authdemo {holder.get('command', '?')}` (pid {holder.get('pid', '?')}, "
                f"since {holder.get('started', '?')})"
                if holder
                else "another authdemo process"
            )
            raise BusyError(f"This stack is in use by {who}; wait for it to finish, or stop it and retry.")
        return self

    def __enter__(self) -> StackLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
