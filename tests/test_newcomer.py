"""Issue 19, section 5, "what a newcomer met": each command's Ctrl-C sentence fits the command,
help texts say what the command does (and fit 80 columns), tokens shown shortened still show
what differs, JSON holds the token under `token` only in full, bodies are shown as sent, and
error sentences stay short and plain."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from conftest import Faults, run

from authdemo.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def one_error(result: Any) -> str:
    """The one `Error:` sentence of a failed command, line wrapping undone; no traceback."""
    assert "Traceback" not in result.output
    assert result.stderr.count("Error:") == 1, result.stderr
    return " ".join(result.stderr[result.stderr.index("Error:") :].split())


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group of the CLI, as (words after `authdemo`, click object), read from it."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found.extend(commands(command, (*prefix, name)))
    return found


LEAVES = [path for path, command in commands() if not isinstance(command, click.Group)]


# ------------------------------------------------------------------------------ item 8: Ctrl-C
@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_ctrl_c_says_what_this_command_leaves_and_how_to_rerun_it(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C inside any command: exit 130, one sentence naming that command to rerun; only
    `up`, `demo` and `down` (which change a stack) speak of finishing with up or down."""
    command = dict(commands())[path]

    def interrupted(**_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "callback", interrupted)
    result = run(*path)
    assert result.exit_code == 130, result.output
    message = one_error(result)
    assert f"`authdemo {' '.join(path)}" in message
    if path not in (("up",), ("demo",), ("down",)):
        assert "`authdemo up" not in message and "`authdemo down" not in message


def test_ctrl_c_during_test_says_the_stack_is_unchanged(deployed: Path, faults: Faults) -> None:
    """Ctrl-C while `test` signs in (a botocore hook): exit 130, `test` changed nothing, rerun
    `test`, with the flags that reach the same stack; the state file is untouched."""
    before = deployed.read_bytes()

    def interrupt(**_: Any) -> None:
        raise KeyboardInterrupt

    faults.on("cognito-idp", "after-call.cognito-idp.InitiateAuth", interrupt)
    result = run("test", "--region", "us-west-2")
    assert result.exit_code == 130, result.output
    message = one_error(result)
    assert "changes nothing" in message and "rerun `authdemo test --region us-west-2`" in message
    assert "authdemo up" not in message
    assert deployed.read_bytes() == before


def test_ctrl_c_of_local_commands_keeps_their_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """`local status --port N` interrupted: the rerun hint carries --port N."""
    command = dict(commands())[("local", "status")]

    def interrupted(**_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "callback", interrupted)
    result = run("local", "status", "--port", "4700")
    assert result.exit_code == 130 and "rerun `authdemo local status --port 4700`" in one_error(result)
