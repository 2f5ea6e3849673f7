"""What every command shares: the group that turns failures into one sentence and an exit
code, the options, and the typed `Options` they become."""

from __future__ import annotations

import functools
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import AuthdemoError, ExitCode

EXAMPLES = """
\b
Examples:
  authdemo up --local       # everything on an embedded AWS, no account needed
  authdemo test --local     # every credential at every door: the matrix
  authdemo down --local     # delete it all
  authdemo up --region eu-west-1 --profile training
  authdemo status --output json | jq -r .api_url
"""


#: What Ctrl-C leaves behind, per command (its words after `authdemo`), and how to carry on:
#: only `up`, `demo` and `down` change a stack, so only they speak of finishing or deleting.
INTERRUPTED = {
    "up": "Interrupted. Every ID created so far is in the state file: rerun `authdemo up` to "
    "finish, or `authdemo down` to delete.",
    "demo": "Interrupted. Every ID created so far is in the state file: rerun `authdemo demo` to "
    "finish and test, or `authdemo down` to delete.",
    "down": "Interrupted. What is not deleted yet is still in the state file: rerun "
    "`authdemo down` to finish.",
    "test": "Interrupted; `authdemo test` changes nothing in the stack: rerun `authdemo test` to "
    "run the checks again.",
    "token": "Interrupted; the stack is unchanged and no token was printed: rerun `authdemo token`.",
    "status": "Interrupted; `authdemo status` only reads: rerun `authdemo status`.",
    "login": "Interrupted before the sign-in came back; nothing was kept: rerun `authdemo login`.",
    "open": "Interrupted; the kept tokens are unchanged: rerun `authdemo open` to serve the token page.",
    "logout": "Interrupted: rerun `authdemo logout` to revoke and forget the kept tokens.",
    "forget": "Interrupted; the state file is in place or set aside whole, never half: rerun "
    "`authdemo forget`.",
    "policy": "Interrupted; `authdemo policy` only prints: rerun `authdemo policy`.",
    "local start": "Interrupted while starting the embedded AWS: `authdemo local status` says "
    "whether it runs; rerun `authdemo local start`, or `authdemo local stop` to stop it.",
    "local status": "Interrupted; `authdemo local status` only reads: rerun `authdemo local status`.",
    "local stop": "Interrupted while stopping the embedded AWS: rerun `authdemo local stop`.",
    "local env": "Interrupted; nothing was printed: rerun `authdemo local env`.",
    "local issuer": "Interrupted; rerun `authdemo local issuer` (`authdemo local status` says "
    "whether the embedded AWS it may have started runs).",
}


def _command_path(ctx: click.Context) -> str:
    """The command's words after the program's name: `up`, `local start`."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


class Command(click.Command):
    """Ctrl-C becomes the sentence of INTERRUPTED that fits this command (exit 130)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            path = _command_path(ctx)
            message = INTERRUPTED.get(path, f"Interrupted: rerun `authdemo {path}`.")
            port = ctx.params.get("port") if path.startswith("local ") else None
            if port is not None:  # the hints reach the same embedded AWS
                message = re.sub(r"`(authdemo local [a-z]+)`", rf"`\1 --port {port}`", message)
            raise AuthdemoError(message, ExitCode.INTERRUPTED) from None


class Group(click.Group):
    """Turns every failure into one sentence and a documented exit code."""

    command_class = Command
    group_class = type  # `local`'s commands too

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except AuthdemoError as exc:
            _fail(_with_flags(exc.message, ctx), exc.code)
        except KeyboardInterrupt:  # before any command ran (Command.invoke speaks for each one)
            _fail("Interrupted before the command began; nothing was changed.", ExitCode.INTERRUPTED)
        except Exception as exc:
            from ..aws import translate

            translated = translate(exc)
            if translated is not None:
                _fail(translated.message, translated.code, ctx)
            if os.environ.get("AUTHDEMO_DEBUG"):
                raise
            _fail(
                f"Unexpected error: {type(exc).__name__}: {exc} (rerun with AUTHDEMO_DEBUG=1 "
                "for a traceback, and please report it).",
                ExitCode.ERROR,
            )


def _fail(message: str, code: int, ctx: click.Context | None = None) -> None:
    from .. import console

    console.error(_with_flags(message, ctx) if ctx is not None else message)
    sys.exit(int(code))


# A command to run; "in use by `authdemo up`" names another process's command, not a hint.
_HINT = re.compile(r"(?<!by )`authdemo (up|down|test|status|token|login|open|logout|demo)((?: --[a-z-]+)*)`")


def _with_flags(message: str, ctx: click.Context) -> str:
    """Complete every `authdemo <command>` hint with the flags that reach this same stack."""
    opts = ctx.meta.get(_OPTS_KEY)
    if opts is None:
        return message
    from ..app import cli_flags

    flags = cli_flags(opts)
    if not flags:
        return message
    given = {word for word in shlex.split(flags) if word.startswith("--")}

    def complete(match: re.Match[str]) -> str:
        # A hint's own `--local` is among the flags: said once (it was `--local --local`).
        own = "".join(f" {word}" for word in match.group(2).split() if word not in given)
        return f"`authdemo {match.group(1)}{own}{flags}`"

    return _HINT.sub(complete, message)


def common_options(fn: Callable[..., Any] | None = None, *, generates_password: bool = False) -> Any:
    """The options every stack command takes (README, "Commands"): where the stack is, and output.

    `generates_password`: the command (`up`, `demo`) makes a password when none is given; the
    others use the one `up` kept, and their help says so."""
    if fn is None:
        return functools.partial(common_options, generates_password=generates_password)
    default = "generated" if generates_password else "the one `up` kept in the state file"
    options = [
        click.option(
            "--stack",
            default="authdemo",
            show_default=True,
            envvar="AUTHDEMO_STACK",
            help="Name of the stack; several can live side by side.",
        ),
        click.option(
            "--region",
            default=None,
            help="AWS region (default: the stack's, else your AWS config, else us-west-2).",
        ),
        click.option("--profile", default=None, envvar="AWS_PROFILE", help="AWS profile to use."),
        click.option(
            "--state-file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="State file (default: ~/.authdemo/<stack>.json, or AUTHDEMO_HOME).",
        ),
        click.option("--username", default=None, help="Test user (default demo@example.com)."),
        click.option(
            "--password",
            default=None,
            envvar="AUTHDEMO_PASSWORD",
            help=f"Test user's password (default: {default}). Prefer AUTHDEMO_PASSWORD or `--password -` "
            "(asks without echo): a password on the command line lands in `ps` and shell history.",
        ),
        click.option(
            "--endpoint-url",
            default=None,
            help="Send every AWS call here (moto server, LocalStack); also AWS_ENDPOINT_URL.",
        ),
        click.option("--local", is_flag=True, help="Use the embedded AWS on 127.0.0.1 (no account)."),
        click.option(
            "--port",
            type=click.IntRange(1, 65535),
            default=None,
            help="Port of the embedded AWS with --local (default 4599).",
        ),
        click.option(
            "--output",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="json: one JSON document on stdout, for scripts.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


show_token_option = click.option(
    "--show-token", is_flag=True, help="Print tokens in full (default: shortened on a terminal)."
)

_OPTS_KEY = "authdemo.options"


def _opts(kwargs: dict[str, Any]) -> Any:
    """The typed options; refuses combinations that cannot work, before anything runs."""
    from ..app import Options

    fields = Options.__dataclass_fields__
    ctx = click.get_current_context(silent=True)
    if kwargs.get("password") == "-":
        asking_twice = ctx is not None and ctx.info_name in ("up", "demo")
        kwargs["password"] = _read_password(confirm=asking_twice)
    opts = Options(**{k: v for k, v in kwargs.items() if k in fields})
    if ctx is not None and opts.local:
        given = {
            name
            for name in ("endpoint_url", "profile")
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        }
        if given:
            names = " and ".join(f"--{n.replace('_', '-')}" for n in sorted(given))
            raise AuthdemoError(
                f"--local uses the embedded AWS's own endpoint and credentials: drop {names}, "
                "or drop --local.",
                ExitCode.USAGE,
            )
        opts.profile = None  # AWS_PROFILE from the environment means nothing to the embedded AWS
    if ctx is not None:
        ctx.meta[_OPTS_KEY] = opts
    if opts.local and opts.port:
        _check_local_port(opts.port)
    return opts


def refuse_given(names: tuple[str, ...], why: str) -> None:
    """No option silently ignored: those of `names` typed on the command line (not from the
    environment, e.g. AUTHDEMO_PASSWORD) are refused with `why`, exit 2."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    given = [
        f"--{n.replace('_', '-')}"
        for n in names
        if ctx.get_parameter_source(n) is click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        raise AuthdemoError(f"{why}: drop {' and '.join(given)}.", ExitCode.USAGE)


def _check_local_port(port: int) -> None:
    """`--local --port N` while the embedded AWS runs on another port: say so, change nothing."""
    from ..local import daemon

    running = daemon.status()
    if running is not None and running.port != port:
        raise AuthdemoError(
            f"The embedded AWS already runs on port {running.port}, not {port}: drop --port "
            f"(or use --port {running.port}), or stop it first with `authdemo local stop`.",
            ExitCode.USAGE,
        )


def _read_password(confirm: bool) -> str:
    """`--password -`: AUTHDEMO_PASSWORD if set, else a hidden prompt (typed twice for `up`)."""
    from_env = os.environ.get("AUTHDEMO_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise AuthdemoError(
            "`--password -` asks for the password on a terminal, but stdin is not one; "
            "set AUTHDEMO_PASSWORD instead.",
            ExitCode.USAGE,
        )
    return str(click.prompt("Test user's password", hide_input=True, confirmation_prompt=confirm, err=True))


class _Display:
    """Makes a command's step display; `early` shows a call made before it exists (--explain)."""

    def __init__(self, title: str, explain: bool) -> None:
        self.title = title
        self.explain = explain

    def __call__(self) -> Any:
        from ..console import StepDisplay

        return StepDisplay(self.title, self.explain)

    def early(self, command: str) -> None:
        from ..console import StepDisplay

        StepDisplay.early(command)


def _observer(title: str, explain: bool = False) -> Callable[[], Any]:
    return _Display(title, explain)


@click.group(cls=Group, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="authdemo")
def cli() -> None:
    """Show JWT authorization on API Gateway's HTTP and REST APIs, end to end, one command per step.

    `up` creates a Cognito user pool, app client and users, a Lambda function and an HTTP API
    with five doors (routes: /protected and /scoped behind JWT authorizers, /lambda behind a
    Lambda authorizer, /iam behind IAM, /m2m for machine-to-machine tokens), and beside it a REST
    API whose doors take a Cognito user pool authorizer, a cached Lambda authorizer that returns an
    IAM policy, and IAM (`--no-rest`: without it); `test` sends eight credentials (no token, ID,
    access, tampered, another user's, M2M, signed-out, SigV4) to every door and checks each
    answer: one matrix of 401, 403 and 200 per API; `down` deletes it all; `export` writes the
    stack as SAM, CloudFormation, serverless.yml or aws-cli commands.
    """


dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Only print the plan (create / adopt / keep, or delete), read from the state and AWS.",
)

explain_option = click.option(
    "--explain",
    is_flag=True,
    help="Show each AWS call under its step, as the `aws` command a person would type (secrets as "
    '***); with --dry-run, the plan as commands; with --output json, each step\'s "cli".',
)

wait_option = click.option(
    "--wait",
    type=click.FloatRange(0, 900),
    default=120.0,
    show_default=True,
    help="Seconds to wait for a new API to answer before giving up.",
)

port_option = click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 4599).")

output_option = click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON document on stdout, for scripts.",
)


def _print_commands(commands: list[tuple[str, str]]) -> None:
    """Commands to paste, each under its comment; never wrapped, never cut."""
    from rich.markup import escape

    from .. import console, printed

    lines = []
    for comment, command in [*printed.shell_setup(), *commands] if commands else []:
        if comment:
            lines.append(f"[dim]# {escape(comment)}[/]")
        lines.append(escape(command))
    console.out().print("\n".join(lines), highlight=False, soft_wrap=True)
