"""Issue 19, section 5, "what a newcomer met": each command's Ctrl-C sentence fits the command,
help texts say what the command does (and fit 80 columns), tokens shown shortened still show
what differs, JSON holds the token under `token` only in full, bodies are shown as sent, and
error sentences stay short and plain."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import Faults, TtySys, mint, one_error, run

from authdemo import app
from authdemo.cli import cli
from authdemo.state import StateStore
from authdemo.tokens import decode, shorten, tamper

ROOT = Path(__file__).resolve().parent.parent


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


# ------------------------------------------------------------------------------ item 11: words
@pytest.fixture
def gateway_stack(server_env: Any) -> Iterator[tuple[str, ...]]:
    """A deployed stack on the shared embedded server (its gateway answers), deleted afterwards."""
    e = ("--endpoint-url", server_env.url, "--stack", "newcomer")
    assert run("up", *e).exit_code == 0
    yield e
    assert run("down", *e).exit_code == 0


def test_token_refresh_says_in_words_whether_a_new_refresh_token_came(deployed: Path) -> None:
    """`token --refresh` never prints a Python `False`/`True`: it says what came back."""
    result = run("token", "--refresh")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stderr.splitlines() if line.startswith("new refresh token:"))
    assert not re.search(r"\b(False|True)\b", result.stderr)
    assert "REFRESH_TOKEN_AUTH" in line or "rotated" in line


def test_a_shortened_tampered_token_shows_where_it_differs() -> None:
    """The ID token and the same token tampered share header and signature: shortened side by side,
    each keeps the characters from where they first differ, so they never look alike."""
    token = mint("https://issuer.example", "client", email="demo@example.com")
    tampered = tamper(token)
    assert shorten(tampered, token) != shorten(token, tampered)
    at = next(i for i, (a, b) in enumerate(zip(token, tampered, strict=False)) if a != b)
    assert tampered[at : at + 8] in shorten(tampered, token)
    for short in (shorten(tampered, token), shorten(token, tampered)):  # still not usable
        assert len(short) <= 12 + 8 + 6 + 2 and token.split(".")[1] not in short


def test_test_shows_bodies_as_sent_and_tampered_tokens_unlike(gateway_stack: tuple[str, ...]) -> None:
    """`test --route protected`: the 401 body exactly as the API sent it (not parsed and written
    again), the tampered token's shortened form unlike the ID token's, and in JSON a shortened
    token only under `token_shortened`."""
    result = run("test", *gateway_stack, "--route", "protected")
    assert result.exit_code == 0, result.output
    assert '401 {"message":"Unauthorized"}' in result.stdout
    assert '{"message": "Unauthorized"}' not in result.stdout
    shown = dict(line.split(": ", 1) for line in result.stdout.splitlines() if "token: eyJ" in line)
    assert shown["tampered ID token"] != shown["ID token"]
    doc = json.loads(run("test", *gateway_stack, "--route", "protected", "--output", "json").stdout)
    by_row = {c["credential"]: c for c in doc["checks"]}
    assert "token" not in by_row["id"] and "token" not in by_row["tampered"]
    assert by_row["id"]["token_shortened"] != by_row["tampered"]["token_shortened"]
    assert by_row["none"]["token"] is None


def test_token_json_holds_the_token_or_says_it_is_shortened(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`token --output json`: piped, `token` is the whole JWT; on a terminal without --show-token
    the value is under `token_shortened`, and `token` is not there at all."""
    from authdemo.cli import lesson as cli_lesson

    piped = json.loads(run("token", "--output", "json").stdout)
    assert decode(piped["token"])[1]["token_use"] == "id" and "token_shortened" not in piped
    monkeypatch.setattr(cli_lesson, "sys", TtySys(stdout=True))
    for extra in ((), ("--decode",)):
        on_tty = json.loads(run("token", *extra, "--output", "json").stdout)
        assert "token" not in on_tty and "…" in on_tty["token_shortened"]
    full = json.loads(run("token", "--show-token", "--output", "json").stdout)
    assert decode(full["token"])[1]["token_use"] == "id"


def test_no_message_has_a_broken_possessive_quote(tmp_path: Path) -> None:
    """No sentence reads `'authdemo''s`: the source has no `!r}'s` (a repr followed by 's), and the
    stopped-server sentence, which had one, reads plainly."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "authdemo").rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"!r\}'s\b", line)
    ]
    assert found == []
    path = app.state_path(app.Options(local=True))
    state = StateStore.new(path, stack="authdemo", region="us-west-2", endpoint_url=None, local=True)
    state.set(server_pid=4242)
    state.record("api", id="api1")
    result = run("status", "--local")
    assert result.exit_code == 8
    message = one_error(result)
    assert "''s" not in message and "of stack 'authdemo' are gone" in message


@pytest.mark.parametrize(
    "option",
    [["--stack"], ["--region"], ["--username"], ["policy", "--account"], ["up", "--endpoint-url"]],
    ids=lambda o: o[-1],
)
def test_long_values_are_shortened_in_error_sentences(option: list[str]) -> None:
    """A 300-character value is not quoted whole: the sentence keeps its start, its end, and says
    how long it was (exit 2, before any AWS call)."""
    # a username is refused unquoted beyond 128 characters: 100, with the space Cognito refuses
    value = "bad name " + "x" * 91 if option[-1] == "--username" else "a" + "b-" * 149 + "z"
    result = run(*(option[:-1] or ["up"]), option[-1], value)
    assert result.exit_code == 2, result.output
    message = one_error(result)
    assert value not in message and f"({len(value)} characters)" in message
    assert value[:20] in message and value[-8:] in message and len(message) < 250


@pytest.mark.parametrize("given", [True, False], ids=["AUTHDEMO_HOME", "default home"])
def test_authdemo_home_that_is_a_file_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: bool
) -> None:
    """AUTHDEMO_HOME (or ~/.authdemo) is a file: exit 2, one sentence that it is not a directory
    and what to do, never the OS's bare "File exists"."""
    blocker = tmp_path / ("home-file" if given else ".authdemo")
    blocker.write_text("")
    if given:
        monkeypatch.setenv("AUTHDEMO_HOME", str(blocker))
    else:
        monkeypatch.delenv("AUTHDEMO_HOME")
        monkeypatch.setenv("HOME", str(tmp_path))
    result = run("status")
    assert result.exit_code == 2, result.output
    message = one_error(result)
    assert "File exists" not in message and "is a file, not a directory" in message
    assert str(blocker) in message and "set AUTHDEMO_HOME to a directory" in message
    assert ("AUTHDEMO_HOME (" in message) is given
