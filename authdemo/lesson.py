"""The lesson's own commands: `test` (every credential at every door, or a token you bring) and
`token` (the keys: ID, access, tampered, refreshed, signed out, the M2M client's). The click
layer (cli/lesson.py) prints what these return; app.py builds and deletes the stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import external_issuer, m2m

# ---------------------------------------------------------------------------------- commands
from .app import summary
from .errors import AuthdemoError, UnreachableError
from .stack import (
    DOORS,
    Options,
    open_stack,
    require,
    require_server,
)


def test(
    opts: Options, on_wait: Callable[[str], None], routes: tuple[str, ...] = DOORS
) -> tuple[dict[str, Any], list[Any], float]:
    """Sign in and run every credential against each of `routes` (matrix.py); `info["claims"]`
    holds both tokens' claims, side by side. The signed-out row signs in a session of its own
    and signs it out just before its requests, after every other row."""
    from . import aws
    from .checks import Prober
    from .login.commands import login_tokens
    from .matrix import Credential, rows_for, run_matrix
    from .oauth import is_cognito_domain
    from .tokens import decode, sign_in, sign_out, tamper

    token = external_issuer.token_from(opts) if (opts.token, opts.token_command) != (None, None) else None
    with open_stack(opts, "test", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        if token is not None or (stack.store and stack.store.get("issuer")):
            return external_issuer.test(stack, token, on_wait)
        skipped = None
        if not all(stack.store and stack.store.resource(k) for k in m2m.KEYS):
            skipped = "No M2M row or /m2m column: this stack has no domain yet; `authdemo up` adds it."
            routes = tuple(r for r in routes if r != "m2m") or ("protected",)
        rows = tuple(r for r in rows_for(routes) if r != "m2m" or not skipped)
        store = require(stack, "api", "app_client", "user", *(["student"] if "student" in rows else []))
        info = summary(stack)
        if skipped:
            info["skipped"] = skipped
        client_id, username = info["client_id"], info["username"]
        password = opts.password or store.get("password")
        info["notes"] = []
        tokens = login_tokens(stack, client_id, username, info["notes"]) or sign_in(
            stack.clients, client_id, username, password
        )
        made: dict[str, Credential] = {
            "none": Credential("none"),
            "id": Credential("id", tokens["id"], username),
            "access": Credential("access", tokens["access"], username),
            "tampered": Credential("tampered", tamper(tokens["id"])),
        }
        if "student" in rows:
            student = stack.names.student
            student_tokens = sign_in(stack.clients, client_id, student, store.get("student_password"))
            made["student"] = Credential("student", student_tokens["access"], student)
        if "signed-out" in rows:
            session = sign_in(stack.clients, client_id, username, password)["access"]
            made["signed-out"] = Credential(
                "signed-out", session, username, before=lambda: sign_out(stack.clients, session)
            )
        domain_waited = 0.0  # a new domain on AWS may not answer for a minute: within --wait
        if "m2m" in rows:
            try:
                m2m_token, domain_waited = m2m.token_when_ready(stack.clients, store, opts.wait, on_wait)
                made["m2m"] = Credential("m2m", m2m_token, info["m2m_client_id"])
            except UnreachableError:
                if not stack.target.endpoint_url or is_cognito_domain(
                    (store.resource("domain") or {}).get("url", "")
                ):
                    raise
                # An embedded AWS without managed login (before issue 11) has no token endpoint.
                info["skipped"] = "No M2M row: this endpoint does not serve Cognito's token endpoint."
                rows = tuple(r for r in rows if r != "m2m")
        if "sigv4" in rows:
            region = stack.region
            made["sigv4"] = Credential(
                "sigv4", sign=lambda url: aws.sign_request(stack.clients, "GET", url, region)
            )
        urls = {route: info["routes"][route] for route in routes}
        cells, waited = run_matrix(
            Prober(info["protected_url"]),
            [made[key] for key in rows],
            urls,
            on_wait,
            max(opts.wait - domain_waited, 0.0),
        )
        waited += domain_waited
        info["claims"] = {kind: decode(tokens[kind])[1] for kind in ("id", "access")}
        if "signed-out" in rows:
            from .login import store as kept

            if kept.remove(stack.path):
                info["notes"].append(
                    "The signed-out row signed the user out everywhere, which revoked `authdemo login`'s "
                    "tokens: they were forgotten; `authdemo login` signs in again."
                )
        info["port"] = stack.server.port if stack.server else None
        info["profile"] = None if opts.local else opts.profile
        return info, cells, waited


def tokens(opts: Options, notes: list[str] | None = None) -> dict[str, str]:
    """The ID and access tokens of the demo user (`token`, `token --compare`): `authdemo login`'s
    while they are kept and valid (a line in `notes` says so), else of a sign-in with the password."""
    from .login.commands import login_tokens
    from .tokens import sign_in

    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        store = require(stack, "app_client", "user")
        info = summary(stack)
        signed_in = login_tokens(stack, info["client_id"], info["username"], notes) or sign_in(
            stack.clients, info["client_id"], info["username"], opts.password or store.get("password")
        )
        return {kind: signed_in[kind] for kind in ("id", "access")}  # the refresh token is no JWT


def token_action(opts: Options, kind: str, *, user: str = "demo", action: str = "") -> dict[str, Any]:
    """`token --user student`, `--refresh` (REFRESH_TOKEN_AUTH after signing in) and `--sign-out`
    (GlobalSignOut, then GetUser shows Cognito refusing the token; `test` signs out a session of
    its own for its signed-out row, so nothing is kept)."""
    from . import tokens as tok

    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        store = require(stack, "app_client", "student" if user == "student" else "user")
        info = summary(stack)
        if user == "student":
            username, password = stack.names.student, store.get("student_password")
        else:
            username, password = info["username"], opts.password or store.get("password")
        signed_in = tok.sign_in(stack.clients, info["client_id"], username, password)
        out: dict[str, Any] = {"user": username, "kind": kind}
        if action == "refresh":
            refresh_token = signed_in.get("refresh", "")
            fresh = tok.refresh(stack.clients, info["client_id"], refresh_token)
            out.update(
                token=fresh[kind],
                refreshed=True,
                refresh_token=tok.opacity(refresh_token),
                new_refresh_token="refresh" in fresh,
            )
        elif action == "sign-out":
            tok.sign_out(stack.clients, signed_in["access"])
            try:
                stack.clients("cognito-idp").get_user(AccessToken=signed_in["access"])
                verdict = "accepted"
            except AuthdemoError as exc:
                verdict = f"refused: {exc.aws_code} {exc.aws_message}".strip()
            out.update(token=signed_in["access"], kind="access", signed_out=True, get_user=verdict)
        else:
            out["token"] = signed_in[kind]
        return out


def m2m_token(opts: Options) -> str:
    """A client-credentials access token for `authdemo/read`, as a backend service gets one."""
    with open_stack(opts, "token", write=False, start_server=False, require_state=True) as stack:
        require_server(stack)
        return m2m.token(stack.clients, require(stack, "user_pool", "domain", "m2m_client"))
