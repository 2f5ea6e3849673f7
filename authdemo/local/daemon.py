"""Run the embedded server in the background, for `authdemo local start|status|stop`.

`up --local` must leave the local stack running after the command returns, so the
server lives in its own process (new session, output to `local-server.log` in
`authdemo.paths.home()`), and `paths.local_server_file()` records it. A record is trusted
only while its pid is alive *and* the health check at its port answers with that pid:
pids are reused, and ports are taken by other programs. A server outlives the command that
spawned it only once recorded (`_hand_over`): until then it stops itself if that command ends,
so none runs that `local status|stop` cannot see. One command at a time starts or stops it
(`local-server.lock`).

This module must stay cheap to import (no moto): the CLI imports it for every command.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from authdemo import paths
from authdemo.errors import ExitCode, PortInUseError, UnreachableError, UsageError
from authdemo.local import credentials as local_credentials
from authdemo.local import issuer as local_issuer
from authdemo.local.names import DEFAULT_PORT, HANDOVER, HEALTH_PATH, SERVICE_NAME, port_in_use_message
from authdemo.state import LockFile, atomic_write_json

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# Another authdemo starting (or stopping) the server holds its lock at most this long.
LOCK_TIMEOUT = START_TIMEOUT + STOP_TIMEOUT + 5.0
LOG_NAME = "local-server.log"
LOCK_NAME = "local-server.lock"

# Children this process spawned, kept so they are reaped (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ServerInfo:
    """The runtime record of a background server."""

    pid: int
    port: int
    url: str
    started_by: str  # "start" (authdemo local start) or "up" (authdemo up --local)
    started_at: str  # ISO 8601, UTC

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerInfo:
        return cls(
            pid=int(data["pid"]),
            port=int(data["port"]),
            url=str(data["url"]),
            started_by=str(data["started_by"]),
            started_at=str(data["started_at"]),
        )


def server_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def log_file() -> Path:
    return paths.home() / LOG_NAME


def health(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """The health answer of an authdemo server at `url`, or None if none answers there."""
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=timeout) as response:
            data = json.loads(response.read(4096))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    if isinstance(data, dict) and data.get("service") == SERVICE_NAME:
        return data
    return None


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound now (with the server's own socket options)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_in_use(port: int) -> PortInUseError:
    return PortInUseError(port_in_use_message(port))


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, but not ours to signal
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A server that exited but is not reaped yet (its parent, the `up` that started it, is gone
    and init reaps late) still answers kill(pid, 0); it is dead for our purposes."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc (macOS): trust kill()
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def _read() -> ServerInfo | None:
    try:
        data = json.loads(paths.read_text(paths.local_server_file()))
        return ServerInfo.from_json(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        _remove()  # unreadable record: as good as none
        return None


def _write(info: ServerInfo) -> None:
    """Atomically, 0600: readers see the old record or the new, never half."""
    atomic_write_json(paths.local_server_file(), asdict(info))


def _remove() -> None:
    with contextlib.suppress(FileNotFoundError):
        paths.local_server_file().unlink()


def _answers_as(info: ServerInfo) -> bool:
    answer = health(info.url)
    return answer is not None and answer.get("pid") == info.pid


def status() -> ServerInfo | None:
    """The running background server, or None; a stale record is removed on the way."""
    info = _read()
    if info is None:
        return None
    if _alive(info.pid) and _answers_as(info):
        return info
    _remove()
    return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def _server_lock(command: str) -> Iterator[None]:
    """Hold the embedded AWS's lock: one authdemo at a time starts (or stops) it, from the look
    at the record to the record written. A sibling `up --local` started at the same moment waits
    here, then finds the server this one started, instead of taking it for another program."""
    lock = LockFile(paths.home() / LOCK_NAME, command)
    deadline = time.monotonic() + LOCK_TIMEOUT
    while not lock.try_acquire():
        if time.monotonic() >= deadline:
            who = lock.holder or {}
            raise UnreachableError(
                f"`authdemo {who.get('command', '?')}` (pid {who.get('pid', '?')}) is still starting or "
                f"stopping the embedded AWS; see {log_file()}, or stop that command and retry."
            )
        time.sleep(0.05)
    try:
        yield
    finally:
        lock.release()


def start(port: int = DEFAULT_PORT, started_by: str = "start") -> ServerInfo:
    """Start a background server on `port` and return once it answers its health check.

    Already running there (a sibling's too): that one. On another port: UsageError. Port taken
    by another program: PortInUseError."""
    with _server_lock(started_by):
        return _start(port, started_by)


def _start(port: int, started_by: str) -> ServerInfo:
    running = status()
    if running is not None:
        if running.port == port:
            return running
        raise UsageError(
            f"The embedded AWS already runs on port {running.port}, not {port}: use --port "
            f"{running.port} (or drop --port), or stop it first with `authdemo local stop`."
        )
    url = server_url(port)
    if not port_is_free(port):
        answer = _settled_health(port)
        if answer is not None and isinstance(answer.get("pid"), int):
            # An authdemo server we have no record of (e.g. run in the foreground): adopt it.
            info = ServerInfo(answer["pid"], port, url, started_by, _now())
            _write(info)
            return info
        if not port_is_free(port):
            raise _port_in_use(port)
    child, handover = _spawn(port)
    try:
        info = _await_answer(child, port, started_by)
        with _ctrl_c_after():  # recorded, then told so, as one step
            _write(info)
            _hand_over(handover)
    finally:
        # Interrupted or failed before that: the pipe closes unsaid and the server stops itself.
        os.close(handover)
    return info


@contextlib.contextmanager
def _ctrl_c_after() -> Iterator[None]:
    """A Ctrl-C in the block is raised at its end (main thread only: where Python handles it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


def _settled_health(port: int) -> dict[str, Any] | None:
    """The health answer on `port` once no server whose starter died before recording it is
    there (it says `awaiting_handover` and stops itself: wait for it to go)."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while (answer := health(server_url(port))) and answer.get("awaiting_handover"):
        if time.monotonic() >= deadline:
            raise UnreachableError(
                f"An unrecorded embedded AWS holds port {port}: `kill {answer.get('pid')}` it."
            )
        time.sleep(0.1)
    return answer


def _await_answer(child: subprocess.Popen[bytes], port: int, started_by: str) -> ServerInfo:
    """The record of `child` once its health check answers; it is ended if it never does."""
    url = server_url(port)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            _children.pop(child.pid, None)
            if code == ExitCode.UNREACHABLE or not port_is_free(port):
                raise _port_in_use(port)
            raise UnreachableError(f"The local server exited at start (status {code}); see {log_file()}.")
        answer = health(url, timeout=0.5)
        if answer is not None and answer.get("pid") == child.pid:
            return ServerInfo(child.pid, port, url, started_by, _now())
        time.sleep(0.1)
    _terminate(child.pid)
    raise UnreachableError(
        f"The local server did not answer on {url} within {START_TIMEOUT:.0f} s; see {log_file()}."
    )


def server_credentials(info: ServerInfo) -> local_credentials.Credentials:
    """The access key the running server accepts (written by it, 0600, beside its record)."""
    found = local_credentials.load(info.port)
    if found is None:
        raise UnreachableError(
            f"The local server on port {info.port} left no credentials in "
            f"{local_credentials.credentials_file()}; restart it with `authdemo local stop` "
            "and `authdemo local start`."
        )
    return found


# What Python and the server need from the user's environment; nothing else (no AWS_*
# keys, no AUTHDEMO_PASSWORD) reaches the server or the functions it runs.
_SERVER_ENV = ("PATH", "HOME", "TMPDIR", "TEMP", "TMP", "LANG", "AUTHDEMO_HOME", "PYTHONPATH", "SYSTEMROOT")


def server_environment() -> dict[str, str]:
    """The background server's environment: a minimal copy of ours."""
    env = {k: v for k, v in os.environ.items() if k in _SERVER_ENV or k.startswith("LC_")}
    # The child must import this very authdemo, whatever the working directory.
    package_root = str(Path(paths.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _spawn(port: int) -> tuple[subprocess.Popen[bytes], int]:
    """The server process, and our end of its handover pipe (see `_hand_over`)."""
    env = server_environment()
    theirs, ours = os.pipe()
    args = ["--port", str(port), "--handover-fd", str(theirs)]
    try:
        # One run per log (what a user reads is this run), a new file: a link there is not followed.
        with paths.fresh_file(log_file()) as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "authdemo.local.server", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the terminal closing; not hit by its Ctrl-C
                close_fds=True,
                pass_fds=(theirs,),
                env=env,
            )
    except BaseException:
        os.close(ours)
        raise
    finally:
        os.close(theirs)
    _children[child.pid] = child
    return child, ours


def _hand_over(handover: int) -> None:
    """Tell the server it is recorded, so it may outlive us. Until then it stops itself when the
    pipe closes without this word: whatever ends us (Ctrl-C, kill -9) between the spawn and the
    record closes the pipe, so no server is left that `local status|stop` cannot see."""
    try:
        os.write(handover, HANDOVER)
    except OSError as exc:  # it died since it answered
        _remove()
        raise UnreachableError(f"The local server exited at start; see {log_file()}.") from exc


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            break
    _children.pop(pid, None)


def _is_our_server(info: ServerInfo) -> bool:
    """Whether the recorded pid still runs our server (guards against a reused pid)."""
    if _answers_as(info):
        return True
    try:
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"authdemo.local.server" in cmdline


def stop() -> bool:
    """Stop the background server; True if one was running. The record is removed. A start under
    way elsewhere is waited for, then stopped."""
    with _server_lock("local stop"):
        return _stop()


def _stop() -> bool:
    info = _read()
    if info is None:
        return False
    stopped = False
    if _alive(info.pid) and _is_our_server(info):
        _terminate(info.pid)
        stopped = True
    local_credentials.remove(info.pid)
    local_issuer.remove(info.pid)
    _remove()
    return stopped


def ensure(port: int = DEFAULT_PORT, started_by: str = "up") -> ServerInfo:
    """The running server (on any port), or a new one on `port`."""
    return status() or start(port, started_by)
