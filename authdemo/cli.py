"""The click layer: parse options, call app.py, print through console.py. Nothing else.

Kept cheap to import: boto3, moto and rich load only inside the commands that need them,
so `authdemo --help` answers at once.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .errors import AuthdemoError, ExitCode

EXAMPLES = """
\b
Examples:
  authdemo up --local           # everything on an embedded AWS, no account needed
  authdemo test --local         # the guide's curl checks, 401 and 200
  authdemo down --local         # delete it all
  authdemo up --region eu-west-1 --profile training
  authdemo status --output json | jq -r .api_url
"""


class Group(click.Group):
    """Turns every failure into one sentence and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except AuthdemoError as exc:
            _fail(_with_flags(exc.message, ctx), exc.code)
        except KeyboardInterrupt:
            _fail(
                "Interrupted. Every ID created so far is in the state file: rerun `authdemo up` "
                "to finish, or `authdemo down` to delete.",
                ExitCode.INTERRUPTED,
                ctx,
            )
        except Exception as exc:
            from .aws import translate

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
    from . import console

    console.error(_with_flags(message, ctx) if ctx is not None else message)
    sys.exit(int(code))


# A command to run; "in use by `authdemo up`" names another process's command, not a hint.
_HINT = re.compile(r"(?<!by )`authdemo (up|down|test|status|token)((?: --[a-z-]+)*)`")


def _with_flags(message: str, ctx: click.Context) -> str:
    """Complete every `authdemo <command>` hint with the flags that reach this same stack."""
    opts = ctx.meta.get(_OPTS_KEY)
    if opts is None:
        return message
    from .app import cli_flags

    flags = cli_flags(opts)
    if not flags:
        return message
    return _HINT.sub(
        lambda m: m.group(0) if flags in m.group(0) else f"`authdemo {m.group(1)}{m.group(2)}{flags}`",
        message,
    )


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every stack command takes (README, "Commands"): where the stack is, and output."""
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
            help="Test user's password (default: generated). Prefer AUTHDEMO_PASSWORD or `--password -` "
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
    from .app import Options

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


def _check_local_port(port: int) -> None:
    """`--local --port N` while the embedded AWS runs on another port: say so, change nothing."""
    from .local import daemon

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


def _observer(title: str) -> Callable[[], Any]:
    from .console import StepDisplay

    return functools.partial(StepDisplay, title)


@click.group(cls=Group, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="authdemo")
def cli() -> None:
    """Show JWT authorization on an API Gateway HTTP API, end to end, one command per step.

    `up` creates a Cognito user pool, app client and test user, a Lambda function and an
    HTTP API whose GET /protected is guarded by a JWT authorizer; `test` proves that a
    request without a token gets 401 and one with a token gets 200; `down` deletes it all.
    """


dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Only print the plan (create / adopt / keep, or delete), read from the state and AWS.",
)


def _print_plan(opts: Any, plan: dict[str, Any]) -> None:
    from . import console

    if opts.output == "json":
        console.data_json(plan)
        return
    rows = [
        [
            f"  {p['label']}" if p["with"] and plan["command"] == "down" else p["label"],
            p["action"],
            ", ".join(p["ids"]),
        ]
        for p in plan["plan"]
    ]
    where = "embedded AWS" if plan["local"] else plan["region"]
    title = f"authdemo {plan['command']} --dry-run: stack {plan['stack']} ({where}); nothing was changed"
    console.show(console.table(title, ["resource", "would be", "id"], rows))


@cli.command()
@common_options
@dry_run_option
def up(dry_run: bool, **kwargs: Any) -> None:
    """Create the stack (or finish an interrupted one); safe to run again.

    \b
    Examples:
      authdemo up --local
      authdemo up --dry-run            # what would be created, adopted or kept
      authdemo up --region us-west-2 --password 'Demo-Pass-123!'
    """
    opts = _opts(kwargs)
    if dry_run:
        from . import app

        _print_plan(opts, app.plan(opts, "up"))
        return
    doc = _up(opts)
    if opts.output == "json":
        from . import console

        console.data_json(doc)


def _up(opts: Any, cleanup: bool = True) -> dict[str, Any]:
    """Run `up`; prints its notes and (text) summary, returns the JSON document.

    `cleanup`: end the printed commands with `authdemo down` (demo prints it last instead).
    """
    from . import app, console

    info, result, notes = app.up(opts, _observer(f"authdemo up: stack {opts.stack}"))
    for note in notes:
        console.info(note)
    if opts.output != "json":
        _print_summary(info, result, cleanup)
    return {**info, "seconds": round(result.total, 2), "steps": result.outcomes}


def _print_summary(info: dict[str, Any], result: Any, cleanup: bool = True) -> None:
    from . import app, console

    created = sum(1 for v in result.outcomes.values() if v == "created")
    console.info(f"[bold green]Ready[/] ({created} created). API: {info['api_url']}")
    commands = app.guide_commands(info)
    _print_commands(commands if cleanup else [c for c in commands if c[0] != "Clean up"])


def _print_commands(commands: list[tuple[str, str]]) -> None:
    """Commands to paste, each under its comment; never wrapped, never cut."""
    from rich.markup import escape

    from . import console

    lines = []
    for comment, command in commands:
        if comment:
            lines.append(f"[dim]# {escape(comment)}[/]")
        lines.append(escape(command))
    console.out().print("\n".join(lines), highlight=False, soft_wrap=True)


wait_option = click.option(
    "--wait",
    type=click.FloatRange(0, 900),
    default=120.0,
    show_default=True,
    help="Seconds to wait for a new API to answer before giving up.",
)


@cli.command()
@common_options
@show_token_option
@wait_option
def test(**kwargs: Any) -> None:
    """Sign in as the test user and run the guide's checks (401 without, 200 with a token).

    \b
    Exit status 0 when every check passes, 3 when one fails.
    Example:
      authdemo test --local
    """
    from . import console

    opts = _opts(kwargs)
    passed, doc = _test(opts)
    if opts.output == "json":
        console.data_json(doc)
    if not passed:
        sys.exit(int(ExitCode.CHECK_FAILED))


def _test(opts: Any) -> tuple[bool, dict[str, Any]]:
    """Run `test`; prints the (text) result table, returns whether all passed and the JSON document."""
    from . import app, console
    from .checks import Outcome
    from .tokens import shorten

    with console.Waiting("Waiting for the API to answer 401 without a token…") as waiting:
        info, checks, waited = app.test(opts, waiting.update)
    passed = all(c.outcome is Outcome.PASS for c in checks)
    doc = {
        "passed": passed,
        "api_url": info["api_url"],
        "waited": round(waited, 2),
        "checks": [c.as_dict(opts.show_token) for c in checks],
        "claims": info["claims"],
    }
    if opts.output == "json":
        return passed, doc
    if waited > 1:
        console.info(f"The API answered after {waited:.1f}s of warm-up.")
    rows = []
    for c in checks:
        mark = "[green]PASS[/]" if c.outcome is Outcome.PASS else f"[red]FAIL[/] {c.detail}"
        got = f"{c.status} {_compact(c.body)}" if c.status is not None else "no answer"
        rows.append([c.name, got, c.why, mark])
    console.show(
        console.table(f"authdemo test: {info['protected_url']}", ["check", "got", "why", "result"], rows)
    )
    console.show(_claims_table(info["claims"]))
    for c in checks:
        if c.token:
            shown = c.token if opts.show_token else shorten(c.token)
            console.out().print(f"{c.name}: {shown}", highlight=False, soft_wrap=True)
    if not opts.show_token:
        console.info("(tokens shortened; add --show-token to see them in full)")
    _print_commands(app.test_commands(info, checks))
    return passed, doc


CLAIMS_COMPARED = ("token_use", "aud", "client_id", "scope", "cognito:username", "username", "email", "exp")


def _claims_table(claims: dict[str, dict[str, Any]]) -> Any:
    """The ID token beside the access token: the claims that differ, and why it matters."""
    from . import console

    rows = []
    for key in CLAIMS_COMPARED:
        cells = [_claim(key, claims[kind].get(key)) for kind in ("id", "access")]
        if any(cell != "-" for cell in cells):
            rows.append([key, *cells])
    return console.table(
        "ID token vs access token (the authorizer checks aud on one, client_id on the other)",
        ["claim", "ID token", "access token"],
        rows,
    )


def _claim(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("exp", "iat", "auth_time") and isinstance(value, int):
        return _utc(value)
    return (
        value
        if isinstance(value, str)
        else ", ".join(map(str, value))
        if isinstance(value, list)
        else str(value)
    )


def _utc(seconds: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _compact(obj: Any) -> str:
    """The part of a response body worth a table cell: message, user, token_use."""
    import json

    if isinstance(obj, dict) and "claims" in obj:
        obj = {k: v for k, v in obj.items() if k in ("message", "user", "token_use")}
    return obj if isinstance(obj, str) else json.dumps(obj)


@cli.command()
@common_options
@click.option(
    "--sweep",
    is_flag=True,
    help="Also find the stack's resources by tag/path, without trusting the state file.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --sweep deletes what it found.")
@dry_run_option
def down(sweep: bool, yes: bool, dry_run: bool, **kwargs: Any) -> None:
    """Delete everything of the stack, including the function's log group; safe to rerun.

    \b
    Examples:
      authdemo down --local
      authdemo down --dry-run         # what would be deleted
      authdemo down --sweep --yes     # state file lost: find by tag, then delete
    """
    from . import app, console

    opts = _opts(kwargs)
    if dry_run:
        if sweep or yes:
            raise AuthdemoError("--dry-run only prints the plan: drop --sweep/--yes with it.", ExitCode.USAGE)
        _print_plan(opts, app.plan(opts, "down"))
        return
    title = f"authdemo down: stack {opts.stack}"
    if sweep:

        def confirm(found: list[Any]) -> bool:
            rows = [[unit.label, unit.describe(rec)] for unit, rec in found]
            console.show(
                console.table(f"Found for stack {opts.stack}", ["resource", "id"], rows, to_stdout=False),
                to_stdout=False,
            )
            if yes:
                return True
            if not sys.stdin.isatty():
                raise AuthdemoError("Refusing to delete without confirmation; add --yes.", ExitCode.USAGE)
            return click.confirm("Delete all of these?", default=False, err=True)

        found, swept = app.sweep(opts, confirm, _observer(title))
        if opts.output == "json":
            console.data_json(
                {"found": [{"type": u.key, "id": u.describe(r)} for u, r in found], "deleted": swept}
            )
        elif not found:
            console.info(f"Nothing of stack {opts.stack!r} found in {opts.region or 'this region'}.")
        elif not swept:
            console.info("Nothing deleted.")
        return
    deleted, result, notes = app.down(opts, _observer(title))
    for note in notes:
        console.info(note)
    if opts.output == "json":
        console.data_json({"deleted": deleted, "seconds": round(result.total, 2) if result else 0})


STATUS_FIELDS = (
    "api_url",
    "protected_url",
    "endpoint_url",
    "region",
    "user_pool_id",
    "client_id",
    "issuer",
    "username",
    "password",
    "state_file",
)


@cli.command()
@common_options
@click.option("--show-password", is_flag=True, help="Include the test user's password.")
@click.option(
    "--field",
    type=click.Choice(STATUS_FIELDS),
    default=None,
    help="Print only this value, e.g. DEMO_PASSWORD=$(authdemo status --field password).",
)
def status(field: str | None, **kwargs: Any) -> None:
    """List the stack's recorded resources and whether each still exists.

    \b
    Examples:
      authdemo status --output json | jq -r .api_url
      DEMO_PASSWORD=$(authdemo status --field password)
    """
    from . import app, console

    opts = _opts(kwargs)
    if field == "password":
        opts.show_password = True  # asking for the field is asking to see it
    info = app.status(opts)
    if field:
        value = info.get(field)
        if opts.output == "json":
            console.data_json({field: value})
        else:
            click.echo("" if value is None else value)
        return
    if opts.output == "json":
        console.data_json(info)
        return
    rows = [
        [r["label"], r["id"], "[green]yes[/]" if r["exists"] else "[red]missing[/]"]
        for r in info["resources"].values()
    ]
    console.show(
        console.table(f"stack {info['stack']} ({info['region']})", ["resource", "id", "exists"], rows)
    )
    for key in ("api_url", "endpoint_url", "user_pool_id", "client_id", "username", "password", "state_file"):
        if info.get(key):
            console.out().print(f"{key}: {info[key]}", highlight=False)
    if not opts.show_password:
        console.info(f"The password: `authdemo status --field password{info['cli_flags']}`")


@cli.command()
@common_options
@show_token_option
@click.option("--id", "kind", flag_value="id", default=True, help="The ID token (default).")
@click.option("--access", "kind", flag_value="access", help="The access token.")
@click.option(
    "--tampered",
    "kind",
    flag_value="tampered",
    help="The ID token with one claim edited and its signature kept (the API answers 401).",
)
@click.option("--decode", is_flag=True, help="Print the token's header and claims (JSON when piped).")
@click.option("--compare", is_flag=True, help="The ID and access token's claims side by side.")
def token(kind: str, decode: bool, compare: bool, **kwargs: Any) -> None:
    """Sign in as the test user and print a token (in full when piped, or with --show-token).

    \b
    Examples:
      ID_TOKEN=$(authdemo token --local)
      authdemo token --access --decode --local
      authdemo token --compare --local
    """
    from . import app, console
    from .tokens import decode as decode_token
    from .tokens import shorten

    opts = _opts(kwargs)
    if compare:
        if decode or kind != "id":
            raise AuthdemoError(
                "--compare shows both tokens: drop --decode/--access/--tampered.", ExitCode.USAGE
            )
        both = app.tokens(opts)
        side_by_side = {k: decode_token(v)[1] for k, v in both.items()}
        if opts.output == "json":
            console.data_json(side_by_side)
        else:
            console.show(_claims_table(side_by_side))
        return
    value = app.token(opts, kind)
    piped = not sys.stdout.isatty()
    full = opts.show_token or piped
    shown = value if full else shorten(value)
    if decode:
        header, claims = decode_token(value)
        if opts.output == "json":
            console.data_json({"token": shown, "header": header, "claims": claims})
        elif piped:
            console.data_json({"header": header, "claims": claims})
        else:
            console.out().print_json(data={"header": header, "claims": claims})
            for key in ("iat", "auth_time", "exp"):
                if isinstance(claims.get(key), int):
                    console.info(f"{key}: {_utc(claims[key])}")
        return
    if opts.output == "json":
        console.data_json({"token": shown, "kind": kind})
    else:
        click.echo(shown)
        if not full:
            flags = app.cli_flags(opts)
            console.info(
                "(shortened on screen; add --show-token, or pipe it: "
                f"ID_TOKEN=$(authdemo token --{kind}{flags}))"
            )


@cli.command()
@common_options
@show_token_option
@wait_option
def demo(**kwargs: Any) -> None:
    """`up` then `test`: what `python jwt_authorizer_demo.py` runs.

    \b
    With --output json: one document, {"up": ..., "test": ...}; exit 3 if a check fails.
    Example:
      python jwt_authorizer_demo.py --local
    """
    from . import app, console

    opts = _opts(kwargs)
    up_doc = _up(opts, cleanup=False)
    passed, test_doc = _test(opts)
    if opts.output == "json":
        console.data_json({"up": up_doc, "test": test_doc})
    else:
        flags = app.cli_flags(opts, up_doc.get("local") and _port_of(up_doc))
        console.info(f"Clean up with: {_cleanup_command(flags)}")
    if not passed:
        sys.exit(int(ExitCode.CHECK_FAILED))


def _port_of(info: dict[str, Any]) -> int | None:
    from urllib.parse import urlsplit

    return urlsplit(info["endpoint_url"]).port if info.get("endpoint_url") else None


def _cleanup_command(flags: str) -> str:
    """`python jwt_authorizer_cleanup.py` only when run from the script beside it; else `authdemo down`."""
    import shlex

    down = f"`authdemo down{flags}`"
    script = Path(sys.argv[0] if sys.argv else "")
    if script.name == "jwt_authorizer_demo.py":
        cleanup = script.with_name("jwt_authorizer_cleanup.py")
        if cleanup.is_file():
            return f"`python {shlex.quote(str(cleanup))}{flags}` (or {down})"
    return down


@cli.command()
@click.option("--stack", default="authdemo", show_default=True, envvar="AUTHDEMO_STACK", help="Stack name.")
@click.option(
    "--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="State file."
)
@click.option("--local", is_flag=True, help="The stack of the embedded AWS (<stack>.local.json).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask first.")
def forget(yes: bool, **kwargs: Any) -> None:
    """Forget a stack: set its state file aside, whatever state it is in; deletes nothing.

    For a stack `down` cannot handle (a state file you no longer trust, a server gone). The
    file is kept as <file>.forgotten-<time>; resources it recorded, if any, stay in AWS, and
    `authdemo down --sweep` finds them by tag and IAM path.

    \b
    Examples:
      authdemo forget --stack class-42
      authdemo forget --local --yes
    """
    from . import app, console

    opts = _opts(kwargs)

    def confirm(path: Path, data: dict[str, Any] | None) -> bool:
        count = len(data.get("resources", {})) if data else "?"
        console.info(f"Stack {opts.stack!r}: {path} records {count} resource(s).")
        if yes:
            return True
        if not sys.stdin.isatty():
            raise AuthdemoError("Refusing to forget without confirmation; add --yes.", ExitCode.USAGE)
        return click.confirm(
            "Forget this stack (its AWS resources are not deleted)?", default=False, err=True
        )

    kept = app.forget(opts, confirm)
    if kept is None:
        if not app.state_path(opts).exists():
            console.info(f"Nothing recorded for stack {opts.stack!r}; nothing to forget.")
        else:
            console.info("Nothing forgotten.")
        return
    where = "the embedded AWS (until it stops)" if opts.local else "AWS"
    sweep = " --local" if opts.local else ""
    stack = "" if opts.stack == "authdemo" else f" --stack {opts.stack}"
    console.info(
        f"Forgot stack {opts.stack!r} (its state is kept as {kept}). Its resources, if any, remain in "
        f"{where}: `authdemo down --sweep{sweep}{stack}` finds them by tag and IAM path and deletes them."
    )


@cli.command()
@click.option("--stack", default=None, help="Narrow the role, function and log group to this stack.")
@click.option("--region", default=None, help="Narrow to this region (and its partition: aws-cn, aws-us-gov).")
@click.option("--account", default=None, help="Narrow to this AWS account ID.")
def policy(stack: str | None, region: str | None, account: str | None) -> None:
    """Print the least-privilege IAM policy (JSON) for everything authdemo calls on AWS.

    \b
    Examples:
      authdemo policy > authdemo-policy.json
      authdemo policy --stack class-42 --region eu-west-1 --account 123456789012
      aws iam put-user-policy --user-name trainer --policy-name authdemo \\
        --policy-document "$(authdemo policy)"
    """
    import json

    from .policy import policy as build

    arn_partition = "aws"
    if stack is not None:
        from .validate import check_stack

        check_stack(stack)
    if region is not None:
        from .aws import check_region, partition

        check_region(region, None)
        arn_partition = partition(region)[0]
    if account is not None and not (account.isdigit() and len(account) == 12):
        raise AuthdemoError(f"--account {account!r} is not a 12-digit AWS account ID.", ExitCode.USAGE)
    document = build(stack, arn_partition, region or "*", account or "*")
    click.echo(json.dumps(document, indent=2))


@cli.group()
def local() -> None:
    """The embedded AWS on 127.0.0.1 that --local uses (moto + a JWT-enforcing gateway)."""


port_option = click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 4599).")
output_option = click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON document on stdout, for scripts.",
)


def _server_doc(info: Any) -> dict[str, Any]:
    return {
        "running": True,
        "url": info.url,
        "port": info.port,
        "pid": info.pid,
        "started_by": info.started_by,
    }


@local.command("start")
@port_option
@output_option
def local_start(port: int | None, output: str) -> None:
    """Start the embedded AWS in the background; it runs until `authdemo local stop`."""
    from . import console
    from .local import daemon

    info = daemon.start(port or daemon.DEFAULT_PORT, started_by="start")
    if output == "json":
        console.data_json(_server_doc(info))
        return
    console.info(f"Embedded AWS running at {info.url} (pid {info.pid}); stop it with `authdemo local stop`.")
    click.echo(info.url)


@local.command("status")
@port_option
@output_option
def local_status(port: int | None, output: str) -> None:
    """Say whether the embedded AWS runs, and where (with --port: whether it runs on that port)."""
    from . import console
    from .local import daemon

    info = daemon.status()
    if info is not None and port is not None and info.port != port:
        message = f"The embedded AWS runs on port {info.port}, not {port}."
        info = None
    elif info is None:
        message = "The embedded AWS is not running; `authdemo local start` starts it."
    if output == "json":
        console.data_json(_server_doc(info) if info else {"running": False})
    elif info is not None:
        click.echo(f"running at {info.url} (pid {info.pid}, started by `{info.started_by}`)")
    else:
        console.info(message)
    if info is None:
        sys.exit(int(ExitCode.NOT_FOUND))


@local.command("stop")
@port_option
@output_option
def local_stop(port: int | None, output: str) -> None:
    """Stop the embedded AWS (everything in it is forgotten); with --port, only the one on that port."""
    from . import app, console
    from .local import daemon

    running = daemon.status()
    if port is not None and running is not None and running.port != port:
        raise AuthdemoError(
            f"The embedded AWS runs on port {running.port}, not {port}: drop --port (or use "
            f"--port {running.port}) to stop it.",
            ExitCode.USAGE,
        )
    stacks = app.local_stacks()
    if stacks and running is not None:
        console.info(
            f"Stacks recorded in the embedded AWS: {', '.join(stacks)}; their resources go with it; "
            "`authdemo up --local` recreates them."
        )
    stopped = daemon.stop()
    if output == "json":
        console.data_json({"stopped": stopped, "stacks": stacks if running is not None else []})
    else:
        console.info("Stopped the embedded AWS." if stopped else "The embedded AWS was not running.")


@local.command("env")
@port_option
@output_option
def local_env(port: int | None, output: str) -> None:
    """Print the environment that points the `aws` CLI at the running embedded AWS.

    \b
    Example:
      eval "$(authdemo local env)"
      aws cognito-idp list-user-pools --max-results 10
    """
    import shlex

    from .errors import NotDeployedError
    from .local import daemon

    info = daemon.status()
    if info is None:
        raise NotDeployedError("The embedded AWS is not running; start it with `authdemo local start`.")
    if port is not None and info.port != port:
        raise AuthdemoError(
            f"The embedded AWS runs on port {info.port}, not {port}: "
            f"drop --port (or use --port {info.port}).",
            ExitCode.USAGE,
        )
    keys = daemon.server_credentials(info)
    region = "us-west-2"
    env = {
        "AWS_ENDPOINT_URL": info.url,
        "AWS_ACCESS_KEY_ID": keys.access_key,
        "AWS_SECRET_ACCESS_KEY": keys.secret_key,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    if output == "json":
        from . import console

        console.data_json(env)
        return
    click.echo("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()))


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="authdemo")


if __name__ == "__main__":
    main()
