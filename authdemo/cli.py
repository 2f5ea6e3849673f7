"""The click layer: parse options, call app.py, print through console.py. Nothing else.

Kept cheap to import: boto3, moto and rich load only inside the commands that need them,
so `authdemo --help` answers at once.
"""

from __future__ import annotations

import functools
import os
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
            _fail(exc.message, exc.code)
        except KeyboardInterrupt:
            _fail(
                "Interrupted. Every ID created so far is in the state file: rerun `authdemo up` "
                "to finish, or `authdemo down` to delete.",
                ExitCode.INTERRUPTED,
            )
        except Exception as exc:
            from .aws import translate

            translated = translate(exc)
            if translated is not None:
                _fail(translated.message, translated.code)
            if os.environ.get("AUTHDEMO_DEBUG"):
                raise
            _fail(
                f"Unexpected error: {type(exc).__name__}: {exc} (rerun with AUTHDEMO_DEBUG=1 "
                "for a traceback, and please report it).",
                ExitCode.ERROR,
            )


def _fail(message: str, code: int) -> None:
    from . import console

    console.error(message)
    sys.exit(int(code))


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command takes (README, "Options")."""
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
            help="Test user's password (default: generated; env AUTHDEMO_PASSWORD).",
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
        click.option("--show-token", is_flag=True, help="Print tokens in full (default: shortened)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _opts(kwargs: dict[str, Any]) -> Any:
    from .app import Options

    fields = Options.__dataclass_fields__
    return Options(**{k: v for k, v in kwargs.items() if k in fields})


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
    from . import app, console

    opts = _opts(kwargs)
    if dry_run:
        _print_plan(opts, app.plan(opts, "up"))
        return
    info, result, notes = app.up(opts, _observer(f"authdemo up: stack {opts.stack}"))
    for note in notes:
        console.info(note)
    _print_summary(opts, info, result)


def _print_summary(opts: Any, info: dict[str, Any], result: Any) -> None:
    from . import app, console

    if opts.output == "json":
        console.data_json({**info, "seconds": round(result.total, 2), "steps": result.outcomes})
        return
    created = sum(1 for v in result.outcomes.values() if v == "created")
    console.info(f"[bold green]Ready[/] in {result.total:.1f}s ({created} created). API: {info['api_url']}")
    lines = []
    for comment, command in app.guide_commands(info):
        lines.append(f"[dim]# {comment}[/]")
        lines.append(command)
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
@wait_option
def test(**kwargs: Any) -> None:
    """Sign in as the test user and run the guide's checks (401 without, 200 with a token).

    \b
    Exit status 0 when every check passes, 3 when one fails.
    Example:
      authdemo test --local
    """
    from . import app, console
    from .checks import Outcome

    opts = _opts(kwargs)
    with console.Waiting("Waiting for the API to answer 401 without a token…") as waiting:
        info, checks, waited = app.test(opts, waiting.update)
    passed = all(c.outcome is Outcome.PASS for c in checks)
    if opts.output == "json":
        console.data_json(
            {
                "passed": passed,
                "api_url": info["api_url"],
                "waited": round(waited, 2),
                "checks": [c.as_dict() for c in checks],
            }
        )
    else:
        if waited > 1:
            console.info(f"The API answered after {waited:.1f}s of warm-up.")
        rows = []
        for c in checks:
            mark = "[green]PASS[/]" if c.outcome is Outcome.PASS else f"[red]FAIL[/] {c.detail}"
            rows.append([c.name, c.expected, f"{c.status} {_compact(c.body)}", mark, f"{c.seconds:.2f}s"])
        console.show(
            console.table(
                f"authdemo test: {info['protected_url']}",
                ["check", "expected", "got", "result", "time"],
                rows,
            )
        )
        console.out().print("\n".join(f"[dim]# {c.name}[/]\n{c.curl}" for c in checks), soft_wrap=True)
    if not passed:
        sys.exit(int(ExitCode.CHECK_FAILED))


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
                console.table(f"Found for stack {opts.stack}", ["resource", "id"], rows), to_stdout=False
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


@cli.command()
@common_options
@click.option("--show-password", is_flag=True, help="Include the test user's password.")
def status(**kwargs: Any) -> None:
    """List the stack's recorded resources and whether each still exists.

    \b
    Example:
      authdemo status --output json | jq -r .api_url
    """
    from . import app, console

    opts = _opts(kwargs)
    info = app.status(opts)
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


@cli.command()
@common_options
@click.option("--id", "kind", flag_value="id", default=True, help="The ID token (default).")
@click.option("--access", "kind", flag_value="access", help="The access token.")
@click.option("--decode", is_flag=True, help="Pretty-print the token's header and claims.")
@click.option(
    "--user", type=click.Choice(["demo", "student"]), default="demo", help="Sign in as the second user."
)
@click.option("--refresh", is_flag=True, help="New tokens with REFRESH_TOKEN_AUTH (shows it is opaque).")
@click.option("--sign-out", "sign_out", is_flag=True, help="GlobalSignOut; keeps the signed-out token.")
def token(kind: str, decode: bool, user: str, refresh: bool, sign_out: bool, **kwargs: Any) -> None:
    """Sign in as the test user and print a token (in full when piped, or with --show-token).

    \b
    Examples:
      ID_TOKEN=$(authdemo token --local)
      authdemo token --access --decode --local
      authdemo token --user student --access --local
      authdemo token --refresh --local
      authdemo token --sign-out --local
    """
    from . import app, console
    from .tokens import decode as decode_token
    from .tokens import shorten

    opts = _opts(kwargs)
    if refresh and sign_out:
        raise click.UsageError("--refresh and --sign-out cannot be combined.")
    result: dict[str, Any] = {}
    if user != "demo" or refresh or sign_out:
        action = "refresh" if refresh else "sign-out" if sign_out else ""
        result = app.token_action(opts, kind, user=user, action=action)
        value = result["token"]
        for key in ("refresh_token", "new_refresh_token", "get_user"):
            if key in result and opts.output != "json":
                console.info(f"{key.replace('_', ' ')}: {result[key]}")
        if sign_out and opts.output != "json":
            console.info("signed out; the old access token is kept in the state file for `authdemo test`")
    else:
        value = app.token(opts, kind)
    full = opts.show_token or not sys.stdout.isatty()
    shown = value if full else shorten(value)
    if decode:
        header, claims = decode_token(value)
        if opts.output == "json":
            console.data_json({"token": shown, "header": header, "claims": claims})
            return
        console.show(console.syntax_json(header))
        console.show(console.syntax_json(claims))
        _explain_times(claims)
        return
    if opts.output == "json":
        console.data_json({**result, "token": shown, "kind": result.get("kind", kind)})
    else:
        click.echo(shown)
        if not full:
            console.info("(shortened on screen; add --show-token, or pipe it: ID_TOKEN=$(authdemo token))")


def _explain_times(claims: dict[str, Any]) -> None:
    import datetime as dt

    from . import console

    for key in ("iat", "exp", "auth_time"):
        if isinstance(claims.get(key), int):
            when = dt.datetime.fromtimestamp(claims[key], dt.timezone.utc).isoformat()
            console.info(f"{key}: {when}")


@cli.command()
@common_options
@wait_option
@click.pass_context
def demo(ctx: click.Context, **kwargs: Any) -> None:
    """`up` then `test`: what `python jwt_authorizer_demo.py` runs.

    \b
    Example:
      python jwt_authorizer_demo.py --local
    """
    from . import app, console

    wait = kwargs.pop("wait")
    ctx.invoke(up, **kwargs)
    ctx.invoke(test, wait=wait, **kwargs)
    opts = _opts(kwargs)
    flags = app.cli_flags(opts, opts.port, opts.endpoint_url)
    console.info(f"Clean up with: python jwt_authorizer_cleanup.py{flags}")


@cli.group()
def local() -> None:
    """The embedded AWS on 127.0.0.1 that --local uses (moto + a JWT-enforcing gateway)."""


@local.command("start")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 4599).")
def local_start(port: int | None) -> None:
    """Start the embedded AWS in the background; it runs until `authdemo local stop`."""
    from . import console
    from .local import daemon

    info = daemon.start(port or daemon.DEFAULT_PORT, started_by="start")
    console.info(f"Embedded AWS running at {info.url} (pid {info.pid}); stop it with `authdemo local stop`.")
    click.echo(info.url)


@local.command("status")
def local_status() -> None:
    """Say whether the embedded AWS runs, and where."""
    from . import console
    from .local import daemon

    info = daemon.status()
    if info is None:
        console.info("The embedded AWS is not running; `authdemo local start` starts it.")
        sys.exit(int(ExitCode.NOT_FOUND))
    click.echo(f"running at {info.url} (pid {info.pid}, started by `{info.started_by}`)")


@local.command("stop")
def local_stop() -> None:
    """Stop the embedded AWS (everything in it is forgotten)."""
    from . import console
    from .local import daemon

    console.info("Stopped the embedded AWS." if daemon.stop() else "The embedded AWS was not running.")


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="authdemo")


if __name__ == "__main__":
    main()
