"""The background server's lifecycle (start, status, stop) and the server's own guards."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import free_port, run

from authdemo import paths
from authdemo.errors import BusyError, PortInUseError, UsageError
from authdemo.local import daemon
from authdemo.local.server import EmbeddedServer

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AUTHDEMO_HOME", str(tmp_path / "home"))
    yield paths.home()
    daemon.stop()  # never leave a server behind, whatever the test did


def gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not daemon._alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_start_status_health_stop(home: Path) -> None:
    """start() serves on the port and records it; status() finds it; stop() ends it."""
    port = free_port()
    info = daemon.start(port, "start")
    assert (info.port, info.url, info.started_by) == (port, f"http://127.0.0.1:{port}", "start")
    record = paths.local_server_file()
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert json.loads(record.read_text())["pid"] == info.pid
    assert daemon.status() == info
    health = requests.get(info.url + "/_authdemo/health", timeout=5).json()
    assert health["service"] == "authdemo-local"
    assert health["pid"] == info.pid != os.getpid()
    assert daemon.start(port, "up") == info  # already running there: the same one
    assert daemon.ensure(free_port(), "up") == info  # ensure accepts it on any port
    with pytest.raises(BusyError):
        daemon.start(free_port(), "start")
    assert daemon.stop() is True
    assert gone(info.pid)
    assert not record.exists()
    assert daemon.status() is None
    assert daemon.stop() is False
    assert "ready on" in (home / "local-server.log").read_text()


def test_background_server_gets_a_minimal_environment_and_its_own_key(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No AWS_* and no AUTHDEMO_PASSWORD reach the server; its key is written 0600 and removed at stop."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "presenter-secret")
    monkeypatch.setenv("AWS_PROFILE", "presenter")
    monkeypatch.setenv("AUTHDEMO_PASSWORD", "Presenter-Pass-1!")
    monkeypatch.setenv("SOME_TOKEN", "other-secret")
    info = daemon.start(free_port(), "start")
    environ = Path(f"/proc/{info.pid}/environ").read_bytes().split(b"\0")
    names = {entry.partition(b"=")[0].decode() for entry in environ if entry}
    assert not [n for n in names if n.startswith("AWS_") or n in ("AUTHDEMO_PASSWORD", "SOME_TOKEN")]
    assert {"PATH", "AUTHDEMO_HOME"} <= names
    keys_file = home / "local-credentials.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    keys = daemon.server_credentials(info)
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", keys.access_key) and len(keys.secret_key) == 40
    assert keys.secret_key not in repr(keys)
    assert daemon.stop() is True
    assert not keys_file.exists()


def test_ensure_starts_one_when_none_runs(home: Path) -> None:
    """ensure() starts a server when none runs and records who asked for it."""
    info = daemon.ensure(free_port(), "up")
    assert info.started_by == "up"
    assert daemon.status() == info


def test_port_in_use_is_detected_before_spawning(home: Path, held_port: int) -> None:
    """A port taken by another program raises PortInUseError naming the port and the fix."""
    with pytest.raises(PortInUseError) as caught:
        daemon.start(held_port, "start")
    assert str(held_port) in caught.value.message
    assert "--port" in caught.value.message
    assert "authdemo local stop" in caught.value.message
    assert not paths.local_server_file().exists()
    assert not (home / "local-server.log").exists()  # nothing was spawned


def test_port_taken_after_the_check_is_reported_when_the_child_dies(
    home: Path, held_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the port is taken between the check and the bind, the child's exit is PortInUseError."""
    checks = iter([True])
    real = daemon.port_is_free
    monkeypatch.setattr(daemon, "port_is_free", lambda port: next(checks, None) or real(port))
    with pytest.raises(PortInUseError) as caught:
        daemon.start(held_port, "up")
    assert str(held_port) in caught.value.message
    assert "already in use" in (home / "local-server.log").read_text()
    assert not paths.local_server_file().exists()


def test_stale_record_of_a_dead_pid_is_removed(home: Path) -> None:
    """A runtime file whose pid is dead is removed and status() says nothing runs."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = daemon.ServerInfo(dead.pid, free_port(), "http://127.0.0.1:1", "up", "then")
    daemon._write(record)
    assert daemon.status() is None
    assert not paths.local_server_file().exists()


def test_stale_record_of_a_live_foreign_pid_is_removed_not_killed(home: Path) -> None:
    """A record whose pid lives but does not answer as our server is dropped; the pid is spared."""
    port = free_port()
    daemon._write(daemon.ServerInfo(os.getpid(), port, f"http://127.0.0.1:{port}", "up", "then"))
    assert daemon.status() is None
    assert not paths.local_server_file().exists()
    daemon._write(daemon.ServerInfo(os.getpid(), port, f"http://127.0.0.1:{port}", "up", "then"))
    assert daemon.stop() is False  # we are still alive: it did not signal us
    assert not paths.local_server_file().exists()


def test_corrupt_record_is_treated_as_none(home: Path) -> None:
    """An unreadable runtime file does not break status()."""
    paths.local_server_file().write_text("{not json")
    assert daemon.status() is None
    assert not paths.local_server_file().exists()


def test_foreground_server_prints_ready_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`python -m authdemo.local.server` announces itself and exits 0 on SIGTERM."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "authdemo.local.server", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"ready on http://127.0.0.1:{port}" in line
        assert requests.get(f"http://127.0.0.1:{port}/_authdemo/health", timeout=5).json()["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_foreground_server_reports_a_taken_port(held_port: int) -> None:
    """The foreground server exits with the UNREACHABLE status and one sentence."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "authdemo.local.server", "--port", str(held_port)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 7
    assert f"Port {held_port} is already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_embedded_server_refuses_a_taken_port(held_port: int) -> None:
    """EmbeddedServer raises PortInUseError instead of werkzeug's sys.exit."""
    with pytest.raises(PortInUseError) as caught:
        EmbeddedServer(port=held_port).start()
    assert str(held_port) in caught.value.message


def test_embedded_server_binds_loopback_only() -> None:
    """Any host but loopback is refused: the server accepts any credentials."""
    with pytest.raises(UsageError):
        EmbeddedServer(host="0.0.0.0")
    with EmbeddedServer() as server:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}"
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) == 0
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # stop() closed the socket


# ------------------------------------------------------------------ sweep after a restart
def test_sweep_after_a_restart_reports_only_what_the_new_server_has(home: Path) -> None:
    """After the embedded AWS restarted, `down --sweep --local` finds (and "deletes") none of the
    old server's resources: they went with it; the state file that recorded them goes too."""
    port = free_port()
    assert run("up", "--local", "--port", str(port)).exit_code == 0
    assert daemon.stop() is True
    daemon.start(port, "start")
    gone = run("down", "--sweep", "--yes", "--local", "--port", str(port), "--output", "json")
    assert gone.exit_code == 0, gone.output
    assert json.loads(gone.stdout) == {"found": [], "deleted": False}
    assert "deleted" not in gone.stderr
    assert not (home / "authdemo.local.json").exists()  # it recorded only what is gone
