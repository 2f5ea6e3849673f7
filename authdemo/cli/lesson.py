"""Commands of the lesson itself: `test` (every key at every door) and `token` (the keys)."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import AuthdemoError, ExitCode
from .base import _opts, _print_commands, cli, common_options, refuse_given, show_token_option, wait_option
from .tables import (
    claims_table,
    doors_table,
    guide_table,
    matrix_tables,
    row_tokens,
    said,
    show_tokens,
    token_table,
    utc,
)


@cli.command()
@common_options
@show_token_option
@wait_option
@click.option(
    "--route",
    "routes",
    multiple=True,
    metavar="ROUTE",
    help="Only these doors: protected, scoped, lambda, iam, m2m (the HTTP API's), rest-protected, "
    "rest-scoped, rest-lambda, rest-lambda-again, rest-iam (the REST API's); repeat or "
    "comma-separate; default all. rest-lambda-again brings rest-lambda along (the cache trap needs "
    "its first door). With protected alone: the guide's four checks.",
)
@click.option(
    "--token",
    default=None,
    metavar="TOKEN",
    help="Check /protected with this token instead of signing in (any issuer's; never printed "
    "unless --show-token): no token 401, the token 200, the token tampered 401.",
)
@click.option(
    "--token-command",
    default=None,
    metavar="CMD",
    help="Like --token, with the token a shell command prints (its stdout, stripped).",
)
def test(routes: tuple[str, ...], **kwargs: Any) -> None:
    """Sign in and send every credential to every door: one matrix of expected and actual statuses.

    Rows: no credential, ID token, access token, tampered ID token, the student's access token,
    an M2M (client-credentials) token, a signed-out access token (signed out last; then again
    after the REST stage's authorizer cache is flushed), a SigV4-signed request, the ID token at
    a mistyped path. Columns: the doors of the HTTP API and of the REST API. Exit status 0 when
    every check passes, 3 when one fails.

    \b
    Examples:
      authdemo test --local
      authdemo test --route protected --local   # the guide's 401 / 200
      authdemo test --route rest-lambda-again --local   # REST's cache trap
      authdemo test --token "$TOKEN"            # any issuer's token: /protected
    """
    from .. import console
    from ..matrix import parse_routes

    opts = _opts(kwargs)
    chosen = parse_routes(routes)
    if (opts.token, opts.token_command) != (None, None):
        if routes and chosen != ("protected",):
            raise AuthdemoError(
                "--token and --token-command check /protected only: drop --route.", ExitCode.USAGE
            )
        refuse_given(("username", "password"), "--token checks your token and signs no one in")
    passed, doc = _test(opts, chosen)
    if opts.output == "json":
        console.data_json(doc)
    if not passed:
        sys.exit(int(ExitCode.CHECK_FAILED))


def _test(
    opts: Any, routes: tuple[str, ...] = ("protected",), api_note: bool = True
) -> tuple[bool, dict[str, Any]]:
    """Run `test`; prints the (text) result, returns whether all passed and the JSON document.
    `api_note`: say why the API URL is not the reported one (`demo`'s `up` already said it)."""
    from .. import console, lesson, printed
    from ..expectations import REST_DOORS

    with console.Waiting("Waiting for the API to answer 401 without a token…") as waiting:
        info, cells, waited = lesson.test(opts, waiting.update, routes)
    passed = all(c.passed for c in cells)
    for note in [info.get("api_url_note") if api_note else None, *info.get("notes", [])]:
        if note:
            console.info(note)
    doc = {
        "passed": passed,
        "api_url": info["api_url"],
        "rest_api_url": info.get("rest_api_url") if any(c.route in REST_DOORS for c in cells) else None,
        "waited": round(waited, 2),
        "checks": [c.as_dict(opts.show_token, row_tokens(cells)) for c in cells],
        "claims": info["claims"],
    }
    if "token_check" in info:  # `--token` (or a stack that trusts another issuer)
        doc["token_check"] = info["token_check"]
    if info.get("skipped"):
        doc["skipped"] = info["skipped"]
        console.info(info["skipped"])
    if opts.output == "json":
        return passed, doc
    if waited > 1:
        console.info(f"The API answered after {waited:.1f}s of warm-up.")
    if "token_check" in info:
        guide_table(info, cells)
        console.show(token_table(info["token_check"]))
        show_tokens(opts, cells)
        _print_commands(printed.token_test_commands(info))
        return passed, doc
    if routes == ("protected",):
        guide_table(info, cells)
    else:
        matrix_tables(info, cells, routes)
    if info["claims"]:
        console.show(claims_table(info["claims"]))
    show_tokens(opts, cells)
    _print_commands(printed.test_commands(info, cells))
    return passed, doc


@cli.command()
@common_options
@show_token_option
@click.option("--id", "kinds", flag_value="id", multiple=True, help="The ID token (default).")
@click.option("--access", "kinds", flag_value="access", multiple=True, help="The access token.")
@click.option(
    "--tampered",
    "kinds",
    flag_value="tampered",
    multiple=True,
    help="The ID token with one claim edited and its signature kept (the API answers 401).",
)
@click.option(
    "--m2m",
    "kinds",
    flag_value="m2m",
    multiple=True,
    help="A client-credentials access token (scope authdemo/read) of the M2M client, as a backend gets one.",
)
@click.option("--decode", is_flag=True, help="Print the token's header and claims (JSON when piped).")
@click.option("--compare", is_flag=True, help="The ID and access token's claims side by side.")
@click.option(
    "--user",
    type=click.Choice(["demo", "student"]),
    default=None,
    help="student: sign in as the second user (or name it with --username).",
)
@click.option("--refresh", is_flag=True, help="New tokens with REFRESH_TOKEN_AUTH (shows it is opaque).")
@click.option("--sign-out", "sign_out", is_flag=True, help="GlobalSignOut; keeps the signed-out token.")
def token(
    kinds: tuple[str, ...],
    decode: bool,
    compare: bool,
    refresh: bool,
    sign_out: bool,
    user: str | None,
    **kwargs: Any,
) -> None:
    """Sign in as the test user and print a token (in full when piped, or with --show-token).

    \b
    Examples:
      ID_TOKEN=$(authdemo token --local)
      authdemo token --access --decode --local
      authdemo token --compare --local
      authdemo token --user student --access --local
      authdemo token --username student@example.com --access --local
      authdemo token --refresh --local
      authdemo token --sign-out --local
      M2M_TOKEN=$(authdemo token --m2m --local)
    """
    from .. import app, console, lesson, printed
    from ..expectations import which_token
    from ..tokens import decode as decode_token
    from ..tokens import shorten, tamper

    opts = _opts(kwargs)
    original: str | None = None
    kind = _one_kind(kinds)
    if kind == "m2m" and (compare or user is not None or refresh or sign_out):
        raise AuthdemoError(
            "--m2m is the M2M client's own token: drop --compare/--user/--refresh/--sign-out.", ExitCode.USAGE
        )
    if kind == "m2m":
        refuse_given(("username", "password"), "--m2m is the M2M client's own token, no user signs in")
        user = "demo"  # not used: no user signs in
    else:
        user = lesson.user_named(opts, user)
    if compare:
        if decode or kind != "id" or refresh or sign_out:
            raise AuthdemoError(
                "--compare shows both tokens: drop --decode/--access/--tampered/--m2m/--refresh/--sign-out.",
                ExitCode.USAGE,
            )
        if user == "student":
            raise AuthdemoError("--compare goes with the demo user's own sign-in only.", ExitCode.USAGE)
        notes: list[str] = []
        about: dict[str, Any] = {}
        both = lesson.tokens(opts, notes, about)
        for note in notes:
            console.info(note)
        side_by_side: dict[str, Any] = {k: decode_token(v)[1] for k, v in both.items()}
        doors = which_token(rest=bool(about.get("rest_routes")))
        if opts.output == "json":
            console.data_json({**side_by_side, "doors": doors})
        else:
            console.show(claims_table(side_by_side))
            console.show(doors_table(doors))
        return
    result: dict[str, Any] = {}
    if user == "student" or refresh or sign_out:
        if refresh and sign_out:
            raise AuthdemoError(
                "--refresh and --sign-out cannot be combined: run one, then the other.", ExitCode.USAGE
            )
        if kind == "tampered":
            raise AuthdemoError("--tampered goes with the demo user's own sign-in only.", ExitCode.USAGE)
        if sign_out and kinds and kind != "access":
            raise AuthdemoError(
                f"--sign-out keeps the access token GlobalSignOut took: drop --{kind}.", ExitCode.USAGE
            )
        if user == "student":
            refuse_given(("password",), "--password is the demo user's; the student's is kept in the state")
        action = "refresh" if refresh else "sign-out" if sign_out else ""
        result = lesson.token_action(opts, kind, user=user, action=action)
        value = result["token"]
        if opts.output != "json":
            for key in ("refresh_token", "new_refresh_token", "get_user"):
                if key in result:
                    console.info(f"{key.replace('_', ' ')}: {said(key, result[key])}")
            if sign_out:
                console.info(
                    "signed out: Cognito refuses this access token now, the JWT doors still take it "
                    "until it expires (`authdemo test` shows it in its signed-out row)"
                )
    elif kind == "m2m":
        value = lesson.m2m_token(opts)
    else:
        notes = []
        both = lesson.tokens(opts, notes)
        value = tamper(both["id"]) if kind == "tampered" else both[kind]
        original = both["id"] if kind == "tampered" else None  # shortened, they must not look alike
        for note in notes:
            console.info(note)
    piped = not sys.stdout.isatty()
    full = opts.show_token or piped
    shown = value if full else shorten(value, original)
    # JSON is data: a key named `token` holds the whole token, a shortened one is said to be so.
    token_field = {"token": value} if full else {"token_shortened": shown}
    if decode:
        header, claims = decode_token(value)
        if opts.output == "json":
            console.data_json({**token_field, "header": header, "claims": claims})
        elif piped:
            console.data_json({"header": header, "claims": claims})
        else:
            console.out().print_json(data={"header": header, "claims": claims})
            for key in ("iat", "auth_time", "exp"):
                if isinstance(claims.get(key), int):
                    console.info(f"{key}: {utc(claims[key])}")
        return
    if opts.output == "json":
        result.pop("token", None)
        console.data_json({**result, **token_field, "kind": result.get("kind", kind)})
    else:
        click.echo(shown)
        if not full:
            action = "refresh" if refresh else "sign-out" if sign_out else ""
            console.info(printed.token_hint(kind, user, action, app.cli_flags(opts)))


def _one_kind(kinds: tuple[str, ...]) -> str:
    """--id, --access, --tampered and --m2m each choose the token: at most one (default --id)."""
    chosen = list(dict.fromkeys(kinds))
    if len(chosen) > 1:
        named = " and ".join(f"--{k}" for k in chosen)
        raise AuthdemoError(f"{named} each choose the token: give one.", ExitCode.USAGE)
    return chosen[0] if chosen else "id"
