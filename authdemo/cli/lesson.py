"""Commands of the lesson itself: `test` (the doors, 401 and 200) and `token` (the keys)."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import AuthdemoError, ExitCode
from .base import _opts, _print_commands, cli, common_options, show_token_option, wait_option


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
    from .. import console

    opts = _opts(kwargs)
    passed, doc = _test(opts)
    if opts.output == "json":
        console.data_json(doc)
    if not passed:
        sys.exit(int(ExitCode.CHECK_FAILED))


def _test(opts: Any) -> tuple[bool, dict[str, Any]]:
    """Run `test`; prints the (text) result table, returns whether all passed and the JSON document."""
    from .. import app, console, printed
    from ..checks import Outcome
    from ..tokens import shorten

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
    _print_commands(printed.test_commands(info, checks))
    return passed, doc


CLAIMS_COMPARED = ("token_use", "aud", "client_id", "scope", "cognito:username", "username", "email", "exp")


def _claims_table(claims: dict[str, dict[str, Any]]) -> Any:
    """The ID token beside the access token: the claims that differ, and why it matters."""
    from .. import console

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
@click.option(
    "--user", type=click.Choice(["demo", "student"]), default="demo", help="Sign in as the second user."
)
@click.option("--refresh", is_flag=True, help="New tokens with REFRESH_TOKEN_AUTH (shows it is opaque).")
@click.option("--sign-out", "sign_out", is_flag=True, help="GlobalSignOut; keeps the signed-out token.")
def token(
    kind: str, decode: bool, compare: bool, user: str, refresh: bool, sign_out: bool, **kwargs: Any
) -> None:
    """Sign in as the test user and print a token (in full when piped, or with --show-token).

    \b
    Examples:
      ID_TOKEN=$(authdemo token --local)
      authdemo token --access --decode --local
      authdemo token --compare --local
      authdemo token --user student --access --local
      authdemo token --refresh --local
      authdemo token --sign-out --local
    """
    from .. import app, console
    from ..tokens import decode as decode_token
    from ..tokens import shorten

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
    result: dict[str, Any] = {}
    if user != "demo" or refresh or sign_out:
        if refresh and sign_out:
            raise AuthdemoError(
                "--refresh and --sign-out cannot be combined: run one, then the other.", ExitCode.USAGE
            )
        if kind == "tampered" or compare:
            raise AuthdemoError(
                "--tampered and --compare go with the demo user's own sign-in only.", ExitCode.USAGE
            )
        action = "refresh" if refresh else "sign-out" if sign_out else ""
        result = app.token_action(opts, kind, user=user, action=action)
        value = result["token"]
        if opts.output != "json":
            for key in ("refresh_token", "new_refresh_token", "get_user"):
                if key in result:
                    console.info(f"{key.replace('_', ' ')}: {result[key]}")
            if sign_out:
                console.info("signed out; the old access token is kept in the state file for `authdemo test`")
    else:
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
        console.data_json({**result, "token": shown, "kind": result.get("kind", kind)})
    else:
        click.echo(shown)
        if not full:
            flags = app.cli_flags(opts)
            console.info(
                "(shortened on screen; add --show-token, or pipe it: "
                f"ID_TOKEN=$(authdemo token --{kind}{flags}))"
            )
