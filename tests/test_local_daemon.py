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
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from conftest import free_port, run

from authdemo import paths
from authdemo.errors import PortInUseError, UsageError
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
    with pytest.raises(UsageError):  # one server: another port is a bad option (exit 2), not a lock
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


# ------------------------------------------------------------- Ctrl-C while the server starts
def servers_on(port: int) -> list[int]:
    """The pids of every embedded AWS process serving (or about to serve) `port`."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"authdemo.local.server" in argv and str(port).encode() in argv:
            pids.append(int(proc.name))
    return pids


def nothing_left(port: int, timeout: float = 15.0) -> bool:
    """Whether, within `timeout`, no embedded AWS process for `port` is left and the port is free."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not servers_on(port) and daemon.port_is_free(port):
            return True
        time.sleep(0.05)
    return False


def found_or_gone(port: int) -> str:
    """What `local status` and `local stop` make of the server an interrupted start left: "found"
    (status shows it, stop stops it) or "gone" (status says none runs, and none is left)."""
    status = run("local", "status", "--output", "json")
    if status.exit_code == 0:
        assert json.loads(status.stdout)["port"] == port
        assert json.loads(run("local", "stop", "--output", "json").stdout)["stopped"] is True
        outcome = "found"
    else:
        assert status.exit_code == 8 and json.loads(status.stdout) == {"running": False}
        outcome = "gone"
    assert nothing_left(port), f"a server is left on port {port}: pids {servers_on(port)}"
    assert run("local", "status").exit_code == 8
    return outcome


# Runs daemon.start in a process of its own and ends that process (SIGINT, as Ctrl-C does, or
# SIGKILL) at one point of the start: right after the spawn, once the server answered but before
# the record is written, or right after the record is written (before the server is told so).
INTERRUPTED_START = textwrap.dedent(
    """
    import os, signal, sys
    from authdemo.local import daemon
    port, point, how = int(sys.argv[1]), sys.argv[2], getattr(signal, sys.argv[3])
    real_spawn, real_write = daemon._spawn, daemon._write
    real_answer = getattr(daemon, "_await_answer", None)  # (None before the fix, to show it fail)

    def end(here):
        if here == point:
            os.kill(os.getpid(), how)  # SIGINT: KeyboardInterrupt as soon as Python looks

    def spawn(port):
        spawned = real_spawn(port)
        child = spawned[0] if isinstance(spawned, tuple) else spawned
        print(child.pid, flush=True)
        end("spawned")
        return spawned

    def await_answer(*args):
        answer = real_answer(*args)
        end("answered")
        return answer

    def write(info):
        if real_answer is None:  # before the fix: answered and recorded here
            end("answered")
        real_write(info)
        end("recorded")

    daemon._spawn, daemon._write = spawn, write
    if real_answer is not None:
        daemon._await_answer = await_answer
    daemon.start(port, "up")
    print("not interrupted", flush=True)
    """
)


@pytest.mark.parametrize(
    ("point", "how", "outcome"),
    [
        ("spawned", "SIGINT", "gone"),
        ("answered", "SIGINT", "gone"),
        ("recorded", "SIGINT", "found"),  # recorded: Ctrl-C waits until it is told so
        ("spawned", "SIGKILL", "gone"),
        ("recorded", "SIGKILL", "gone"),  # recorded, never told: a stale record
    ],
)
def test_a_start_ended_before_the_handover_leaves_no_unseen_server(
    home: Path, point: str, how: str, outcome: str
) -> None:
    """Ctrl-C or kill -9 between the spawn and the handover: a server not told it is recorded
    stops itself, so `local status` finds none and nothing is left listening; one recorded
    under a Ctrl-C is kept, and `local status`/`local stop` find it."""
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_START, str(port), point, how],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "not interrupted" not in proc.stdout
    assert proc.returncode != 0
    pid = int(proc.stdout.split()[0])
    if outcome == "gone":
        assert gone(pid, timeout=15)  # it stopped itself: nobody signalled it
        assert "ended before recording me; stopping" in (home / "local-server.log").read_text()
    assert found_or_gone(port) == outcome
    assert gone(pid)


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


# When the SIGINT lands: at fixed delays after the start (the 0.15 s among them), as soon
# as the server's log appears (just before the spawn), as soon as the server answers (before
# `up` records it, most of the time), and once the record exists.
INTERRUPT_AT: dict[str, Callable[[int], object]] = {
    "0.15 s": lambda port: time.sleep(0.15),
    "0.5 s": lambda port: time.sleep(0.5),
    "log": lambda port: wait_for((paths.home() / daemon.LOG_NAME).exists),
    "health": lambda port: wait_for(lambda: daemon.health(daemon.server_url(port), timeout=0.2)),
    "record": lambda port: wait_for(paths.local_server_file().exists),
}


@pytest.mark.parametrize("when", list(INTERRUPT_AT))
def test_ctrl_c_during_the_first_up_local_leaves_a_server_found_or_none(home: Path, when: str) -> None:
    """`authdemo up --local` interrupted (SIGINT) at any point of its server's start: `local
    status` finds the server and `local stop` stops it, or there is none, and nothing listens."""
    port = free_port()
    up = [sys.executable, "-m", "authdemo", "up", "--local", "--port", str(port)]
    proc = subprocess.Popen(up, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        INTERRUPT_AT[when](port)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    found_or_gone(port)


# ------------------------------------------------------------------ two first `up --local`
def test_two_first_up_local_at_once_share_one_server(home: Path) -> None:
    """Two `up --local` started together on a fresh port: the second waits for the server its
    sibling starts and uses it; neither blames "another program"."""
    port = free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "authdemo", "up", "--local", "--port", str(port), "--stack", stack],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for stack in ("first", "second")
    ]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    for proc, err in zip(procs, errors, strict=True):
        assert "another program" not in err
        assert proc.returncode == 0, err
    info = daemon.status()
    assert info is not None and info.port == port
    for stack in ("first", "second"):
        assert json.loads((home / f"{stack}.local.json").read_text())["server_pid"] == info.pid
    assert servers_on(port) == [info.pid]


def test_a_server_whose_starter_died_is_not_adopted(home: Path) -> None:
    """A server still awaiting its handover (its starter died) is waited out, not adopted: the
    next start gets a server of its own, recorded and told so."""
    port = free_port()
    orphan, handover = daemon._spawn(port)
    try:
        wait_for(lambda: daemon.health(daemon.server_url(port), timeout=0.2))
        assert daemon.health(daemon.server_url(port))["awaiting_handover"] is True
    finally:
        os.close(handover)  # as its starter's death would
    info = daemon.start(port, "up")
    assert info.pid != orphan.pid
    assert gone(orphan.pid)
    wait_for(lambda: "awaiting_handover" not in daemon.health(info.url))  # read the word: kept
    assert "awaiting_handover" not in daemon.health(info.url)


# ------------------------------------------------------------------ `local start`, another port
def test_local_start_on_another_port_is_a_usage_error(home: Path) -> None:
    """`local start --port N` while it runs on M: exit 2 (not 6, the stack lock's), one sentence
    with the fix; without --port it shows the running one."""
    port, other = free_port(), free_port()
    assert run("local", "start", "--port", str(port)).exit_code == 0
    refused = run("local", "start", "--port", str(other))
    assert refused.exit_code == 2
    message = " ".join(refused.stderr.split())
    assert message.count("Error:") == 1 and "Traceback" not in message
    assert f"already runs on port {port}, not {other}: use --port {port}" in message
    assert "`authdemo local stop`" in message
    again = run("local", "start", "--output", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["port"] == port
    assert servers_on(other) == []


# ------------------------------------------------------------------ sweep after a restart
def test_down_after_a_restart_deletes_nothing_that_is_gone(home: Path) -> None:
    """After the embedded AWS restarted, `down --local`, `down --sweep --local` and `down
    --dry-run --local` find (or plan to delete) none of the old server's resources: they went
    with it; the state file goes too."""
    port = free_port()
    assert run("up", "--local", "--port", str(port)).exit_code == 0
    recorded = (home / "authdemo.local.json").read_bytes()
    assert daemon.stop() is True
    daemon.start(port, "start")
    plan = json.loads(run("down", "--dry-run", "--local", "--port", str(port), "--output", "json").stdout)
    assert {step["action"] for step in plan["plan"]} == {"gone"}
    for args in [(), ("--sweep", "--yes")]:
        (home / "authdemo.local.json").write_bytes(recorded)
        result = run("down", *args, "--local", "--port", str(port), "--output", "json")
        assert result.exit_code == 0, result.output
        if args:
            assert json.loads(result.stdout) == {"found": [], "deleted": False}
        else:
            assert json.loads(result.stdout)["deleted"] == []
            assert "already gone" in result.stderr
        assert "✓ deleted" not in result.stderr
        assert not (home / "authdemo.local.json").exists()  # it recorded only what is gone


def test_the_server_lock_is_never_followed_through_a_symlink(home: Path, tmp_path: Path) -> None:
    """`local-server.lock` that is a symlink: `local start` exits 2 naming it, writes nothing
    through it and spawns nothing."""
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious")
    link = home / daemon.LOCK_NAME
    link.symlink_to(target)
    try:
        result = run("local", "start", "--port", str(free_port()))
        assert result.exit_code == 2
        assert f"lock file {link} is a symbolic link" in " ".join(result.stderr.split())
        assert target.read_text() == "precious"
        assert not (home / daemon.LOG_NAME).exists()
    finally:
        link.unlink()
