"""Issue 19, section 1: after the Quick start's `uv run`, the printed lines still work when pasted.

`uv run` puts the project's environment on the PATH of its own child only; the presenter's shell
has neither `authdemo` nor `aws`. The printed block then starts with the line that activates it.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from authdemo import printed
from authdemo.cli.base import _print_commands

SCRIPTS = sysconfig.get_path("scripts")
SHELL_PATH = "/usr/local/bin:/usr/bin:/bin"


def _under_uv_run(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setenv("UV_RUN_RECURSION_DEPTH", "1")
    monkeypatch.setenv("PATH", path)


def test_the_activate_line_puts_authdemo_and_aws_on_a_fresh_shells_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under `uv run` (the environment first on PATH, absent from the shell's own), the printed line
    activates it: pasted into a shell with the shell's PATH, `authdemo` and `aws` resolve to it."""
    _under_uv_run(monkeypatch, os.pathsep.join([SCRIPTS, SHELL_PATH]))
    [(comment, line)] = printed.shell_setup()
    assert "uv run" in comment
    script = f"{line}\ncommand -v authdemo\ncommand -v aws\n"
    found = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": SHELL_PATH, "HOME": os.environ.get("HOME", "/")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found == [str(Path(SCRIPTS) / "authdemo"), str(Path(SCRIPTS) / "aws")]


@pytest.mark.parametrize(
    ("uv", "path"),
    [
        (False, os.pathsep.join([SCRIPTS, SHELL_PATH])),  # an activated venv, or pip/pipx: no uv run
        (True, os.pathsep.join([SCRIPTS, SHELL_PATH, SCRIPTS])),  # uv run from an activated shell
    ],
)
def test_no_activate_line_when_the_shell_already_has_the_environment(
    monkeypatch: pytest.MonkeyPatch, uv: bool, path: str
) -> None:
    """Without `uv run`, or when the shell's own PATH holds the environment, nothing is added."""
    monkeypatch.setenv("PATH", path)
    if uv:
        monkeypatch.setenv("UV_RUN_RECURSION_DEPTH", "1")
    assert printed.shell_setup() == []


def test_printed_blocks_start_with_the_activate_line_under_uv_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every block of pasteable lines (they are all printed by one function) starts with it."""
    _under_uv_run(monkeypatch, os.pathsep.join([SCRIPTS, SHELL_PATH]))
    runner = CliRunner()
    import click

    @click.command()
    def show() -> None:
        _print_commands([("Clean up", "authdemo down --local")])

    lines = runner.invoke(show).output.splitlines()
    assert lines[1] == f". {SCRIPTS}/activate"
    assert lines[-1] == "authdemo down --local"
