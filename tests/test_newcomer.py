"""Issue 19, section 5, "what a newcomer met": each command's Ctrl-C sentence fits the command,
help texts say what the command does (and fit 80 columns), tokens shown shortened still show
what differs, JSON holds the token under `token` only in full, bodies are shown as sent, and
error sentences stay short and plain."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
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


# ------------------------------------------------------------------------------ item 10: help
ALL = [path for path, _ in commands()]
NUMBERS = {4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def help_of(path: tuple[str, ...], columns: int = 80) -> str:
    """`authdemo <path> --help` as a terminal of `columns` columns shows it."""
    result = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": str(columns)}, terminal_width=columns)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("path", [(), *ALL], ids=lambda p: " ".join(p) or "authdemo")
def test_every_help_fits_80_columns_and_has_an_example(path: tuple[str, ...]) -> None:
    """At COLUMNS=80 no line of any command's or group's --help is wider than 80, and each shows
    at least one example."""
    text = help_of(path)
    wide = [line for line in text.splitlines() if len(line) > 80]
    assert wide == []
    assert re.search(r"^\s*Examples?:$", text, re.M), text


@pytest.mark.parametrize(
    "path", [p for p, c in commands() if any(o.name == "password" for o in c.params)], ids=" ".join
)
def test_only_commands_that_generate_a_password_say_so(path: tuple[str, ...]) -> None:
    """--password says "default: generated" on `up` and `demo` (which make one), and where the
    password comes from on every other command."""
    text = " ".join(help_of(path, 200).split())
    if path in (("up",), ("demo",)):
        assert "(default: generated)" in text
    else:
        assert "generated" not in text and "the one `up` kept in the state file" in text


def test_open_timeout_speaks_of_the_page_not_a_sign_in() -> None:
    """`open` signs no one in: its --timeout speaks of serving the page only."""
    text = " ".join(help_of(("open",), 200).split())
    timeout = text[text.index("--timeout S") :].split("--", 2)[1]
    assert "sign-in" not in timeout and "serve the page until Ctrl-C" in timeout


def test_top_level_help_describes_test_as_the_whole_matrix() -> None:
    """`authdemo --help` says `test` sends all the matrix's credentials to all its doors (counted
    from matrix.ROWS and stack.DOORS), not only 401 and 200."""
    from authdemo.matrix import ROWS
    from authdemo.stack import DOORS

    text = " ".join(help_of((), 200).split())
    assert f"{NUMBERS[len(ROWS)]} credentials" in text and f"{NUMBERS[len(DOORS)]} doors" in text
    assert "401 and 200" not in text and "with a token gets 200" not in text


@pytest.mark.parametrize("script", ["jwt_authorizer_demo.py", "jwt_authorizer_cleanup.py"])
def test_guide_scripts_promise_only_the_options_they_forward(script: str) -> None:
    """Each guide script's docstring ("any option of `authdemo X`") names the command it forwards
    to (`main([X, ...])`), so every option it promises is taken."""
    source = (ROOT / script).read_text()
    promised = re.search(r"any option of `authdemo (\w+)`", source)
    forwarded = re.search(r'main\(\["(\w+)"', source)
    assert promised and forwarded
    takes = {opt for p in cli.commands[forwarded.group(1)].params for opt in p.opts}
    promises = {opt for p in cli.commands[promised.group(1)].params for opt in p.opts}
    assert promises - takes == set()
    usage = re.search(r"^Usage: .*$", source, re.M)
    assert usage and set(re.findall(r"\[(--[a-z-]+)", usage.group(0))) <= takes
