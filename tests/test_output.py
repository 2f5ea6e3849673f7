"""Issue 8, sections 2 and 3: output a presenter can read and a script can parse; no option
silently ignored."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from conftest import run, run_json
from rich.console import Console

from authdemo import app, console
from authdemo.app import Options
from authdemo.cli import base, build
from authdemo.local import daemon


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def stack(server_env: Any) -> Iterator[tuple[str, ...]]:
    """A deployed stack on the shared embedded server, deleted afterwards."""
    e = ("--endpoint-url", server_env.url, "--stack", "output")
    assert run("up", *e).exit_code == 0
    yield e
    assert run("down", *e).exit_code == 0


def test_demo_json_is_one_document(server_env: Any) -> None:
    """`demo --output json` prints exactly one JSON document: {"up": ..., "test": ...}."""
    e = ("--endpoint-url", server_env.url, "--stack", "demojson")
    result = run("demo", *e, "--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # fails on two documents
    assert set(doc) == {"up", "test"} and doc["test"]["passed"] is True
    assert doc["up"]["api_url"] == doc["test"]["api_url"]
    assert run("down", *e).exit_code == 0


def test_decode_piped_is_exact_json_never_cut(stack: tuple[str, ...]) -> None:
    """Piped, `token --decode` is exactly {"header", "claims"}: the issuer URL whole, no padding."""
    result = run("token", *stack, "--decode")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert set(doc) == {"header", "claims"}
    info = run_json("status", *stack)
    assert doc["claims"]["iss"] == info["issuer"] or doc["claims"]["iss"].endswith(info["user_pool_id"])
    assert all(line == line.rstrip() for line in result.stdout.splitlines())


def test_compare_shows_the_claims_that_differ(stack: tuple[str, ...]) -> None:
    """`token --compare`: the ID token's aud beside the access token's client_id and scope."""
    both = run_json("token", *stack, "--compare")
    client_id = run_json("status", *stack)["client_id"]
    assert both["id"]["token_use"] == "id" and both["id"]["aud"] == client_id
    assert both["access"]["token_use"] == "access" and both["access"]["client_id"] == client_id
    doors = {d["door"]: (d["id"], d["access"]) for d in both["doors"]}  # which door takes which token
    assert doors["HTTP /protected"] == (200, 200) and doors["HTTP /scoped"] == (403, 200)
    rest = bool(run_json("status", *stack).get("rest_routes"))
    assert (doors.get("REST /protected"), doors.get("REST /scoped")) == (
        ((200, 401), (401, 200)) if rest else (None, None)
    )
    text = run("token", *stack, "--compare").stdout
    for word in ("token_use", "aud", "client_id", "scope", client_id, "which door takes which token"):
        assert word in " ".join(text.split())


def test_test_says_why_and_shows_tokens_only_when_asked(stack: tuple[str, ...]) -> None:
    """Each check carries its reason (www-authenticate on a 401); --show-token shows full tokens."""
    short = run_json("test", *stack, "--route", "protected")
    why = {c["credential"]: c["reason"] for c in short["checks"]}
    assert why["id"] == "valid ID token" and why["access"] == "valid access token"
    assert "missing" in why["none"] and why["tampered"] == "the token signature is invalid"
    tokens = {c["credential"]: c.get("token", c.get("token_shortened")) for c in short["checks"]}
    assert tokens["none"] is None and "…" in tokens["id"]
    assert all("token" not in c for c in short["checks"] if c["credential"] != "none")  # never a short one
    full = run_json("test", *stack, "--route", "protected", "--show-token")
    id_token = next(c["token"] for c in full["checks"] if c["credential"] == "id")
    assert jwt.decode(id_token, options={"verify_signature": False})["token_use"] == "id"
    assert full["claims"]["access"]["token_use"] == "access"
    text = run("test", *stack, "--route", "protected")
    printed = set(text.stdout.replace("│", " ").split())
    assert "why" in printed and {"valid", "ID", "access", "signature", "invalid"} <= printed
    assert "ACCESS_TOKEN=$(authdemo token --access" in text.stdout
    assert "/scoped" not in text.stdout  # the guide's four checks only


def test_tables_keep_words_whole_at_60_columns(monkeypatch) -> None:
    """At 60 columns, the test table wraps between words, never inside one, and fits."""
    narrow = Console(width=60, file=io.StringIO(), highlight=False)
    monkeypatch.setattr(console, "out", lambda: narrow)
    rows = [
        ["tampered ID token", '401 {"message": "Unauthorized"}', "the token signature is invalid", "PASS"],
        [
            "ID token",
            '200 {"message": "Hello from protected API!", "user": "demo@example.com"}',
            "valid token",
            "PASS",
        ],
    ]
    console.show(console.table("authdemo test", ["check", "got", "why", "result"], rows))
    text = narrow.file.getvalue()
    assert max(map(len, text.splitlines())) <= 60
    words = set(" ".join(c for row in rows for c in row).split())
    printed = set(text.replace("│", " ").replace("┃", " ").split())
    assert words <= printed, words - printed


def test_steps_read_well_and_ctrl_c_leaves_no_spinner(capsys) -> None:
    """A readiness step ends "✓ ready"; on Ctrl-C a running step is marked interrupted, once."""
    with pytest.raises(KeyboardInterrupt), console.StepDisplay("authdemo up: stack s") as display:
        display.started("function:ready", "function ready to run")
        display.finished("function:ready", "ready", 0.1)
        display.started("route", "route GET /protected")
        raise KeyboardInterrupt
    err = capsys.readouterr().err
    assert "✓ ready" in err and "interrupted" in err
    assert err.count("in all") == 1


@pytest.mark.parametrize(
    "status", [*console._MARKS.values(), console.INTERRUPTED, "[red]✗ failed[/]", "[red]✗ stopped[/]"]
)
def test_plain_rows_are_what_rich_prints_without_a_terminal(status: str) -> None:
    """Rows skip rich when it would not colour them; the text is the same to the character."""
    line = f"  {'route GET /protected':<28} {status}  0.12s"
    plain_rich = Console(file=io.StringIO(), highlight=False, force_terminal=False)
    plain_rich.print(line)
    ours = f"  {'route GET /protected':<28} {console._plain_status(status)}  0.12s"
    assert ours + "\n" == plain_rich.file.getvalue()
    assert "[" not in ours


def test_rows_keep_rich_colours_when_forced(monkeypatch, capsys) -> None:
    """FORCE_COLOR (or TTY_COMPATIBLE=1) makes rich colour a pipe: rows still go through rich."""
    for env, want in ((("FORCE_COLOR", "1"),), True), ((("TTY_COMPATIBLE", "1"),), True), ((), False):
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
        for name, value in env:
            monkeypatch.setenv(name, value)
        console.err.cache_clear()
        try:
            with console.StepDisplay("authdemo up: stack s") as display:
                display.started("role", "IAM role")
                display.finished("role", "created", 0.1)
        finally:
            console.err.cache_clear()
        err = capsys.readouterr().err
        assert display.plain is not want
        assert ("\x1b[" in err) is want, (env, err)
        assert "IAM role" in err and "✓ created" in err


def test_interrupted_hint_carries_the_flags(monkeypatch) -> None:
    """The Ctrl-C message names `up` and `down` with the flags of this stack."""

    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "up", interrupted)
    result = run("up", "--stack", "other", "--region", "eu-west-1")
    assert result.exit_code == 130
    assert "rerun `authdemo up --region eu-west-1 --stack other`" in flat(result.stderr)
    assert "`authdemo down --region eu-west-1 --stack other`" in flat(result.stderr)


def test_hints_gain_flags_but_descriptions_do_not() -> None:
    """Hints to run get the stack's flags; the name of a lock holder's command is left as it is."""
    import click

    ctx = click.Context(base.cli)
    ctx.meta[base._OPTS_KEY] = Options(stack="s2", local=True, port=4600)
    message = "in use by `authdemo up` (pid 1); run `authdemo down --sweep` or `authdemo test`."
    assert base._with_flags(message, ctx) == (
        "in use by `authdemo up` (pid 1); run `authdemo down --sweep --local --port 4600 --stack s2` "
        "or `authdemo test --local --port 4600 --stack s2`."
    )


HINT_OPTS = Options(stack="s2", local=True, port=4600, region="eu-west-1")


def _hint_messages() -> list[str]:
    """Every message with an `authdemo <command>` hint that a failure of a stack command can print."""
    from authdemo.errors import NotDeployedError
    from authdemo.stack import require_server
    from authdemo.state import CorruptStateError

    stopped = SimpleNamespace(opts=HINT_OPTS, store=object(), server=None)
    with pytest.raises(NotDeployedError) as caught:
        require_server(stopped)  # type: ignore[arg-type]
    kept = CorruptStateError(Path("s.json"), "is empty").kept_aside(Path("s.json.corrupt"))
    return [*base.INTERRUPTED.values(), caught.value.message, kept.message]


@pytest.mark.parametrize("index", range(len(base.INTERRUPTED) + 2))
def test_every_hint_says_each_flag_once(index: int) -> None:
    """With --local (and --port, --stack, --region), each hinted command carries each flag once."""
    import click

    ctx = click.Context(base.cli)
    ctx.meta[base._OPTS_KEY] = HINT_OPTS
    said = base._with_flags(_hint_messages()[index], ctx)
    for command in re.findall(r"`(authdemo [^`]*)`", said):
        words = [w for w in command.split() if w.startswith("--")]
        assert len(words) == len(set(words)), said
        if command.split()[1] in ("up", "down", "test", "status", "token", "login", "open", "logout", "demo"):
            assert command.endswith("--local --port 4600 --region eu-west-1 --stack s2"), said


def test_cli_flags_quote_what_they_interpolate(tmp_path: Path) -> None:
    """Every interpolated value is shell-quoted; the default stack adds nothing."""
    assert app.cli_flags(Options()) == ""
    odd = tmp_path / "my states" / "s.json"
    flags = app.cli_flags(Options(stack="s2", state_file=odd, region="eu-west-1"))
    assert flags == f" --region eu-west-1 --stack s2 --state-file '{odd}'"
    assert app.cli_flags(Options(local=True, port=4600)) == " --local --port 4600"
    assert app.cli_flags(Options(local=True, port=daemon.DEFAULT_PORT)) == " --local"


@pytest.mark.parametrize("option", [("--profile", "training"), ("--endpoint-url", "http://127.0.0.1:1")])
def test_local_refuses_endpoint_and_profile(option: tuple[str, str]) -> None:
    """--local has its own endpoint and credentials: --profile/--endpoint-url are refused."""
    result = run("status", "--local", *option)
    assert result.exit_code == 2
    assert f"drop {option[0]}" in flat(result.stderr)


@pytest.mark.parametrize("command", ["up", "down", "status"])
def test_show_token_only_where_it_means_something(command: str) -> None:
    """--show-token is an option of test, token and demo only."""
    assert run(command, "--show-token").exit_code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_local_status_and_stop_take_port_and_output() -> None:
    """`local status|stop` take --port and --output json (one document); another port: one sentence."""
    port, other = _free_port(), _free_port()
    assert json.loads(run("local", "status", "--output", "json").stdout) == {"running": False}
    assert json.loads(run("local", "start", "--port", str(port), "--output", "json").stdout)["port"] == port
    try:
        status = run("local", "status", "--port", str(port), "--output", "json")
        assert status.exit_code == 0 and json.loads(status.stdout)["running"] is True
        elsewhere = run("local", "status", "--port", str(other))
        assert elsewhere.exit_code == 8 and f"runs on port {port}, not {other}" in flat(elsewhere.stderr)
        refused = run("local", "stop", "--port", str(other))
        assert refused.exit_code == 2 and daemon.status() is not None
        mismatch = run("up", "--local", "--port", str(other))
        assert mismatch.exit_code == 2
        assert f"already runs on port {port}, not {other}" in flat(mismatch.stderr)
        assert "authdemo local stop" in mismatch.stderr
    finally:
        stopped = run("local", "stop", "--port", str(port), "--output", "json")
    assert json.loads(stopped.stdout) == {"stopped": True, "stacks": []}


def test_cleanup_line_names_authdemo_down_outside_the_script(monkeypatch) -> None:
    """Installed with pip, there is no jwt_authorizer_cleanup.py: the line says `authdemo down`."""
    monkeypatch.setattr(build.sys, "argv", ["/usr/bin/authdemo", "demo"])
    assert build._cleanup_command(" --local") == "`authdemo down --local`"
