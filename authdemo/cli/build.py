"""Commands that build, show and delete a stack: up, down, status, demo, forget, policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import AuthdemoError, ExitCode, quoted
from .base import (
    _observer,
    _opts,
    _print_commands,
    cli,
    common_options,
    dry_run_option,
    explain_option,
    show_token_option,
    wait_option,
)
from .lesson import _test


def _print_plan(opts: Any, plan: dict[str, Any]) -> None:
    from .. import console

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
    if "cli_setup" in plan:  # --explain: the plan as commands, each resource's under a comment
        commands = [("Point the aws CLI at this stack's AWS", plan["cli_setup"])]
        for p in plan["plan"]:
            for n, command in enumerate(p.get("cli", [])):
                commands.append((f"{p['label']} ({p['action']})" if n == 0 else "", command))
        _print_commands(commands)


@cli.command()
@common_options(generates_password=True)
@dry_run_option
@explain_option
@click.option(
    "--issuer",
    default=None,
    metavar="URL",
    help="Trust this OIDC issuer (Auth0, Okta, ...) instead of creating a Cognito user pool; "
    "its discovery document and JWKS are checked first, as API Gateway will fetch them.",
)
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    metavar="AUD",
    help="With --issuer: an `aud` the JWT authorizer accepts (repeatable, at most 50).",
)
@click.option(
    "--callback-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Loopback port of the app client's sign-in callback, http://localhost:PORT/callback "
    "(default 8400; kept by later runs).",
)
@click.option(
    "--sign-up/--no-sign-up",
    "sign_up",
    default=None,
    help="Let people sign themselves up on managed login, with an emailed code (default: "
    "admin-only; kept by later runs).",
)
@click.option(
    "--rest/--no-rest",
    "rest",
    default=None,
    help="Build the REST API half beside the HTTP API (default: built; --no-rest for a faster, "
    "HTTP-only session, and deletes it from a stack that has it; kept by later runs).",
)
def up(dry_run: bool, **kwargs: Any) -> None:
    """Create the stack (or finish an interrupted one); safe to run again.

    \b
    Examples:
      authdemo up --local
      authdemo up --dry-run            # what would be created, adopted or kept
      authdemo up --region us-west-2 --password 'Demo-Pass-123!'
      authdemo up --issuer https://example.auth0.com/ \\
        --audience https://api.example.com
      authdemo up --callback-port 8401 # `authdemo login` listens there
      authdemo up --sign-up            # managed login offers "Sign up"
      authdemo up --no-rest            # the HTTP API only (faster)
      authdemo up --explain            # each AWS call, as the aws command
    """
    opts = _opts(kwargs)
    if dry_run:
        from .. import app

        _print_plan(opts, app.plan(opts, "up"))
        return
    doc = _up(opts)
    if opts.output == "json":
        from .. import console

        console.data_json(doc)


def _up(opts: Any, cleanup: bool = True) -> dict[str, Any]:
    """Run `up`; prints its notes and (text) summary, returns the JSON document.

    `cleanup`: end the printed commands with `authdemo down` (demo prints it last instead).
    """
    from .. import app, console

    info, result, notes = app.up(opts, _observer(f"authdemo up: stack {opts.stack}", opts.explain))
    for note in notes:
        console.info(note)
    if opts.output != "json":
        _print_summary(info, result, cleanup)
    return {**info, "seconds": round(result.total, 2), "steps": _steps(opts, result)}


def _steps(opts: Any, result: Any) -> dict[str, Any]:
    """Each step's outcome; with --explain, {"outcome": ..., "cli": [its aws commands]}, and the
    calls made in no step (the account proved first) as the step "" (no outcome)."""
    if not opts.explain:
        return dict(result.outcomes)
    steps = {k: {"outcome": v, "cli": result.calls.get(k, [])} for k, v in result.outcomes.items()}
    return {"": {"outcome": None, "cli": result.calls[""]}, **steps} if "" in result.calls else steps


def _print_summary(info: dict[str, Any], result: Any, cleanup: bool = True) -> None:
    from .. import console, printed

    created = sum(1 for v in result.outcomes.values() if v == "created")
    console.info(f"[bold green]Ready[/] ({created} created). API: {info['api_url']}")
    if info.get("rest_api_url"):
        console.info(f"REST API (the lesson's other column): {info['rest_api_url']}")
    if info.get("audience"):
        console.info(f"Trusting {info['issuer']} (audience {', '.join(info['audience'])}).")
    commands = printed.issuer_commands(info) if info.get("audience") else printed.guide_commands(info)
    _print_commands(commands if cleanup else [c for c in commands if c[0] != "Clean up"])


@cli.command()
@common_options
@click.option(
    "--sweep",
    is_flag=True,
    help="Also find the stack's resources by tag/path, without trusting the state file.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --sweep deletes what it found.")
@dry_run_option
@explain_option
def down(sweep: bool, yes: bool, dry_run: bool, **kwargs: Any) -> None:
    """Delete everything of the stack, including the function's log group; safe to rerun.

    \b
    Examples:
      authdemo down --local
      authdemo down --dry-run         # what would be deleted
      authdemo down --sweep --yes     # state file lost: find by tag, then delete
      authdemo down --explain         # each AWS call, as the aws command
    """
    from .. import app, console

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

        found, swept = app.sweep(opts, confirm, _observer(title, opts.explain))
        if opts.output == "json":
            console.data_json(
                {"found": [{"type": u.key, "id": u.describe(r)} for u, r in found], "deleted": swept}
            )
        elif not found:
            console.info(f"Nothing of stack {opts.stack!r} found in {opts.region or 'this region'}.")
        elif not swept:
            console.info("Nothing deleted.")
        return
    deleted, result, notes = app.down(opts, _observer(title, opts.explain))
    for note in notes:
        console.info(note)
    if opts.output == "json":
        doc: dict[str, Any] = {"deleted": deleted, "seconds": round(result.total, 2) if result else 0}
        if opts.explain:
            doc["steps"] = _steps(opts, result) if result else {}
        console.data_json(doc)


STATUS_FIELDS = (
    "api_url",
    "rest_api_url",
    "protected_url",
    "endpoint_url",
    "region",
    "user_pool_id",
    "client_id",
    "issuer",
    "username",
    "password",
    "student_username",
    "student_password",
    "state_file",
    "login_url",
    "callback_port",
    "sign_up",
    "m2m_client_id",
    "m2m_client_secret",
)


@cli.command()
@common_options
@click.option(
    "--show-password", is_flag=True, help="Include the passwords of the test user and of the student."
)
@click.option(
    "--field",
    type=click.Choice(STATUS_FIELDS),
    default=None,
    metavar="NAME",
    help=f"Print only this value ({', '.join(STATUS_FIELDS)}), e.g. "
    "DEMO_PASSWORD=$(authdemo status --field password); m2m_client_secret is read from Cognito "
    "and shown only this way.",
)
def status(field: str | None, **kwargs: Any) -> None:
    """List the stack's recorded resources and whether each still exists.

    \b
    Examples:
      authdemo status --output json | jq -r .api_url
      DEMO_PASSWORD=$(authdemo status --field password)
      authdemo status --field login_url
      SECRET=$(authdemo status --field m2m_client_secret)
    """
    from .. import console, show

    opts = _opts(kwargs)
    if field in ("password", "student_password"):
        opts.show_password = True  # asking for the field is asking to see it
    info = show.status(opts, secret=field == "m2m_client_secret", check=field is None)
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
    shown: tuple[str, ...] = ("api_url", "rest_api_url", "endpoint_url", "user_pool_id", "client_id")
    shown += ("login_url", "callback_port")
    users = ("username", "password", "student_username", "student_password")
    for key in (*shown, "m2m_client_id", *users, "state_file"):
        if info.get(key):
            console.out().print(f"{key}: {info[key]}", highlight=False)
    for note in (info.get("api_url_note"), info.get("login_url_note")):
        if note:
            console.info(note)
    if not opts.show_password and info.get("username"):
        console.info(f"The password: `authdemo status --field password{info['cli_flags']}`")


@cli.command()
@common_options(generates_password=True)
@show_token_option
@wait_option
def demo(**kwargs: Any) -> None:
    """`up`, then the guide's four checks at /protected: what `python jwt_authorizer_demo.py` runs.

    With --output json: one document, {"up": ..., "test": ...}; exit 3 if a check fails.
    `authdemo test` then sends every credential to every door.

    \b
    Examples:
      python jwt_authorizer_demo.py --local
      authdemo demo --local --output json | jq .test.passed
    """
    from .. import app, console

    opts = _opts(kwargs)
    up_doc = _up(opts, cleanup=False)
    passed, test_doc = _test(opts, api_note=False)  # `up` said it
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
    from .. import app, console

    opts = _opts(kwargs)
    recorded: dict[str, Any] = {}

    def confirm(path: Path, data: dict[str, Any] | None) -> bool:
        recorded.update(data or {})
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
    from ..login.store import tokens_path

    if tokens_path(kept).exists():
        console.info(f"The tokens of `authdemo login` were set aside with it, as {tokens_path(kept)}.")
    where = "the embedded AWS (until it stops)" if opts.local else "AWS"
    flags = app.cli_flags(opts, region=recorded.get("region"))
    console.info(
        f"Forgot stack {opts.stack!r} (its state is kept as {kept}). Its resources, if any, remain in "
        f"{where}: `authdemo down --sweep{flags}` finds them by tag and IAM path and deletes them."
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

    from ..policy import policy as build

    arn_partition = "aws"
    if stack is not None:
        from ..validate import check_stack

        check_stack(stack)
    if region is not None:
        from ..regions import check_region, partition

        check_region(region, None)
        arn_partition = partition(region)[0]
    if account is not None and not (account.isdigit() and len(account) == 12):
        raise AuthdemoError(f"--account {quoted(account)} is not a 12-digit AWS account ID.", ExitCode.USAGE)
    document = build(stack, arn_partition, region or "*", account or "*")
    click.echo(json.dumps(document, indent=2))
