"""The commands authdemo prints for a presenter to paste: the course guide's, filled in.

Each one is complete: whatever it needs is in the line, or set by an earlier printed line.
"""

from __future__ import annotations

import json
import shlex
from typing import Any


def guide_commands(info: dict[str, Any]) -> list[tuple[str, str]]:
    """The course guide's commands, filled in for this stack (comment, command).

    Each works when pasted in order into a fresh shell: whatever a line uses is set by an
    earlier one. InitiateAuth is an unauthenticated call, so the aws line needs no credentials.
    """
    q = shlex.quote
    endpoint = f" --endpoint-url {q(info['endpoint_url'])}" if info.get("endpoint_url") else ""
    url = q(info["protected_url"])
    flags = info.get("cli_flags", "")
    return [
        ("WITHOUT token - expect 401", f"curl -s -w '\\n' {url}"),
        (
            "The test user's password, for the guide's command",
            f"DEMO_PASSWORD=$(authdemo status --field password{flags})",
        ),
        (
            "The guide's --auth-parameters as JSON (its USERNAME=...,PASSWORD=... form splits a "
            "password at its commas); sed escapes the password's \\ and \" for JSON",
            auth_parameters_line(info["username"]),
        ),
        (
            "Get an ID token: the guide's command (InitiateAuth needs no AWS credentials)",
            f"ID_TOKEN=$(aws cognito-idp initiate-auth{endpoint} --region {q(info['region'])} "
            "--no-sign-request "
            f"--auth-flow USER_PASSWORD_AUTH --client-id {q(info['client_id'])} "
            '--auth-parameters "$AUTH_PARAMETERS" '
            "--query AuthenticationResult.IdToken --output text)",
        ),
        ("... or simply", f"ID_TOKEN=$(authdemo token --id{flags})"),
        ("WITH valid token - expect 200", f"curl -s -w '\\n' -H \"Authorization: Bearer $ID_TOKEN\" {url}"),
        ("Decode the token", f"authdemo token --id --decode{flags}"),
        ("The ID token beside the access token", f"authdemo token --compare{flags}"),
        ("Clean up", f"authdemo down{flags}"),
    ]


def auth_parameters_line(username: str) -> str:
    """`AUTH_PARAMETERS=...`: InitiateAuth's AuthParameters as JSON, the password read from
    `$DEMO_PASSWORD` (set by the line before) and never printed.

    The aws CLI's shorthand `USERNAME=u,PASSWORD=p` splits at every comma, and a Cognito password
    may hold any of ^ $ * . [ ] { } ( ) ? " ! @ # % & / \\ , > < ' : ; | _ ~ ` = + - and inner
    spaces (docs/aws-notes.md): in JSON only `"` and `\\` need escaping, which sed does (POSIX,
    the same in bash and zsh); `printf '%s'` passes the rest through untouched, and the username
    is a JSON string shell-quoted."""
    escaped = "$(printf '%s' \"$DEMO_PASSWORD\" | sed 's/[\\\\\"]/\\\\&/g')"
    username = shlex.quote(json.dumps(username))
    return f"""AUTH_PARAMETERS=$(printf '{{"USERNAME":%s,"PASSWORD":"%s"}}' {username} "{escaped}")"""


#: The cells whose curl lines `test` prints, in order (the signed-out ones last: signing out
#: revokes every earlier token of the user). With `--route protected`: the guide's four.
PRINTED_CELLS = (
    ("none", "protected"),
    ("id", "protected"),
    ("access", "protected"),
    ("tampered", "protected"),
    ("id", "scoped"),
    ("access", "lambda"),
    ("student", "lambda"),
    ("sigv4", "iam"),
    ("m2m", "m2m"),
    ("id", "m2m"),
    # The REST API (issue 21): the other kind of token at each Cognito door, the cache trap.
    ("id", "rest-protected"),
    ("access", "rest-protected"),
    ("access", "rest-scoped"),
    ("access", "rest-lambda"),
    ("access", "rest-lambda-again"),
    ("student", "rest-lambda"),
    ("none", "rest-iam"),
    ("sigv4", "rest-iam"),
    ("typo", "protected"),
    ("typo", "rest-protected"),
    ("signed-out", "protected"),
    ("signed-out", "lambda"),
    ("signed-out", "rest-lambda"),  # sent with ACCESS_TOKEN: its Allow was cached above
    ("flushed", "rest-lambda"),  # after the flush line
)


def token_line(kind: str = "id", user: str = "demo", action: str = "") -> tuple[str, str]:
    """(shell variable, `authdemo token` options) that print again a token like the one asked
    for: the same user, kind and action, in a variable named for what it holds. A signed-out
    token is only ever an access token (`--sign-out` signs out a new session each time)."""
    student = user == "student"
    if kind == "m2m":
        return "M2M_TOKEN", "--m2m"
    if action == "sign-out":
        name, options = "SIGNED_OUT_TOKEN", ["--sign-out"]
    elif kind == "tampered":
        name, options = "TAMPERED_TOKEN", ["--tampered"]
    else:
        name = "STUDENT_TOKEN" if student and kind == "access" else f"{kind.upper()}_TOKEN"
        options = [f"--{kind}"]
        if action == "refresh":
            name, options = f"REFRESHED_{name}", [*options, "--refresh"]
    if student:
        name = name if name.startswith("STUDENT_") else f"STUDENT_{name}"
        options = ["--user", "student", *options]
    return name, " ".join(options)


#: credential of the matrix: (shell variable, `authdemo token` options) that print its token.
TOKEN_LINES = {
    "id": token_line("id"),
    "access": token_line("access"),
    "tampered": token_line("tampered"),
    "student": token_line("access", "student"),
    "signed-out": token_line("access", action="sign-out"),
    "m2m": token_line("m2m"),
}


def token_hint(kind: str, user: str, action: str, flags: str) -> str:
    """What `token` says under a token it shortened on a terminal: how to get that token whole.
    A signed-out token cannot be printed again (a second `--sign-out` signs out a new session),
    so its hint says so instead of pretending to reproduce it."""
    name, options = token_line(kind, user, action)
    line = f"{name}=$(authdemo token {options}{flags})"
    if action == "sign-out":
        return (
            "(shortened on screen, and this signed-out token cannot be printed again: add --show-token "
            f"next time; `{line}` signs out a new session and keeps its token)"
        )
    return f"(shortened on screen; add --show-token, or pipe it: {line})"


def test_commands(info: dict[str, Any], cells: list[Any]) -> list[tuple[str, str]]:
    """The curl lines of a few cells, each variable set by an earlier line (comment, command).

    The SigV4 line (and the flush) use the shell's AWS_* variables: the embedded AWS's key after
    `authdemo local env`, or the presenter's own after `aws configure export-credentials`. The
    REST cache lesson pastes as: ACCESS_TOKEN let in at REST /lambda (its Allow cached), the user
    signed out everywhere by `token --sign-out`, ACCESS_TOKEN still let in there (the cache),
    `aws apigateway flush-stage-authorizers-cache`, then refused (401)."""
    from .checks import curl, curl_sigv4
    from .matrix import door_of, expected_text

    flags = info.get("cli_flags", "")
    by_key = {(c.credential.key, c.route): c for c in cells}
    full = len({c.credential.key for c in cells}) > 4
    lines: list[tuple[str, str]] = []
    set_vars: set[str] = set()
    for key, route in PRINTED_CELLS:
        cell = by_key.get((key, route))
        if cell is None or (full and key == "tampered"):
            continue
        comment = f"{cell.credential.label} on {door_of(cell)}: {expected_text(cell)}"
        if key in ("sigv4", "flushed") and "AWS" not in set_vars:
            set_vars.add("AWS")
            lines.append((comment, aws_setup(info)))
            comment = ""
        if key == "sigv4":
            lines.append((comment, curl_sigv4(cell.url, info["region"])))
            continue
        var = None
        if key in ("signed-out", "flushed") and route == "rest-lambda":
            if ("access", "rest-lambda") not in by_key:
                continue  # nothing was cached for ACCESS_TOKEN: the lesson needs that line first
            var = TOKEN_LINES["access"][0]  # revoked by `token --sign-out` above, cached here
            comment = f"{var}, revoked by that sign-out, on REST /lambda: {expected_text(cell)}" + (
                " (the Allow cached above)" if key == "signed-out" else " (asked again after the flush)"
            )
            if key == "flushed":
                lines.append(("Empty the REST stage's authorizer cache", flush_line(info, cell.url)))
        elif key in TOKEN_LINES:
            var, options = TOKEN_LINES[key]
            if var not in set_vars:
                set_vars.add(var)
                lines.append((comment, f"{var}=$(authdemo token {options}{flags})"))
                comment = ""
        lines.append((comment, curl(cell.url, var)))
    return lines


def aws_setup(info: dict[str, Any]) -> str:
    """The line that puts credentials in the shell's AWS_* variables: the embedded AWS's (with its
    endpoint) or the presenter's profile's."""
    q = shlex.quote
    if info.get("local"):
        port = f" --port {info['port']}" if info.get("port") else ""
        return f'eval "$(authdemo local env{port})"'
    profile = f" --profile {q(info['profile'])}" if info.get("profile") else ""
    return f'eval "$(aws configure export-credentials --format env{profile})"'


def flush_line(info: dict[str, Any], url: str) -> str:
    """`aws apigateway flush-stage-authorizers-cache` for the REST API a door URL belongs to."""
    from .matrix import rest_api_of

    q = shlex.quote
    api_id, stage = rest_api_of(info.get("rest_api_url") or url)
    endpoint = f" --endpoint-url {q(info['endpoint_url'])}" if info.get("endpoint_url") else ""
    return (
        f"aws apigateway flush-stage-authorizers-cache{endpoint} --region {q(info['region'])} "
        f"--rest-api-id {q(api_id)} --stage-name {q(stage)}"
    )


def issuer_commands(info: dict[str, Any]) -> list[tuple[str, str]]:
    """A stack that trusts an external issuer (`up --issuer`): the 401 without a token, then a
    token of that issuer at /protected. With the embedded AWS's own issuer a line gets the
    token; another issuer's token comes from you (the comment says which; README, "Any OIDC
    issuer", shows how for Auth0 and Okta)."""
    from urllib.parse import urlsplit

    from .external_issuer import is_local_issuer, local_token_command

    url = shlex.quote(info["protected_url"])
    flags = info.get("cli_flags", "")
    audience = info["audience"][0]
    with_token = f"curl -s -w '\\n' -H \"Authorization: Bearer $TOKEN\" {url}"
    if is_local_issuer(info["issuer"] or ""):
        command = local_token_command(audience, urlsplit(info["issuer"]).port)
        token_lines = [
            ("A token from the embedded AWS's issuer", f"TOKEN=$({command})"),
            ("WITH the token - expect 200", with_token),
        ]
    else:
        where = f"an access token of {info['issuer']} for audience {audience}"
        token_lines = [(f"WITH the token - expect 200 (set TOKEN to {where} first: README)", with_token)]
    return [
        ("WITHOUT token - expect 401", f"curl -s -w '\\n' {url}"),
        *token_lines,
        ("No token, the token, the token tampered; and why", f'authdemo test --token "$TOKEN"{flags}'),
        ("Clean up", f"authdemo down{flags}"),
    ]


def token_test_commands(info: dict[str, Any]) -> list[tuple[str, str]]:
    """`test --token`'s curl lines: TOKEN is set by the `--token-command` when one was given."""
    url = shlex.quote(info["protected_url"])
    lines = [("WITHOUT token - expect 401", f"curl -s -w '\\n' {url}")]
    with_token = f"curl -s -w '\\n' -H \"Authorization: Bearer $TOKEN\" {url}"
    if info.get("token_command"):
        lines += [("Your token", f"TOKEN=$({info['token_command']})"), ("WITH it - expect 200", with_token)]
    else:
        lines.append(("WITH your token (in TOKEN) - expect 200", with_token))
    return lines


def shell_setup() -> list[tuple[str, str]]:
    """The line that puts `authdemo` and `aws` on a pasting shell's PATH, when only this run has them.

    `uv run authdemo ...` (the README's Quick start) puts the project's environment on the PATH of
    this process alone: the presenter's shell has neither `authdemo` nor the test group's `aws`,
    so the printed lines would fail with "command not found" unless an earlier line activates it.
    """
    import os
    import sysconfig

    if not os.environ.get("UV_RUN_RECURSION_DEPTH"):
        return []  # not started by `uv run`: the shell that started us has our PATH
    scripts = sysconfig.get_path("scripts")
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if scripts in entries:
        entries.remove(scripts)  # the one uv prepended; the shell's own PATH is the rest
    if scripts in entries:
        return []
    activate = os.path.join(scripts, "activate")
    return [
        (
            "Put authdemo and aws on this shell's PATH (uv run did it for its own run only)",
            f". {shlex.quote(activate)}",
        )
    ]


def explain_setup(target: Any, port: int | None = None) -> str:
    """`--explain`: the line after which the printed `aws` commands reach the same AWS (they
    carry no --endpoint-url, --region or --profile: the slide's command as a person types it)."""
    from .local.names import DEFAULT_PORT  # constants only

    q = shlex.quote
    region = f"AWS_REGION={q(target.region)} AWS_DEFAULT_REGION={q(target.region)}"
    if target.local:
        port_flag = f" --port {port}" if port and port != DEFAULT_PORT else ""
        return f'eval "$(authdemo local env{port_flag})" && export {region}'
    extra = f" AWS_ENDPOINT_URL={q(target.endpoint_url)}" if target.endpoint_url else ""
    extra += f" AWS_PROFILE={q(target.profile)}" if target.profile else ""
    return f"export {region}{extra}"
