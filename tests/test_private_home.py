"""Issue 20, finding 10: another user on the machine cannot use authdemo's home against its owner.

A home that someone else owns or can write is refused (exit 2, one sentence), as ssh's StrictModes
refuses such a `~/.ssh`; and the files authdemo names in it are never written or read through a
link planted at their name (the log used to truncate and overwrite the link's target)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from conftest import free_port, run

from authdemo import paths
from authdemo.local import credentials, daemon, published
from authdemo.login import store
from authdemo.state import atomic_write_json

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def flat(text: str) -> str:
    return " ".join(text.split())


def refused(home: Path) -> str:
    """`authdemo local status` with this home: exit 2 and its one sentence."""
    result = run("local", "status")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stderr.count("Error:") == 1
    return flat(result.stderr)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o720, 0o702, 0o1777], ids=oct)
def test_a_home_others_can_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    """AUTHDEMO_HOME group- or world-writable (sticky or not): exit 2 naming it and `chmod go-w`."""
    home = tmp_path / "shared"
    home.mkdir()
    home.chmod(mode)
    monkeypatch.setenv("AUTHDEMO_HOME", str(home))
    said = refused(home)
    assert f"AUTHDEMO_HOME ({home}) is writable by other users" in said
    assert f"chmod go-w {home}" in said
    assert list(home.iterdir()) == []  # nothing written there


def test_the_default_home_others_can_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/.authdemo made 0777 (by hand, or a umask): refused too, named as the path itself."""
    monkeypatch.delenv("AUTHDEMO_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    default = tmp_path / ".authdemo"
    default.mkdir(mode=0o700)
    default.chmod(0o777)
    said = refused(default)
    assert f"{default} is writable by other users" in said and "AUTHDEMO_HOME (" not in said


@pytest.mark.skipif(not ROOT, reason="making a directory another user's needs root")
def test_a_home_another_user_owns_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTHDEMO_HOME owned by `nobody` (even 0700, even writable by us as root): exit 2, named."""
    home = tmp_path / "theirs"
    home.mkdir(mode=0o700)
    os.chown(home, 65534, 65534)
    monkeypatch.setenv("AUTHDEMO_HOME", str(home))
    assert f"AUTHDEMO_HOME ({home}) belongs to another user (uid 65534)" in refused(home)


def test_a_home_inside_a_directory_others_can_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private AUTHDEMO_HOME inside a group-writable (not sticky) directory: someone there could
    swap it, so it is refused; inside a sticky one (as /tmp) it is accepted."""
    shared = tmp_path / "team"
    home = shared / "me"
    home.mkdir(parents=True, mode=0o700)
    home.chmod(0o700)
    shared.chmod(0o775)
    monkeypatch.setenv("AUTHDEMO_HOME", str(home))
    assert f"is inside {shared}, which another user can change" in refused(home)
    shared.chmod(0o1777)
    assert run("local", "status").exit_code == 8  # accepted: no server runs (exit 8), not exit 2


def test_the_server_log_is_never_written_through_a_planted_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`local-server.log` planted as a link to a victim file: `local start` replaces the link with
    its own 0600 log; the victim file is untouched (it was truncated and overwritten)."""
    monkeypatch.setenv("AUTHDEMO_HOME", str(tmp_path / "home"))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    log = daemon.log_file()
    log.symlink_to(victim)
    try:
        assert run("local", "start", "--port", str(free_port())).exit_code == 0
    finally:
        daemon.stop()
    assert victim.read_text() == "precious"
    assert not log.is_symlink() and stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_fresh_file_replaces_a_hard_link_too(tmp_path: Path) -> None:
    """A hard link at the name is replaced as well: the other name's content stays."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    named = tmp_path / "local-server.log"
    os.link(victim, named)
    with paths.fresh_file(named) as handle:
        handle.write(b"this run")
    assert victim.read_text() == "precious" and named.read_bytes() == b"this run"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_planted_links_to_keys_and_records_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access key, the server record and the kept tokens, each a link to a file with content
    that would be accepted: authdemo reads none of them (as if absent), so no planted key is used."""
    monkeypatch.setenv("AUTHDEMO_HOME", str(tmp_path / "home"))
    planted = tmp_path / "planted.json"
    planted.write_text(
        json.dumps(
            {
                "port": 4599,
                "pid": 1,
                "access_key": "AKIAPLANTED",
                "secret_key": "s",
                "url": "http://127.0.0.1:4599",
                "started_by": "start",
                "started_at": "",
                "id": "x",
                "access": "y",
            }
        )
    )
    for link in (
        credentials.credentials_file(),
        paths.local_server_file(),
        store.tokens_path(tmp_path / "s.json"),
    ):
        link.symlink_to(planted)
    assert published.read(credentials.credentials_file(), 4599) is None
    assert credentials.load(4599) is None
    assert daemon._read() is None
    assert store.load(tmp_path / "s.json") is None
    assert json.loads(planted.read_text())["access_key"] == "AKIAPLANTED"  # left alone


def test_planted_links_are_replaced_when_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The access key, the server record and the kept tokens, each planted as a link to a victim
    file: writing them replaces the link with a 0600 file of authdemo's own; the victims stay."""
    monkeypatch.setenv("AUTHDEMO_HOME", str(tmp_path / "home"))
    paths.home()  # made (0700) as any command makes it, before the attacker plants the links
    names = (
        credentials.credentials_file(),
        paths.local_server_file(),
        store.tokens_path(tmp_path / "s.json"),
    )
    for number, link in enumerate(names):
        (tmp_path / f"victim-{number}").write_text("precious")
        link.symlink_to(tmp_path / f"victim-{number}")
    try:
        assert run("local", "start", "--port", str(free_port())).exit_code == 0  # the key, the record
        atomic_write_json(names[2], {"refresh": "kept"})  # what `store.save` writes through
        for link in names:
            assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600, link
    finally:
        daemon.stop()
    assert [(tmp_path / f"victim-{n}").read_text() for n in range(3)] == ["precious"] * 3
